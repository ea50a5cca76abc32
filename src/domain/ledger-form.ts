/**
 * A ledger entry's forms: the filler's answers read against the ledger's fields and its
 * cross-field checks (./ledger `ledgerChecks`), and the evaluator's reason for returning an
 * entry. Errors are values with codes; cards/messages.ts words them in Chinese. Pure.
 */
import type { FormValues } from './self-evaluation';
import { TEXT_MAX_CHARS, type LedgerCheck, type LedgerCheckOp, type LedgerField, type LedgerValue, type LedgerValues } from './ledger';
import { charCount, cleanText, quote, safeHttpLink } from './text';
import { endOfShanghaiDay } from './time';

export const ledgerFieldName = (field: { id: string }) => `f_${field.id}`;

export type LedgerFieldErrorCode =
  | 'required'
  | 'not_number'
  | 'not_integer'
  | 'below_min'
  | 'above_max'
  | 'not_an_option'
  | 'bad_date'
  | 'bad_link'
  | 'not_yes_no'
  | 'too_long'
  | 'check_failed'
  | 'reason_required';

export interface LedgerFieldError {
  /** The form field's name. */
  readonly field: string;
  readonly label: string;
  readonly code: LedgerFieldErrorCode;
  readonly params?: Readonly<Record<string, string | number>>;
}

const YES = new Set(['yes', 'true', '是']);
const NO = new Set(['no', 'false', '否']);

/** A form field as clean text: control characters (U+0000 ends a libSQL text) removed, trimmed. */
const raw = (form: FormValues, name: string): string => {
  const v = form[name];
  return cleanText(Array.isArray(v) ? v.join('\n') : ((v as string | undefined) ?? ''));
};

const holds = (x: number, op: LedgerCheckOp, y: number): boolean => {
  switch (op) {
    case '<=': return x <= y;
    case '<': return x < y;
    case '>=': return x >= y;
    case '>': return x > y;
    case '==': return x === y;
  }
};

/**
 * Reads an entry form against the ledger's fields and its cross-field checks (`ledgerChecks`).
 * Either every answer, typed, or the errors (one per field at most) with the values as typed,
 * so the card can show them again.
 */
export function parseLedgerForm(
  fields: readonly LedgerField[],
  form: FormValues,
  checks: readonly LedgerCheck[] = [],
): { ok: true; values: Record<string, LedgerValue> } | { ok: false; errors: LedgerFieldError[]; values: FormValues } {
  const errors: LedgerFieldError[] = [];
  const values: Record<string, LedgerValue> = {};
  for (const f of fields) {
    const name = ledgerFieldName(f);
    const text = raw(form, name);
    const fail = (code: LedgerFieldErrorCode, params?: Record<string, string | number>) => {
      errors.push(params ? { field: name, label: f.label, code, params } : { field: name, label: f.label, code });
      values[f.id] = null;
    };
    if (text === '') {
      const w = f.requiredWhen;
      if (f.required) fail('required');
      else if (w !== undefined && values[w.field] === w.equals) {
        const on = fields.find((x) => x.id === w.field);
        fail('required', { whenLabel: on?.label ?? w.field, whenAnswer: typeof w.equals === 'boolean' ? (w.equals ? '是' : '否') : w.equals });
      } else values[f.id] = null;
      continue;
    }
    // What was typed, shortened for a message that names it (a refused answer may be megabytes).
    const shown = quote(text);
    const count = f.kind === 'text' || f.kind === 'link' ? charCount(text) : 0;
    switch (f.kind) {
      case 'text':
        if (count > TEXT_MAX_CHARS) fail('too_long', { max: TEXT_MAX_CHARS, count });
        else values[f.id] = text;
        break;
      case 'number': {
        const t = text.replace(/[,，]/g, '');
        const n = /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : NaN;
        if (!Number.isFinite(n)) fail('not_number', { value: shown });
        else if (f.integer && !Number.isInteger(n)) fail('not_integer', { value: shown });
        else if (f.min !== undefined && n < f.min) fail('below_min', { value: shown, min: f.min });
        else if (f.max !== undefined && n > f.max) fail('above_max', { value: shown, max: f.max });
        else values[f.id] = n;
        break;
      }
      case 'choice':
        if (!f.options?.includes(text)) fail('not_an_option', { value: shown, options: (f.options ?? []).join('、') });
        else values[f.id] = text;
        break;
      case 'date':
        // Feishu's date picker may send "2026-11-20 +0800"; the date is what counts.
        if (endOfShanghaiDay(text) === null) fail('bad_date', { value: shown });
        else values[f.id] = text.slice(0, 10);
        break;
      case 'link': {
        // Stored as ./text makes it safe to render: brackets and quotes percent-encoded.
        const safe = count > TEXT_MAX_CHARS ? null : safeHttpLink(text);
        if (count > TEXT_MAX_CHARS) fail('too_long', { max: TEXT_MAX_CHARS, count });
        else if (safe === null) fail('bad_link', { value: shown });
        else values[f.id] = safe;
        break;
      }
      case 'yesno': {
        const t = text.toLowerCase();
        if (YES.has(t)) values[f.id] = true;
        else if (NO.has(t)) values[f.id] = false;
        else fail('not_yes_no', { value: shown });
        break;
      }
    }
  }
  for (const c of checks) {
    const [x, y] = [values[c.a], values[c.b]];
    const fa = fields.find((f) => f.id === c.a);
    const fb = fields.find((f) => f.id === c.b);
    if (typeof x !== 'number' || typeof y !== 'number' || !fa || !fb || holds(x, c.op, y)) continue;
    const name = ledgerFieldName(fa);
    if (errors.some((e) => e.field === name)) continue;
    errors.push({ field: name, label: fa.label, code: 'check_failed', params: { op: c.op, value: x, otherLabel: fb.label, otherValue: y, ...(c.message ? { message: c.message } : {}) } });
  }
  return errors.length > 0 ? { ok: false, errors, values: form } : { ok: true, values };
}

/** The form field of an evaluator's reason for returning an entry. */
export const RETURN_REASON_FIELD = 'return_reason';

/** Reads the evaluator's return form: the reason is required (the filler reads it on the card). */
export function parseLedgerReturnForm(form: FormValues): { ok: true; reason: string } | { ok: false; error: LedgerFieldError } {
  const text = raw(form, RETURN_REASON_FIELD);
  const label = '退回原因';
  if (text === '') return { ok: false, error: { field: RETURN_REASON_FIELD, label, code: 'reason_required' } };
  const count = charCount(text);
  if (count > TEXT_MAX_CHARS) return { ok: false, error: { field: RETURN_REASON_FIELD, label, code: 'too_long', params: { max: TEXT_MAX_CHARS, count } } };
  return { ok: true, reason: text };
}

/** Stored answers as the form's strings (what a card shows in its inputs). */
export function ledgerFormValues(fields: readonly LedgerField[], values: LedgerValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) {
    const v = values[f.id];
    out[ledgerFieldName(f)] = v === null || v === undefined ? '' : typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v);
  }
  return out;
}
