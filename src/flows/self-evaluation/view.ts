import type { SelfEvaluationView } from '../../../cards/self-evaluation.card';
import type { LoadedEvaluation } from '../../store/self-evaluation.repo';

export function toView(l: LoadedEvaluation): SelfEvaluationView {
  return {
    evaluationId: l.state.id,
    version: l.current.version,
    rev: l.state.revision,
    status: l.state.status,
    campaignName: l.campaign.name,
    unitName: l.unit.name,
    dueAt: l.dueAt,
    indicators: l.indicators,
    items: l.current.items,
    report: l.current.report,
    submittedAt: l.current.submittedAt,
    stageOpen: l.state.stageOpen,
    lastReturn: l.lastReturn
      ? { by: l.lastReturn.stage, comment: l.lastReturn.comment, itemComments: l.lastReturn.itemComments, version: l.lastReturn.version }
      : null,
  };
}

export const subjects = {
  fill: (evaluationId: number, version: number) => `self-eval:${evaluationId}:v${version}:fill`,
  sign: (evaluationId: number, version: number) => `self-eval:${evaluationId}:v${version}:sign`,
  review: (evaluationId: number, version: number) => `self-eval:${evaluationId}:v${version}:review`,
  notice: (evaluationId: number, version: number) => `self-eval:${evaluationId}:v${version}:notice`,
  console: (campaignId: number) => `campaign:${campaignId}:console`,
};
