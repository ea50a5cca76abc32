import { buildCampaignConsoleCard } from '../../../cards/campaign.card';
import type { CardSpec } from '../../../cards/kit';
import { getCampaign, selfEvaluationProgress } from '../../store/campaign.repo';
import { failedDeliveries } from '../../store/outbox-status.repo';
import type { Executor } from '../../store/db';
import { peopleWithRole } from '../../store/org.repo';
import type { OutboundMessage } from '../../store/outbox.repo';
import { subjects } from '../self-evaluation/view';

export async function buildConsoleCard(db: Executor, campaignId: number, audience: 'evaluator' | 'leader', now: number, error?: string): Promise<CardSpec | null> {
  const c = await getCampaign(db, campaignId);
  if (!c) return null;
  const progress = await selfEvaluationProgress(db, campaignId);
  const failed = audience === 'evaluator' ? await failedDeliveries(db, 20) : [];
  return buildCampaignConsoleCard({
    campaignId, name: c.name, schemeName: c.schemeName, stages: c.stages, progress, audience, now, error,
    failedDeliveries: failed.map((f) => ({ personName: f.personName, reason: f.lastError ?? '原因未知' })),
  });
}

/**
 * Console cards for the campaign's evaluators and leaders: sent once when `kind` is send,
 * refreshed in place after each change when update. `tag` makes each refresh a distinct delivery.
 */
export async function consoleMessages(db: Executor, campaignId: number, kind: 'send' | 'update', tag: string, now: number): Promise<OutboundMessage[]> {
  const out: OutboundMessage[] = [];
  for (const audience of ['evaluator', 'leader'] as const) {
    const card = await buildConsoleCard(db, campaignId, audience, now);
    if (!card) continue;
    for (const p of await peopleWithRole(db, audience, { campaignId })) {
      out.push({ dedupeKey: `${subjects.console(campaignId)}:${kind}:${tag}:${p.id}`, kind, personId: p.id, subject: subjects.console(campaignId), card });
    }
  }
  return out;
}
