/**
 * Ledgers on the scheduler: each day just after midnight the entries of the new period are
 * created (set-based, idempotent); the reminder job reminds whoever has an open entry; the
 * summaries count the entries that fell due.
 */
import { encodeAction } from '../../cards/actions';
import { daily } from '../domain/schedule';
import type { ReminderTarget } from '../domain/reminders';
import { campaignPeople, reminderPolicyOverrides } from '../store/reminders.repo';
import { ensureLedgerEntries, ledgerEntriesDueBetween, ledgerTargets } from '../store/ledger.repo';
import { writeTransaction } from '../store/serialize';
import { policyFrom, type TargetBatch, type TargetSource } from './reminders.job';
import { sectionOf, type SectionSource } from './summaries.job';
import type { Job } from './tick';

export const ledgerEntriesJob: Job = {
  name: 'ledger-entries',
  schedule: daily('00:10'),
  run: async ({ deps, now }) => writeTransaction(deps.db, (tx) => ensureLedgerEntries(tx, now)),
};

/** Open ledger entries, one batch per ledger and campaign (the ledger's policy; that campaign's, or the standing, leaders). */
export const ledgerSource: TargetSource = async (deps, now) => {
  const targets = await ledgerTargets(deps.db, now);
  const batches = new Map<string, { policy: unknown; campaignId: number | null; targets: Array<(typeof targets)[number]> }>();
  for (const t of targets) {
    const key = `${t.definitionId}:${t.campaignId ?? ''}`;
    const b = batches.get(key) ?? { policy: t.reminderPolicy, campaignId: t.campaignId, targets: [] };
    b.targets.push(t);
    batches.set(key, b);
  }
  const leadersOf = new Map<number | null, number[]>();
  const out: TargetBatch[] = [];
  for (const [key, b] of batches) {
    if (!leadersOf.has(b.campaignId)) leadersOf.set(b.campaignId, (await campaignPeople(deps.db, 'leader', b.campaignId)).map((p) => p.id));
    // The ledger's own policy, then the campaign's overrides (a campaign may tighten or relax it).
    const campaignPolicy = b.campaignId === null ? null : (await reminderPolicyOverrides(deps.db, b.campaignId))?.campaign;
    out.push({
      source: `ledger ${key}`,
      policy: policyFrom([b.policy, campaignPolicy].filter((p) => p !== null && p !== undefined), deps.log, `ledger ${key}`),
      leaders: leadersOf.get(b.campaignId)!,
      targets: b.targets.map((t) => ({ ...t, open: encodeAction('ledger.open', { entryId: t.entryId }) })),
    });
  }
  return out;
};

/** Ledger entries that fell due in the period, one section per ledger. */
export const ledgerSections: SectionSource = async (deps, period, { now, calendar }) => {
  const entries = await ledgerEntriesDueBetween(deps.db, period.from, period.to);
  const byLedger = new Map<string, ReminderTarget[]>();
  for (const e of entries) {
    const t: ReminderTarget = { key: `ledger:${e.entryId}`, title: `${e.definitionName}（${e.period}）`, unitId: e.unitId, unitName: e.unitName, group: e.group, dueDate: e.dueDate, done: e.submitted, assignees: [], heads: [] };
    byLedger.set(e.definitionName, [...(byLedger.get(e.definitionName) ?? []), t]);
  }
  return [...byLedger].map(([name, ts]) => sectionOf(name, ts, now, calendar));
};
