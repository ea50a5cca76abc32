/**
 * Self-evaluation handlers: load (one statement) → decide (pure) → persist state, audit, outbox
 * and the answer in one write batch → answer with a toast and the acted-on card re-rendered.
 * The statement budget of these clicks is in docs/flows.md.
 */
import { buildReviewCard, buildSelfEvaluationCard, buildSelfEvaluationNoticeCard, buildSignCard, type FormFeedback } from '../../../cards/self-evaluation.card';
import type { CardSpec } from '../../../cards/kit';
import { REFUSAL_TEXT } from '../../../cards/messages';
import { decideSelfEvaluation, parseReviewForm, parseSelfEvaluationForm, withStoredValues, type Command, type Decision, type FieldError, type ItemInput } from '../../domain/self-evaluation';
import { holds } from '../../domain/roles';
import { toast, type Reply } from '../../bot/inbound';
import type { ActionValue } from '../../../cards/actions';
import type { ActionContext, ActionHandler } from '../../bot/router';
import type { Db } from '../../store/db';
import { recordSelfEvaluationScores } from '../../store/grading.repo';
import { auditStatement } from '../../store/audit.repo';
import { runStatements, writeBatch } from '../../store/batch';
import { enqueue, enqueueStatement, type OutboundMessage } from '../../store/outbox.repo';
import { writeTransaction } from '../../store/serialize';
import { evaluationForAction, evaluationForActionQuery, isStaleRevision, loadEvaluation, loadEvaluationForAction, transitionStatements, type LoadedEvaluation, type PeopleAround } from '../../store/self-evaluation.repo';
import { consoleMessages } from '../campaign/console';
import { subjects, toView } from './view';

type VersionAction = 'self-eval.save' | 'self-eval.submit' | 'self-eval.sign' | 'self-eval.head-return' | 'self-eval.accept' | 'self-eval.return';

const COMMANDS: Record<VersionAction, Command['kind']> = {
  'self-eval.save': 'save',
  'self-eval.submit': 'submit',
  'self-eval.sign': 'sign',
  'self-eval.head-return': 'head_return',
  'self-eval.accept': 'accept',
  'self-eval.return': 'return',
};

const SUCCESS: Record<Command['kind'], string> = {
  save: '草稿已保存',
  submit: '已提交，等待单位负责人签发',
  sign: '已签发，已报送评估组审核',
  head_return: '已退回填报员修改',
  accept: '审核通过',
  return: '已退回单位修改',
};

/** The card a person acting in a given role sees for this evaluation. */
function cardFor(kind: Command['kind'], l: LoadedEvaluation, feedback?: FormFeedback): CardSpec {
  const view = toView(l);
  if (kind === 'save' || kind === 'submit') return buildSelfEvaluationCard(view, feedback);
  if (kind === 'sign' || kind === 'head_return') return buildSignCard(view, feedback);
  return buildReviewCard(view, feedback);
}

