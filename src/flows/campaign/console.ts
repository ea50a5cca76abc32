import { buildCampaignConsoleCard } from '../../../cards/campaign.card';
import type { CardSpec } from '../../../cards/kit';
import { getCampaign, selfEvaluationProgress } from '../../store/campaign.repo';
import { failedDeliveries } from '../../store/outbox-status.repo';
import type { Executor } from '../../store/db';
import { peopleWithRoles } from '../../store/org.repo';
import type { OutboundMessage } from '../../store/outbox.repo';
import { subjects } from '../self-evaluation/view';
import { createCalendar } from '../../domain/calendar';
import { lateTargets } from '../../domain/reminders';
import { holds, type Actor } from '../../domain/roles';
import { stageTargets } from '../../store/reminders.repo';

/** The working-day calendar the console and 催办 count with (built once per process). */
export const CALENDAR = createCalendar();

/** Who sees the console: the campaign's evaluator (may act) or leader (reads, may 催办). */
export function consoleAudience(actor: Actor, campaignId: number): 'evaluator' | 'leader' | null {
  return holds(actor, 'evaluator', { campaignId }) ? 'evaluator' : holds(actor, 'leader', { campaignId }) ? 'leader' : null;
}

export async function buildConsoleCard(db: Executor, campaignId: number, audience: 'evaluator' | 'leader', now: number, error?: string): Promise<CardSpec | null> {
  const data = await loadConsole(db, campaignId, audience === 'evaluator');
  return data && consoleCard(data, audience, now, error);
}

/** What both audiences' consoles show, read once (failed deliveries only for the evaluator's). */
async function loadConsole(db: Executor, campaignId: number, withFailures: boolean) {
  const c = await getCampaign(db, campaignId);
  if (!c) return null;
  return { c, progress: await selfEvaluationProgress(db, campaignId), failed: withFailures ? await failedDeliveries(db, 20) : [], targets: await stageTargets(db, { campaignId }) };
}

function consoleCard({ c, progress, failed, targets }: NonNullable<Awaited<ReturnType<typeof loadConsole>>>, audience: 'evaluator' | 'leader', now: number, error?: string): CardSpec {
  const late = lateTargets({ now, calendar: CALENDAR, targets });
  const dueYear = targets[0] ? Number(targets[0].dueDate.slice(0, 4)) : null;
  return buildCampaignConsoleCard({
    campaignId: c.id, name: c.name, schemeName: c.schemeName, stages: c.stages, progress, audience, now, error,
    late: late.map((l) => ({ unitName: l.unitName, group: l.group, overdueWorkdays: l.overdueWorkdays })),
    calendarNote: dueYear === null ? null : CALENDAR.describeYear(dueYear),
    failedDeliveries: audience === 'evaluator' ? failed.map((f) => ({ personName: f.personName, reason: f.lastError ?? '原因未知' })) : [],
  });
}

/**
 * Console cards for the campaign's evaluators and leaders: sent once when `kind` is send,
 * refreshed in place after each change when update. `tag` makes each refresh a distinct delivery.
 */
export async function consoleMessages(db: Executor, campaignId: number, kind: 'send' | 'update', tag: string, now: number): Promise<OutboundMessage[]> {
  const data = await loadConsole(db, campaignId, true);
  if (!data) return [];
  const audience = await peopleWithRoles(db, ['evaluator', 'leader'], campaignId);
  const out: OutboundMessage[] = [];
  for (const role of ['evaluator', 'leader'] as const) {
    const card = consoleCard(data, role, now);
    for (const p of audience.filter((a) => a.role === role)) {
      out.push({ dedupeKey: `${subjects.console(campaignId)}:${kind}:${tag}:${p.id}`, kind, personId: p.id, subject: subjects.console(campaignId), card });
    }
  }
  return out;
}
