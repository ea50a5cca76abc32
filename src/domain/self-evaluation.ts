/**
 * The self-evaluation (自评) rules, pure: form parsing into typed items, and the state machine
 * draft → submitted (awaiting 签发) → signed (awaiting review) → accepted, with returns that
 * open a new version. Errors are values with string codes; cards/messages.ts words them.
 */
import { holds, type Actor } from './roles';
import { charCount, cleanText, quote, safeHttpLink } from './text';

export interface Indicator {
  readonly id: number;
  readonly code: string;
  readonly parentCode: string | null;
  readonly level: number;
  readonly title: string;
  readonly maxPoints: number;
  readonly scoringGuide: string;
  readonly evidence: string;
  readonly evidenceRequired: boolean;
  readonly explanationRequired: boolean;
}

export interface ItemInput {
  readonly indicatorId: number;
  readonly claimedScore: number | null;
  readonly explanation: string;
  readonly evidenceLinks: readonly string[];
}

export type EvaluationStatus = 'draft' | 'submitted' | 'signed' | 'accepted';

export interface EvaluationState {
  readonly id: number;
  readonly campaignId: number;
  readonly unitId: number;
  readonly status: EvaluationStatus;
  readonly currentVersion: number;
  readonly revision: number;
  readonly stageOpen: boolean;
}

export type FieldErrorCode =
  | 'score_required'
  | 'score_not_number'
  | 'score_out_of_range'
  | 'score_precision'
  | 'explanation_required'
  | 'evidence_required'
  | 'bad_link'
  | 'too_long'
  | 'too_many_links'
  | 'report_required'
  | 'comment_required'
  | 'head_comment_required';

export interface FieldError {
  readonly field: string;
  readonly code: FieldErrorCode;
  readonly indicatorCode?: string;
  readonly params?: Readonly<Record<string, string | number>>;
}

export const REPORT_MIN_CHARS = 20;
export const TEXT_MAX_CHARS = 2000;
export const REPORT_MAX_CHARS = 20000;
export const MAX_LINKS = 10;
/** The evidence field as a whole (up to MAX_LINKS links); one link may use all of it. */
export const EVIDENCE_MAX_CHARS = 5000;
/** A score field: "12.5" needs four; the rest is room for a typo to be shown back. */
export const SCORE_MAX_CHARS = 20;

export const fieldNames = {
  score: (ind: { id: number }) => `score_${ind.id}`,
  explanation: (ind: { id: number }) => `expl_${ind.id}`,
  evidence: (ind: { id: number }) => `evid_${ind.id}`,
  comment: (ind: { id: number }) => `cmt_${ind.id}`,
  report: 'report',
  overallComment: 'comment',
} as const;

/** Only leaves (小项) are scored; 大项 group them. */
export function scoredIndicators(indicators: readonly Indicator[]): Indicator[] {
  const parents = new Set(indicators.map((i) => i.parentCode).filter((c): c is string => c !== null));
  return indicators.filter((i) => !parents.has(i.code));
}

