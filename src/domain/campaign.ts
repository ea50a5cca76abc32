/** Campaign stage rules, pure. */
import { holds, type Actor } from './roles';
import { endOfShanghaiDay } from './time';

export type StageName = 'notice' | 'self_evaluation' | 'on_site' | 'rating' | 'report' | 'rectification' | 'grading';

export const STAGE_LABELS: Record<StageName, string> = {
  notice: '宣传发动',
  self_evaluation: '单位自评',
  on_site: '实地评估',
  rating: '测评与问卷',
  report: '形成报告并反馈',
  rectification: '整改',
  grading: '等次审定与公示',
};

export interface StageState {
  readonly stage: StageName;
  readonly status: 'pending' | 'open' | 'closed';
  readonly dueAt: number | null;
}

export type OpenStageRefusal = 'forbidden' | 'already_open' | 'bad_date' | 'due_in_past' | 'no_units' | 'campaign_closed';

/** The evaluator opens 单位自评 with a deadline; every participating unit then gets its form. */
export function decideOpenSelfEvaluation(
  input: { campaignId: number; campaignStatus: 'draft' | 'running' | 'closed'; stage: StageState; unitCount: number },
  actor: Actor,
  dueDate: string,
  now: number,
): { ok: true; dueAt: number } | { ok: false; refusal: OpenStageRefusal } {
  if (!holds(actor, 'evaluator', { campaignId: input.campaignId })) return { ok: false, refusal: 'forbidden' };
  if (input.campaignStatus === 'closed') return { ok: false, refusal: 'campaign_closed' };
  if (input.stage.status !== 'pending') return { ok: false, refusal: 'already_open' };
  const dueAt = endOfShanghaiDay(dueDate);
  if (dueAt === null) return { ok: false, refusal: 'bad_date' };
  if (dueAt <= now) return { ok: false, refusal: 'due_in_past' };
  if (input.unitCount === 0) return { ok: false, refusal: 'no_units' };
  return { ok: true, dueAt };
}

/** The stage a campaign is in: the last opened one, else the first. */
export function currentStage(stages: readonly StageState[]): StageState | undefined {
  const opened = stages.filter((s) => s.status !== 'pending');
  return opened[opened.length - 1] ?? stages[0];
}
