import { REFUSAL_TEXT } from '../../../cards/messages';
import { buildSelfEvaluationCard } from '../../../cards/self-evaluation.card';
import { decideOpenSelfEvaluation } from '../../domain/campaign';
import { holds } from '../../domain/roles';
import { toast, type Reply } from '../../bot/inbound';
import type { ActionContext } from '../../bot/router';
import { appendAudit } from '../../store/audit.repo';
import { campaignUnitList, getCampaign, openSelfEvaluationStage } from '../../store/campaign.repo';
import { peopleWithRole } from '../../store/org.repo';
import { enqueue, type OutboundMessage } from '../../store/outbox.repo';
import { loadEvaluation } from '../../store/self-evaluation.repo';
import { writeTransaction } from '../../store/serialize';
import { subjects, toView } from '../self-evaluation/view';
import { buildConsoleCard, consoleMessages } from './console';

/** The evaluator opens 单位自评: every unit's filler gets the form, in the same transaction as the stage change. */
export async function handleOpenSelfEvaluation(ctx: ActionContext<'campaign.open-self-eval'>): Promise<Reply> {
  const { deps, actor, value, form, now } = ctx;
  const campaign = await getCampaign(deps.db, value.campaignId);
  if (!campaign) return toast('error', REFUSAL_TEXT.not_found);
  const stage = campaign.stages.find((s) => s.stage === 'self_evaluation');
  if (!stage) return toast('error', REFUSAL_TEXT.not_found);
  const units = await campaignUnitList(deps.db, campaign.id);
  const due = typeof form.due === 'string' ? form.due : '';
  const decided = decideOpenSelfEvaluation({ campaignId: campaign.id, campaignStatus: campaign.status, stage, unitCount: units.length }, actor, due, now);
  if (!decided.ok) {
    if (decided.refusal === 'forbidden') return toast('error', REFUSAL_TEXT.forbidden);
    const card = await buildConsoleCard(deps.db, campaign.id, 'evaluator', now, REFUSAL_TEXT[decided.refusal]);
    return toast('error', REFUSAL_TEXT[decided.refusal], card ?? undefined);
  }
  const opened = await writeTransaction(deps.db, async (tx) => {
    const r = await openSelfEvaluationStage(tx, campaign.id, decided.dueAt, now);
    if (!r.opened) return false;
    await appendAudit(tx, { at: now, actorId: actor.personId, platform: ctx.event.platform, action: 'campaign.open_self_evaluation', subjectType: 'campaign', subjectId: campaign.id, before: { stage: 'self_evaluation', status: 'pending' }, after: { stage: 'self_evaluation', status: 'open', dueAt: decided.dueAt, evaluations: r.evaluationIds.length } });
    const out: OutboundMessage[] = [];
    for (const evaluationId of r.evaluationIds) {
      const l = await loadEvaluation(tx, evaluationId);
      if (!l) continue;
      const card = buildSelfEvaluationCard(toView(l));
      for (const p of await peopleWithRole(tx, 'filler', { campaignId: campaign.id, unitId: l.state.unitId })) {
        out.push({ dedupeKey: `self-eval:${evaluationId}:v1:fill:${p.id}`, kind: 'send', personId: p.id, subject: subjects.fill(evaluationId, 1), card });
      }
    }
    out.push(...(await consoleMessages(tx, campaign.id, 'update', 'opened', now)));
    await enqueue(tx, out, now);
    return true;
  });
  const card = await buildConsoleCard(deps.db, campaign.id, 'evaluator', now);
  if (!opened) return toast('warning', REFUSAL_TEXT.already_open, card ?? undefined);
  return toast('success', `单位自评已启动，已向 ${units.length} 个单位发送自评表`, card ?? undefined);
}

export async function handleProgress(ctx: ActionContext<'campaign.progress'>): Promise<Reply> {
  const { deps, actor, value, now } = ctx;
  const scope = { campaignId: value.campaignId };
  const audience = holds(actor, 'evaluator', scope) ? 'evaluator' : holds(actor, 'leader', scope) ? 'leader' : null;
  if (!audience) return toast('error', REFUSAL_TEXT.forbidden);
  const card = await buildConsoleCard(deps.db, value.campaignId, audience, now);
  if (!card) return toast('error', REFUSAL_TEXT.not_found);
  return toast('info', '进度已刷新', card);
}
