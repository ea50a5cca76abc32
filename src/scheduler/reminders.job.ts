/**
 * The reminder job: every hour, plans today's reminders for every open deadline (campaign
 * stages, ledger entries) with the working-day calendar and each deadline's policy, and puts
 * them in the outbox. The planner's keys are per person, target, kind and local date, and the
 * outbox keeps one row per key, so a second tick, a second instance or a re-run after a crash
 * sends nothing twice. Only people who have not completed are reminded.
 */
import type { ActionRef } from '../../cards/kit';
import { encodeAction } from '../../cards/actions';
import { buildLeaderDigestCard, buildReminderCard } from '../../cards/reminder.card';
import type { WorkCalendar } from '../domain/calendar';
import { hourly } from '../domain/schedule';
import { DEFAULT_REMINDER_POLICY, mergePolicy, planReminders, type PlannedReminder, type ReminderPolicy, type ReminderTarget } from '../domain/reminders';
import type { Deps } from '../deps';
import { enqueue, type OutboundMessage } from '../store/outbox.repo';
import { campaignPeople, stageTargets } from '../store/reminders.repo';
import { writeTransaction } from '../store/serialize';
import type { Job } from './tick';

/** Deadlines that share a policy and a set of leaders. */
export interface TargetBatch {
  readonly source: string;
  readonly policy: ReminderPolicy;
  readonly leaders: readonly number[];
  readonly targets: ReadonlyArray<ReminderTarget & { readonly open?: ActionRef }>;
}

export type TargetSource = (deps: Deps, now: number) => Promise<TargetBatch[]>;

/** Applies overrides in order; a bad override is reported and the defaults are used instead. */
export function policyFrom(overrides: readonly unknown[], log: Deps['log'], where: string): ReminderPolicy {
  try {
    return overrides.reduce<ReminderPolicy>((p, o) => mergePolicy(p, o), DEFAULT_REMINDER_POLICY);
  } catch (e) {
    log.error('invalid reminder policy; using the defaults', { where, error: e instanceof Error ? e.message : String(e) });
    return DEFAULT_REMINDER_POLICY;
  }
}

/** Open 自评 stages: one batch per campaign (its policy, its leaders). */
export const stageSource: TargetSource = async (deps) => {
  const targets = await stageTargets(deps.db);
  const byCampaign = new Map<number, typeof targets>();
  for (const t of targets) byCampaign.set(t.campaignId, [...(byCampaign.get(t.campaignId) ?? []), t]);
  const batches: TargetBatch[] = [];
  for (const [campaignId, ts] of byCampaign) {
    batches.push({
      source: `campaign ${campaignId}`,
      policy: policyFrom(ts[0]!.policyOverrides, deps.log, `campaign ${campaignId}`),
      leaders: (await campaignPeople(deps.db, 'leader', campaignId)).map((p) => p.id),
      targets: ts.map((t) => ({ ...t, ...(t.evaluationId ? { open: encodeAction('self-eval.open', { evaluationId: t.evaluationId }) } : {}) })),
    });
  }
  return batches;
};

/** The outbox messages for a batch's planned reminders. */
export function reminderMessages(batch: TargetBatch, planned: readonly PlannedReminder[], calendar: WorkCalendar): OutboundMessage[] {
  const byKey = new Map(batch.targets.map((t) => [t.key, t]));
  return planned.map((r): OutboundMessage => {
    if (r.kind === 'leader-digest') {
      return {
        dedupeKey: r.dedupeKey, kind: 'send', personId: r.personId, subject: `remind:digest:${r.date}`,
        card: buildLeaderDigestCard({ date: r.date, late: r.late.map((l) => ({ unitName: l.unitName, group: l.group, title: l.title, due: l.effectiveDue, overdueWorkdays: l.overdueWorkdays })) }),
      };
    }
    const t = byKey.get(r.targetKey)!;
    const card = buildReminderCard({
      kind: r.kind, title: r.title, unitName: t.unitName, due: r.effectiveDue, workdaysLeft: r.workdaysLeft, overdueWorkdays: r.overdueWorkdays, toHead: r.toHead,
      ...(t.open ? { open: t.open } : {}),
      calendarNote: calendar.describeYear(Number(r.effectiveDue.slice(0, 4))),
    });
    return { dedupeKey: r.dedupeKey, kind: 'send', personId: r.personId, subject: `remind:${r.targetKey}`, card, ...(r.urgent ? { urgent: 'app' as const } : {}) };
  });
}

/** Plans and enqueues today's reminders for every batch; returns the counts. */
export async function runReminders(deps: Deps, calendar: WorkCalendar, sources: readonly TargetSource[], now: number) {
  let planned = 0;
  let targets = 0;
  const messages: OutboundMessage[] = [];
  for (const source of sources) {
    for (const batch of await source(deps, now)) {
      targets += batch.targets.length;
      const plan = planReminders({ now, calendar, policy: batch.policy, targets: batch.targets, leaders: batch.leaders });
      planned += plan.length;
      messages.push(...reminderMessages(batch, plan, calendar));
    }
  }
  // Several transactions of a bounded size: a large campaign does not hold the write lock long.
  for (let i = 0; i < messages.length; i += 500) {
    const part = messages.slice(i, i + 500);
    await writeTransaction(deps.db, (tx) => enqueue(tx, part, now));
  }
  return { targets, planned };
}

export function reminderJob(calendar: WorkCalendar, sources: readonly TargetSource[]): Job {
  return {
    name: 'reminders',
    schedule: hourly(),
    run: async ({ deps, now }) => runReminders(deps, calendar, sources, now),
  };
}