export function splitLinks(raw: string): string[] {
  return raw.split(/[\s,，;；、]+/).map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Scores are whole or half points, as paper forms allow; more precision is a typo. */
function parseScore(raw: string): number | 'nan' | 'precision' {
  const t = raw.trim();
  if (!/^-?\d+(\.\d+)?$/.test(t)) return 'nan';
  const n = Number(t);
  if (!Number.isFinite(n)) return 'nan';
  if (Math.round(n * 2) !== n * 2) return 'precision';
  return n;
}

export type FormValues = Readonly<Record<string, string | readonly string[] | undefined>>;

/** A form field as clean text: control characters and lone surrogates removed, trimmed. */
const text = (form: FormValues, name: string): string => {
  const v = form[name];
  return cleanText(Array.isArray(v) ? v.join('\n') : (v as string | undefined) ?? '');
};

const tooLong = (s: string, max: number): Readonly<Record<string, number>> | null => {
  const count = charCount(s);
  return count > max ? { max, count } : null;
};

/**
 * Reads a self-evaluation form. A draft may leave fields empty, but what is filled in must be
 * valid; a submission must be complete. Nothing partial is returned: either every item or
 * the list of errors.
 */
export function parseSelfEvaluationForm(
  indicators: readonly Indicator[],
  form: FormValues,
  mode: 'draft' | 'submit',
): { ok: true; report: string; items: ItemInput[] } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const items: ItemInput[] = [];
  for (const ind of scoredIndicators(indicators)) {
    const scoreField = fieldNames.score(ind);
    const rawScore = text(form, scoreField);
    let claimedScore: number | null = null;
    if (rawScore === '') {
      if (mode === 'submit') errors.push({ field: scoreField, code: 'score_required', indicatorCode: ind.code });
    } else {
      const s = parseScore(rawScore);
      if (s === 'nan') errors.push({ field: scoreField, code: 'score_not_number', indicatorCode: ind.code, params: { value: quote(rawScore, SCORE_MAX_CHARS) } });
      else if (s === 'precision') errors.push({ field: scoreField, code: 'score_precision', indicatorCode: ind.code, params: { value: quote(rawScore, SCORE_MAX_CHARS) } });
      else if (s < 0 || s > ind.maxPoints)
        errors.push({ field: scoreField, code: 'score_out_of_range', indicatorCode: ind.code, params: { value: rawScore, max: ind.maxPoints } });
      else claimedScore = s;
    }

    const explField = fieldNames.explanation(ind);
    const explanation = text(form, explField);
    const explTooLong = tooLong(explanation, TEXT_MAX_CHARS);
    if (explTooLong) errors.push({ field: explField, code: 'too_long', indicatorCode: ind.code, params: explTooLong });
    else if (mode === 'submit' && ind.explanationRequired && explanation === '')
      errors.push({ field: explField, code: 'explanation_required', indicatorCode: ind.code });

    const evidField = fieldNames.evidence(ind);
    const rawLinks = text(form, evidField);
    const evidTooLong = tooLong(rawLinks, EVIDENCE_MAX_CHARS);
    // Links are stored with the characters that could break a rendered link percent-encoded.
    const links = evidTooLong ? [] : splitLinks(rawLinks).map((l) => ({ raw: l, safe: safeHttpLink(l) }));
    const bad = links.find((l) => l.safe === null);
    if (evidTooLong) errors.push({ field: evidField, code: 'too_long', indicatorCode: ind.code, params: evidTooLong });
    else if (bad !== undefined) errors.push({ field: evidField, code: 'bad_link', indicatorCode: ind.code, params: { value: quote(bad.raw) } });
    else if (links.length > MAX_LINKS)
      errors.push({ field: evidField, code: 'too_many_links', indicatorCode: ind.code, params: { max: MAX_LINKS } });
    else if (mode === 'submit' && ind.evidenceRequired && links.length === 0)
      errors.push({ field: evidField, code: 'evidence_required', indicatorCode: ind.code, params: { evidence: ind.evidence } });

    items.push({ indicatorId: ind.id, claimedScore, explanation, evidenceLinks: links.map((l) => l.safe ?? l.raw) });
  }
  const report = text(form, fieldNames.report);
  const reportTooLong = tooLong(report, REPORT_MAX_CHARS);
  if (reportTooLong) errors.push({ field: fieldNames.report, code: 'too_long', params: reportTooLong });
  else if (mode === 'submit' && charCount(report) < REPORT_MIN_CHARS)
    errors.push({ field: fieldNames.report, code: 'report_required', params: { min: REPORT_MIN_CHARS } });

  return errors.length > 0 ? { ok: false, errors } : { ok: true, report, items };
}

/**
 * A long form may arrive in parts (Feishu splits a card that exceeds its limits into several,
 * each with its own form). Fields that are absent from this submission — not merely empty —
 * keep their stored values, so saving one part never erases another.
 */
export function withStoredValues(
  indicators: readonly Indicator[],
  form: FormValues,
  stored: { readonly items: readonly ItemInput[]; readonly report: string },
): FormValues {
  const merged: Record<string, string | readonly string[] | undefined> = { ...form };
  const fill = (name: string, value: string) => {
    if (merged[name] === undefined) merged[name] = value;
  };
  for (const ind of scoredIndicators(indicators)) {
    const item = stored.items.find((i) => i.indicatorId === ind.id);
    fill(fieldNames.score(ind), item?.claimedScore == null ? '' : String(item.claimedScore));
    fill(fieldNames.explanation(ind), item?.explanation ?? '');
    fill(fieldNames.evidence(ind), (item?.evidenceLinks ?? []).join('\n'));
  }
  fill(fieldNames.report, stored.report);
  return merged;
}

/**
 * Reads a decision form. The evaluator's has an overall comment and per-indicator comments, and
 * a return needs at least one of them; the unit head's has the comment alone (per-indicator
 * comments are not read), which a return needs.
 */
export function parseReviewForm(
  indicators: readonly Indicator[],
  form: FormValues,
  decision: 'accept' | 'return',
  stage: 'head' | 'evaluator' = 'evaluator',
): { ok: true; comment: string; itemComments: Record<string, string> } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const comment = text(form, fieldNames.overallComment);
  const commentTooLong = tooLong(comment, TEXT_MAX_CHARS);
  if (commentTooLong) errors.push({ field: fieldNames.overallComment, code: 'too_long', params: commentTooLong });
  const itemComments: Record<string, string> = {};
  for (const ind of stage === 'evaluator' ? scoredIndicators(indicators) : []) {
    const field = fieldNames.comment(ind);
    const c = text(form, field);
    const cTooLong = tooLong(c, TEXT_MAX_CHARS);
    if (cTooLong) errors.push({ field, code: 'too_long', indicatorCode: ind.code, params: cTooLong });
    else if (c !== '') itemComments[ind.code] = c;
  }
  if (decision === 'return' && comment === '' && Object.keys(itemComments).length === 0)
    errors.push({ field: fieldNames.overallComment, code: stage === 'head' ? 'head_comment_required' : 'comment_required' });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, comment, itemComments };
}