export function makeSelfEvaluationHandler(id: VersionAction): ActionHandler<VersionAction> {
  const kind = COMMANDS[id];
  const handler = async (ctx: ActionContext<VersionAction>): Promise<Reply> => {
    const { deps, actor, value, form, now } = ctx;
    // Read in the claim's batch (preload below); loaded here only when called without it.
    const loaded = ctx.preloaded ? await evaluationForAction(deps.db, ctx.preloaded[0]) : await loadEvaluationForAction(deps.db, value.evaluationId);
    if (!loaded) return toast('error', REFUSAL_TEXT.not_found);

    const decided = decideSelfEvaluation(loaded.state, actor, { kind }, { version: value.version, rev: value.rev });
    // A forwarded card shows nothing new to someone without the right: no card in the answer.
    if (!decided.ok) return decided.refusal === 'forbidden' ? toast('error', REFUSAL_TEXT.forbidden) : toast('warning', REFUSAL_TEXT[decided.refusal], cardFor(kind, loaded));

    let content: { report: string; items: ItemInput[] } | undefined;
    let review: { stage: 'head' | 'evaluator'; decision: 'sign' | 'accept' | 'return'; comment: string; itemComments: Record<string, string> } | undefined;
    let errors: FieldError[] = [];
    let values = form;
    if (kind === 'save' || kind === 'submit') {
      values = withStoredValues(loaded.indicators, form, loaded.current);
      const parsed = parseSelfEvaluationForm(loaded.indicators, values, kind === 'save' ? 'draft' : 'submit');
      if (parsed.ok) content = { report: parsed.report, items: parsed.items };
      else errors = parsed.errors;
    } else {
      const stage = kind === 'sign' || kind === 'head_return' ? 'head' : 'evaluator';
      const parsed = parseReviewForm(loaded.indicators, form, kind === 'head_return' || kind === 'return' ? 'return' : 'accept', stage);
      if (parsed.ok) {
        review = {
          stage,
          decision: kind === 'sign' ? 'sign' : kind === 'accept' ? 'accept' : 'return',
          comment: parsed.comment,
          itemComments: parsed.itemComments,
        };
      } else errors = parsed.errors;
    }
    if (errors.length > 0) return toast('error', `有 ${errors.length} 处需要修改，未保存`, cardFor(kind, loaded, { errors, values }));

    // Everything written is known before writing: the new state is built, not read back.
    const { decision } = decided;
    const transition = transitionStatements(deps.db, { loaded, decision, actorId: actor.personId, now, content, review });
    const audit = {
      at: now, actorId: actor.personId, platform: ctx.event.platform, action: decision.auditAction, subjectType: 'self_evaluation', subjectId: loaded.state.id,
      before: { status: loaded.state.status, version: loaded.state.currentVersion, revision: loaded.state.revision },
      after: { status: decision.status, version: decision.currentVersion, revision: loaded.state.revision + 1, ...(review ? { review } : {}), ...(content ? { totalItems: content.items.length } : {}) },
    };
    const cards = fanOut(loaded.around, transition.after, decision, loaded.current.version, loaded.state.status, actor.personId);
    const reply = toast('success', SUCCESS[kind], cardFor(kind, transition.after));
    try {
      if (decision.auditAction === 'self_eval.accept') {
        // An accepted 自评's claimed scores are the scheme's "self" rater group's scores, recorded
        // in the same transaction by the grading store, which reads as it writes: the one
        // transition that is an interactive transaction rather than a batch.
        await writeTransaction(deps.db, async (tx) => {
          await runStatements(transitionStatements(tx, { loaded, decision, actorId: actor.personId, now, content, review }).statements);
          const codeOf = new Map(loaded.indicators.map((i) => [i.id, i.code]));
          const items = loaded.current.items.flatMap((it) => (codeOf.has(it.indicatorId) ? [{ code: codeOf.get(it.indicatorId)!, claimedScore: it.claimedScore }] : []));
          await recordSelfEvaluationScores(tx, { evaluationId: loaded.state.id, campaignId: loaded.state.campaignId, unitId: loaded.state.unitId, items, actorId: actor.personId, platform: ctx.event.platform, now });
          await runStatements([auditStatement(tx, audit), enqueueStatement(tx, cards.messages, now), ctx.replyStatement(tx, reply)]);
        });
      } else {
        await writeBatch(deps.db, [...transition.statements, auditStatement(deps.db, audit), enqueueStatement(deps.db, cards.messages, now), ctx.replyStatement(deps.db, reply)]);
      }
    } catch (error) {
      // A concurrent click moved the evaluation on first: nothing was written.
      if (!isStaleRevision(error)) throw error;
      const fresh = await loadEvaluation(deps.db, loaded.state.id);
      return toast('warning', REFUSAL_TEXT.conflict, fresh ? cardFor(kind, fresh) : undefined);
    }
    await refreshConsoles(ctx, cards.consoles, transition.after);
    return reply;
  };
  return Object.assign(handler, { preload: (db: Db, value: ActionValue<VersionAction>) => [evaluationForActionQuery(db, value.evaluationId)] });
}

/**
 * After a status change, the campaign's progress consoles, read in a transaction of their own
 * once the change has committed. Consoles are a view of every unit's progress: built from a
 * read inside the write lock, the last one queued shows every change before it, however clicks
 * interleave. (A crash between the two transactions leaves the consoles one change behind
 * until the next; the change itself, its audit and its cards are in the first.)
 */
async function refreshConsoles(ctx: ActionContext<VersionAction>, consoles: boolean, after: LoadedEvaluation): Promise<void> {
  if (!consoles) return;
  const { deps, now } = ctx;
  const { id, campaignId, revision } = after.state;
  // The change has taken effect: a console that could not be refreshed is logged, not reported as a failed action.
  await writeTransaction(deps.db, async (tx) => enqueue(tx, await consoleMessages(tx, campaignId, 'update', `e${id}r${revision}`, now), now))
    .catch((error: unknown) => deps.log.error('progress consoles not refreshed', { evaluationId: id, error: error instanceof Error ? error.message : String(error) }));
}