export type Command =
  | { kind: 'save' }
  | { kind: 'submit' }
  | { kind: 'sign' }
  | { kind: 'head_return' }
  | { kind: 'accept' }
  | { kind: 'return' };

export type Refusal =
  | 'forbidden'
  | 'stage_closed'
  | 'stale_version'
  | 'already_submitted'
  | 'already_signed'
  | 'already_accepted'
  | 'not_submitted'
  | 'not_signed';

/** Who gets told, after a transition; the handler finds the people and builds the cards. */
export type Effect =
  | { type: 'card_to_heads'; card: 'sign' }
  | { type: 'card_to_evaluators'; card: 'review' }
  | { type: 'card_to_fillers'; card: 'fill' | 'signed' | 'accepted' }
  | { type: 'card_to_heads'; card: 'accepted' };

export interface Decision {
  readonly status: EvaluationStatus;
  /** The version the evaluation is on afterwards (a return opens the next one). */
  readonly currentVersion: number;
  /** What becomes of the acted-on version. */
  readonly versionStatus: 'draft' | 'submitted' | 'signed' | 'accepted' | 'returned';
  readonly opensNextVersion: boolean;
  readonly effects: readonly Effect[];
  readonly auditAction: string;
}

/**
 * Decides a command on an evaluation. `card` is what the acting card was built on: an action
 * from an older version or revision is refused rather than applied to newer content.
 */
export function decideSelfEvaluation(
  state: EvaluationState,
  actor: Actor,
  command: Command,
  card: { version: number; rev: number },
): { ok: true; decision: Decision } | { ok: false; refusal: Refusal } {
  const scope = { campaignId: state.campaignId, unitId: state.unitId };
  const allowed =
    command.kind === 'save' || command.kind === 'submit'
      ? holds(actor, 'filler', scope)
      : command.kind === 'sign' || command.kind === 'head_return'
        ? holds(actor, 'unit_head', scope)
        : holds(actor, 'evaluator', { campaignId: state.campaignId });
  if (!allowed) return { ok: false, refusal: 'forbidden' };

  const statusRefusal = (expected: EvaluationStatus): Refusal | null => {
    if (state.status === expected) return null;
    if (state.status === 'accepted') return 'already_accepted';
    if (expected === 'draft') return state.status === 'submitted' ? 'already_submitted' : 'already_signed';
    if (expected === 'submitted') return state.status === 'draft' ? 'not_submitted' : 'already_signed';
    return state.status === 'draft' || state.status === 'submitted' ? 'not_signed' : 'already_accepted';
  };
  const expected: EvaluationStatus =
    command.kind === 'save' || command.kind === 'submit' ? 'draft'
      : command.kind === 'sign' || command.kind === 'head_return' ? 'submitted'
        : 'signed';
  const refusal = statusRefusal(expected);
  if (refusal) return { ok: false, refusal };
  if (card.version !== state.currentVersion || card.rev !== state.revision) return { ok: false, refusal: 'stale_version' };
  if (expected === 'draft' && !state.stageOpen) return { ok: false, refusal: 'stage_closed' };

  const v = state.currentVersion;
  switch (command.kind) {
    case 'save':
      return ok({ status: 'draft', currentVersion: v, versionStatus: 'draft', opensNextVersion: false, effects: [], auditAction: 'self_eval.save_draft' });
    case 'submit':
      return ok({ status: 'submitted', currentVersion: v, versionStatus: 'submitted', opensNextVersion: false, effects: [{ type: 'card_to_heads', card: 'sign' }], auditAction: 'self_eval.submit' });
    case 'sign':
      return ok({
        status: 'signed', currentVersion: v, versionStatus: 'signed', opensNextVersion: false,
        effects: [{ type: 'card_to_evaluators', card: 'review' }, { type: 'card_to_fillers', card: 'signed' }],
        auditAction: 'self_eval.sign',
      });
    case 'head_return':
      return ok({ status: 'draft', currentVersion: v + 1, versionStatus: 'returned', opensNextVersion: true, effects: [{ type: 'card_to_fillers', card: 'fill' }], auditAction: 'self_eval.head_return' });
    case 'accept':
      return ok({
        status: 'accepted', currentVersion: v, versionStatus: 'accepted', opensNextVersion: false,
        effects: [{ type: 'card_to_fillers', card: 'accepted' }, { type: 'card_to_heads', card: 'accepted' }],
        auditAction: 'self_eval.accept',
      });
    case 'return':
      return ok({ status: 'draft', currentVersion: v + 1, versionStatus: 'returned', opensNextVersion: true, effects: [{ type: 'card_to_fillers', card: 'fill' }], auditAction: 'self_eval.return' });
  }
}

const ok = (decision: Decision) => ({ ok: true as const, decision });

export function totalClaimed(items: readonly { claimedScore: number | null }[]): number {
  return items.reduce((sum, i) => sum + (i.claimedScore ?? 0), 0);
}