/** Who hears about a transition, which of their cards are refreshed, and whether the progress consoles are. */
function fanOut(around: PeopleAround, after: LoadedEvaluation, decision: Decision, actedVersion: number, statusBefore: string, actorId: number): { messages: OutboundMessage[]; consoles: boolean } {
  const { id, revision } = after.state;
  const view = toView(after);
  const { fillers, heads, evaluators } = around;
  const out: OutboundMessage[] = [];
  const send = (personId: number, subject: string, card: CardSpec, what: string) =>
    out.push({ dedupeKey: `self-eval:${id}:v${view.version}:${what}:${personId}`, kind: 'send', personId, subject, card });
  const update = (personId: number, subject: string, card: CardSpec) =>
    out.push({ dedupeKey: `${subject}:update:r${revision}:${personId}`, kind: 'update', personId, subject, card });

  for (const e of decision.effects) {
    if (e.type === 'card_to_heads' && e.card === 'sign') heads.forEach((p) => send(p.id, subjects.sign(id, view.version), buildSignCard(view), 'sign'));
    if (e.type === 'card_to_heads' && e.card === 'accepted') heads.forEach((p) => send(p.id, subjects.notice(id, view.version), buildSelfEvaluationNoticeCard(view, 'accepted'), 'accepted'));
    if (e.type === 'card_to_evaluators') evaluators.forEach((p) => send(p.id, subjects.review(id, view.version), buildReviewCard(view), 'review'));
    if (e.type === 'card_to_fillers' && e.card === 'fill') fillers.forEach((p) => send(p.id, subjects.fill(id, view.version), buildSelfEvaluationCard(view), 'fill'));
    if (e.type === 'card_to_fillers' && (e.card === 'signed' || e.card === 'accepted')) fillers.forEach((p) => send(p.id, subjects.notice(id, view.version), buildSelfEvaluationNoticeCard(view, e.card as 'signed' | 'accepted'), e.card));
  }
  // Earlier cards for the acted-on version show the new state, so no stale buttons are left.
  // The actor's own card is the reply; cards that cannot exist yet are not chased.
  // After a draft save only the others' copies need refreshing (the actor's card is the reply);
  // after a status change, the actor's own earlier copies too (say, a card opened from 我的待办).
  const statusChanged = statusBefore !== after.state.status || decision.opensNextVersion;
  const others = (ps: Array<{ id: number }>) => (statusChanged ? ps : ps.filter((p) => p.id !== actorId));
  if (!decision.opensNextVersion) others(fillers).forEach((p) => update(p.id, subjects.fill(id, actedVersion), buildSelfEvaluationCard(view)));
  const reached = REACHED[decision.auditAction] ?? 'draft';
  if (reached !== 'draft') others(heads).forEach((p) => update(p.id, subjects.sign(id, actedVersion), buildSignCard(view)));
  if (reached === 'reviewed') others(evaluators).forEach((p) => update(p.id, subjects.review(id, actedVersion), buildReviewCard(view)));
  // Progress changes only with the status: a draft save leaves the consoles as they are.
  return { messages: out, consoles: statusChanged };
}

/** How far the acted-on version had got, which tells which earlier cards of it exist. */
const REACHED: Record<string, 'draft' | 'signing' | 'reviewed'> = {
  'self_eval.save_draft': 'draft',
  'self_eval.submit': 'draft',
  'self_eval.sign': 'signing',
  'self_eval.head_return': 'signing',
  'self_eval.accept': 'reviewed',
  'self_eval.return': 'reviewed',
};

/** Opens an evaluation from the help card: the card this person works on, by their role. */
export async function handleOpenEvaluation(ctx: ActionContext<'self-eval.open'>): Promise<Reply> {
  const { deps, actor, value } = ctx;
  const loaded = await loadEvaluation(deps.db, value.evaluationId);
  if (!loaded) return toast('error', REFUSAL_TEXT.not_found);
  const scope = { campaignId: loaded.state.campaignId, unitId: loaded.state.unitId };
  const view = toView(loaded);
  if (holds(actor, 'filler', scope)) return toast('info', '已打开自评表', buildSelfEvaluationCard(view));
  if (holds(actor, 'unit_head', scope)) return toast('info', '已打开签发卡片', buildSignCard(view));
  if (holds(actor, 'evaluator', { campaignId: scope.campaignId })) return toast('info', '已打开审核卡片', buildReviewCard(view));
  return toast('error', REFUSAL_TEXT.forbidden);
}

export const SELF_EVALUATION_ACTIONS: readonly VersionAction[] = Object.keys(COMMANDS) as VersionAction[];
