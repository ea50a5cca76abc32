/**
 * Ledgers (台账): records a unit keeps all year, one entry per period (a month, a quarter, a
 * half year, a year), each with a nominal due date. This module holds the ledger file format
 * (validated on load, messages pointing at the path, as ./scheme does), the period calendar,
 * the due rules, which periods are open at a date, and who may submit or return an entry (the
 * entry's forms are read in ./ledger-form). Pure: dates are 'YYYY-MM-DD' strings of the Asia/Shanghai calendar (take an
 * instant's date with `shanghaiDate` from ./time); holidays are the reminder planner's concern
 * (it shifts a due date that falls on one), so due dates here are nominal.
 *
 * Periods are written so that keys of one recurrence sort in time order:
 *   monthly '2026-11' · quarterly '2026-Q4' · half-yearly '2026-H2' · yearly '2026'.
 *
 * Due rules (the `due` of a ledger file), one of:
 *   { "day": 25 }                        the 25th of the period's last month (a monthly
 *                                        period's own month; a quarter's 3rd month…);
 *   { "day": 5, "offsetMonths": 1 }      the 5th of the month after the period's last month;
 *                                        a day past the month's end is its last day (31 → 30);
 *   { "dates": ["07-05", "01-05"] }      one MM-DD per period of the year, in order; each is
 *                                        the first such date on or after the period's first
 *                                        day (H1 → 7月5日, H2 → 1月5日 of the next year);
 *   { "monthDay": "03-31", "offsetYears": 1 }   yearly only: that date of the period's year
 *                                        plus offsetYears (default 0).
 * Every rule must put each period's due date on or after the period's first day and no later
 * than the end of the period after it; the validator checks this on a leap and a common year.
 *
 * Which entries are open: a period's entry opens on the period's first day and stays open
 * (late submissions accepted, counted as overdue) until the next period ends, so at any date
 * an assignment has at most two open entries, the current period's and the previous one's.
 * The scheduler creates the current period's entry for every active assignment; the previous
 * period's only for an assignment that existed by that period's due date (a new assignment
 * starts without a backlog, but a 1月5日 report is still created on 1月2日).
 */
import { z } from 'zod';
import type { Actor } from './roles';
import { TemplateHeader } from './scheme';

// ---------------------------------------------------------------------------- periods

export const RECURRENCES = ['monthly', 'quarterly', 'half-yearly', 'yearly'] as const;
export type Recurrence = (typeof RECURRENCES)[number];

const PERIODS_PER_YEAR: Record<Recurrence, number> = { monthly: 12, quarterly: 4, 'half-yearly': 2, yearly: 1 };
const MONTHS_PER_PERIOD: Record<Recurrence, number> = { monthly: 1, quarterly: 3, 'half-yearly': 6, yearly: 12 };

export interface Period {
  readonly recurrence: Recurrence;
  readonly year: number;
  /** 1-based: month 1–12, quarter 1–4, half 1–2, always 1 for a year. */
  readonly index: number;
}

const pad = (n: number) => String(n).padStart(2, '0');
const ymd = (y: number, m: number, d: number) => `${String(y).padStart(4, '0')}-${pad(m)}-${pad(d)}`;
const daysInMonth = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar date 'YYYY-MM-DD' as numbers, or null. */
function dateParts(date: string): [number, number, number] | null {
  const m = DATE_RE.exec(date);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return null;
  return [y, mo, d];
}

function requireDate(date: string): [number, number, number] {
  const p = dateParts(date);
  if (!p) throw new Error(`not a date: ${JSON.stringify(date)} (expected YYYY-MM-DD)`);
  return p;
}

export function periodKey(p: Period): string {
  switch (p.recurrence) {
    case 'monthly': return `${p.year}-${pad(p.index)}`;
    case 'quarterly': return `${p.year}-Q${p.index}`;
    case 'half-yearly': return `${p.year}-H${p.index}`;
    case 'yearly': return String(p.year);
  }
}

/** Reads a period key; null for anything that is not one. */
export function parsePeriod(key: string): Period | null {
  const m = /^(\d{4})(?:-(?:(\d{2})|Q([1-4])|H([12])))?$/.exec(key);
  if (!m) return null;
  const year = Number(m[1]);
  if (m[2] !== undefined) {
    const month = Number(m[2]);
    return month >= 1 && month <= 12 ? { recurrence: 'monthly', year, index: month } : null;
  }
  if (m[3] !== undefined) return { recurrence: 'quarterly', year, index: Number(m[3]) };
  if (m[4] !== undefined) return { recurrence: 'half-yearly', year, index: Number(m[4]) };
  return { recurrence: 'yearly', year, index: 1 };
}

function requirePeriod(key: string): Period {
  const p = parsePeriod(key);
  if (!p) throw new Error(`not a period: ${JSON.stringify(key)}`);
  return p;
}

/** The period of a recurrence that contains a date. */
export function periodOf(recurrence: Recurrence, date: string): string {
  const [year, month] = requireDate(date);
  return periodKey({ recurrence, year, index: Math.floor((month - 1) / MONTHS_PER_PERIOD[recurrence]) + 1 });
}

const firstMonth = (p: Period) => (p.index - 1) * MONTHS_PER_PERIOD[p.recurrence] + 1;
const lastMonth = (p: Period) => p.index * MONTHS_PER_PERIOD[p.recurrence];

export function periodStart(key: string): string {
  const p = requirePeriod(key);
  return ymd(p.year, firstMonth(p), 1);
}

export function periodEnd(key: string): string {
  const p = requirePeriod(key);
  const m = lastMonth(p);
  return ymd(p.year, m, daysInMonth(p.year, m));
}

/** The period n periods after (n < 0: before) this one. */
export function shiftPeriod(key: string, n: number): string {
  const p = requirePeriod(key);
  const per = PERIODS_PER_YEAR[p.recurrence];
  const ordinal = p.year * per + (p.index - 1) + n;
  return periodKey({ recurrence: p.recurrence, year: Math.floor(ordinal / per), index: (((ordinal % per) + per) % per) + 1 });
}

const QUARTERS_ZH = ['一', '二', '三', '四'];
const MONTHS_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** 2026年11月 · 2026年第四季度 · 2026年上半年 · 2026年度 */
export function periodLabel(key: string): string {
  const p = requirePeriod(key);
  switch (p.recurrence) {
    case 'monthly': return `${p.year}年${p.index}月`;
    case 'quarterly': return `${p.year}年第${QUARTERS_ZH[p.index - 1]}季度`;
    case 'half-yearly': return `${p.year}年${p.index === 1 ? '上' : '下'}半年`;
    case 'yearly': return `${p.year}年度`;
  }
}

/** Nov 2026 · Q4 2026 · H2 2026 · 2026 */
export function periodLabelEn(key: string): string {
  const p = requirePeriod(key);
  switch (p.recurrence) {
    case 'monthly': return `${MONTHS_EN[p.index - 1]} ${p.year}`;
    case 'quarterly': return `Q${p.index} ${p.year}`;
    case 'half-yearly': return `H${p.index} ${p.year}`;
    case 'yearly': return String(p.year);
  }
}

/** 2026年11月25日 of a 'YYYY-MM-DD' date. */
export function dateZh(date: string): string {
  const [y, m, d] = requireDate(date);
  return `${y}年${m}月${d}日`;
}

// ---------------------------------------------------------------------------- due rules

const monthDay = z.string().refine((s) => {
  const m = /^(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [mo, d] = [Number(m[1]), Number(m[2])];
  // 02-29 is refused: it would not exist in three years of four.
  return mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(2027, mo);
}, 'a month and day "MM-DD" that exists every year (not 02-29)');

export const DueRuleSchema = z.union([
  z.strictObject({ day: z.number().int().min(1).max(31), offsetMonths: z.number().int().min(0).max(12).optional() }),
  z.strictObject({ dates: z.array(monthDay).min(1) }),
  z.strictObject({ monthDay, offsetYears: z.number().int().min(0).max(1).optional() }),
]);
export type DueRule = z.infer<typeof DueRuleSchema>;

/** The nominal due date of a period under a rule (a holiday is not shifted here). */
export function dueDateOf(due: DueRule, periodKeyValue: string): string {
  const p = requirePeriod(periodKeyValue);
  if ('day' in due) {
    const total = p.year * 12 + (lastMonth(p) - 1) + (due.offsetMonths ?? 0);
    const [y, m] = [Math.floor(total / 12), (total % 12) + 1];
    return ymd(y, m, Math.min(due.day, daysInMonth(y, m)));
  }
  if ('dates' in due) {
    const md = due.dates[p.index - 1];
    if (md === undefined) throw new Error(`due rule has ${due.dates.length} dates; period ${periodKeyValue} needs ${PERIODS_PER_YEAR[p.recurrence]}`);
    const same = `${p.year}-${md}`;
    return same >= periodStart(periodKeyValue) ? same : `${p.year + 1}-${md}`;
  }
  return `${p.year + (due.offsetYears ?? 0)}-${due.monthDay}`;
}

/** Problems of a rule for a recurrence, in words (empty when it is fine). */
export function dueRuleProblems(recurrence: Recurrence, due: DueRule): string[] {
  if ('dates' in due && due.dates.length !== PERIODS_PER_YEAR[recurrence])
    return [`a ${recurrence} ledger needs ${PERIODS_PER_YEAR[recurrence]} dates, one per period of the year, not ${due.dates.length}`];
  if ('monthDay' in due && recurrence !== 'yearly') return ['monthDay is for yearly ledgers; use day or dates'];
  const problems: string[] = [];
  for (const year of [2027, 2028]) {
    for (let i = 1; i <= PERIODS_PER_YEAR[recurrence]; i++) {
      const key = periodKey({ recurrence, year, index: i });
      const d = dueDateOf(due, key);
      if (d < periodStart(key)) problems.push(`${key} would be due ${d}, before the period starts`);
      else if (d > periodEnd(shiftPeriod(key, 1))) problems.push(`${key} would be due ${d}, after the next period ends`);
    }
  }
  return problems.slice(0, 1);
}

/**
 * The periods whose entries are open at a date, oldest first: the previous period's (late
 * submissions are accepted until the current period ends) and the current one's.
 */
export function openPeriods(recurrence: Recurrence, date: string): [previous: string, current: string] {
  const current = periodOf(recurrence, date);
  return [shiftPeriod(current, -1), current];
}

export function isPeriodOpen(periodKeyValue: string, date: string): boolean {
  const p = requirePeriod(periodKeyValue);
  return openPeriods(p.recurrence, date).includes(periodKeyValue);
}

export interface EntryToEnsure {
  readonly period: string;
  readonly dueDate: string;
  /**
   * null: every active assignment owes this entry. A date: only assignments that existed on
   * or before it (the previous period's entry is not back-filled for a new assignment whose
   * due date has already passed).
   */
  readonly assignedBy: string | null;
}

/** The entries that should exist at a date for one ledger definition. */
export function entriesToEnsure(def: { readonly recurrence: Recurrence; readonly due: DueRule }, date: string): EntryToEnsure[] {
  const [previous, current] = openPeriods(def.recurrence, date);
  const prevDue = dueDateOf(def.due, previous);
  return [
    { period: previous, dueDate: prevDue, assignedBy: prevDue },
    { period: current, dueDate: dueDateOf(def.due, current), assignedBy: null },
  ];
}

// ---------------------------------------------------------------------------- the file format

const id = z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and dashes, starting with a letter');
export const FIELD_KINDS = ['text', 'number', 'choice', 'date', 'link', 'yesno'] as const;
export type FieldKind = (typeof FIELD_KINDS)[number];

export const TEXT_MAX_CHARS = 2000;

const FieldInputSchema = z.strictObject({
  id,
  label: z.string().min(1),
  kind: z.enum(FIELD_KINDS),
  /** Default true (a ledger item is answered unless marked optional), false with requiredWhen. */
  required: z.boolean().optional(),
  /** Required only when an earlier yes/no or choice field has this answer. */
  requiredWhen: z.strictObject({ field: id, equals: z.union([z.boolean(), z.string().min(1)]) }).optional(),
  /** choice: the answers offered. */
  options: z.array(z.string().min(1)).min(2).optional(),
  /** number: the unit shown with the label (次, 项, %). */
  unit: z.string().min(1).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  integer: z.boolean().optional(),
  /** text: a multi-line box. */
  multiline: z.boolean().optional(),
  hint: z.string().min(1).optional(),
  /** The code of the scheme indicator this item feeds (e.g. "1.1.2" of laiwu-performance), for reference. */
  indicator: z.string().min(1).optional(),
});

const FieldSchema = FieldInputSchema.transform(({ required, ...f }) => ({ ...f, required: required ?? f.requiredWhen === undefined }));
export type LedgerField = z.output<typeof FieldSchema>;

export const CHECK_OPS = ['<=', '<', '>=', '>', '=='] as const;
export type LedgerCheckOp = (typeof CHECK_OPS)[number];

/**
 * A cross-field check: numbers that must agree, e.g. { a: 'substantiated', op: '<=', b: 'received' }
 * (查实 ≤ 收到). Declared on the aspect that holds `a`, whose field shows the error; `b` may be
 * any number field of the ledger. Checked only when both are answered and valid.
 */
const CheckSchema = z.strictObject({
  a: id,
  op: z.enum(CHECK_OPS),
  b: id,
  /** The Chinese sentence shown under `a` when the check fails (a default names both fields). */
  message: z.string().min(1).optional(),
});
export type LedgerCheck = z.output<typeof CheckSchema>;

const AspectSchema = z.strictObject({ title: z.string().min(1), fields: z.array(FieldSchema).min(1), checks: z.array(CheckSchema).min(1).optional() });
export type LedgerAspect = z.output<typeof AspectSchema>;

export const LedgerFileSchema = z
  .strictObject({
    ...TemplateHeader,
    recurrence: z.enum(RECURRENCES),
    due: DueRuleSchema,
    /** Overrides of the reminder policy (src/domain/reminders.ts), kept as given. */
    reminderPolicy: z.record(z.string(), z.unknown()).optional(),
    /** 方面: the items grouped as the paper ledger groups them. */
    aspects: z.array(AspectSchema).min(1),
  })
  .superRefine((l, ctx) => {
    for (const message of dueRuleProblems(l.recurrence, l.due)) ctx.addIssue({ code: 'custom', path: ['due'], message });
    const seen = new Map<string, LedgerField>();
    l.aspects.forEach((a, i) =>
      a.fields.forEach((f, j) => {
        const path = ['aspects', i, 'fields', j];
        if (seen.has(f.id)) ctx.addIssue({ code: 'custom', path: [...path, 'id'], message: `duplicate field id ${f.id}` });
        const misplaced = (prop: string, kinds: string) => ctx.addIssue({ code: 'custom', path: [...path, prop], message: `${prop} is only for ${kinds} fields` });
        if (f.kind === 'choice' && !f.options) ctx.addIssue({ code: 'custom', path: [...path, 'options'], message: 'a choice field lists its options' });
        if (f.kind !== 'choice' && f.options) misplaced('options', 'choice');
        if (f.kind !== 'number') for (const p of ['unit', 'min', 'max', 'integer'] as const) if (f[p] !== undefined) misplaced(p, 'number');
        if (f.kind !== 'text' && f.multiline !== undefined) misplaced('multiline', 'text');
        if (f.options && new Set(f.options).size !== f.options.length) ctx.addIssue({ code: 'custom', path: [...path, 'options'], message: 'options repeat' });
        if (f.min !== undefined && f.max !== undefined && f.min > f.max) ctx.addIssue({ code: 'custom', path: [...path, 'min'], message: 'min is above max' });
        if (f.requiredWhen) {
          const w = f.requiredWhen;
          const on = seen.get(w.field);
          const wp = [...path, 'requiredWhen'];
          if (f.required) ctx.addIssue({ code: 'custom', path: [...wp], message: 'a field is either required or requiredWhen, not both' });
          if (!on) ctx.addIssue({ code: 'custom', path: [...wp, 'field'], message: `${w.field} is not an earlier field` });
          else if (on.kind === 'yesno' ? typeof w.equals !== 'boolean' : on.kind !== 'choice' || typeof w.equals !== 'string' || !on.options?.includes(w.equals))
            ctx.addIssue({ code: 'custom', path: [...wp, 'equals'], message: `must be true/false for a yes/no field or one of the options of a choice field (${w.field})` });
        }
        seen.set(f.id, f);
      }),
    );
    l.aspects.forEach((a, i) =>
      a.checks?.forEach((c, j) => {
        const path = ['aspects', i, 'checks', j];
        const onA = a.fields.find((f) => f.id === c.a);
        if (!onA) ctx.addIssue({ code: 'custom', path: [...path, 'a'], message: `${c.a} is not a field of this aspect` });
        else if (onA.kind !== 'number') ctx.addIssue({ code: 'custom', path: [...path, 'a'], message: `${c.a} is not a number field` });
        const onB = seen.get(c.b);
        if (!onB) ctx.addIssue({ code: 'custom', path: [...path, 'b'], message: `${c.b} is not a field of this ledger` });
        else if (onB.kind !== 'number') ctx.addIssue({ code: 'custom', path: [...path, 'b'], message: `${c.b} is not a number field` });
        if (c.a === c.b) ctx.addIssue({ code: 'custom', path: [...path, 'b'], message: 'a check compares two different fields' });
      }),
    );
  });

export type LedgerFile = z.output<typeof LedgerFileSchema>;

export function parseLedgerFile(raw: unknown, source = 'ledger'): { ok: true; ledger: LedgerFile } | { ok: false; errors: string[] } {
  const parsed = LedgerFileSchema.safeParse(raw);
  if (parsed.success) return { ok: true, ledger: parsed.data };
  return { ok: false, errors: parsed.error.issues.map((i) => `${source}: ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`) };
}

export function ledgerFields(aspects: readonly LedgerAspect[]): LedgerField[] {
  return aspects.flatMap((a) => a.fields);
}

export function ledgerChecks(aspects: readonly LedgerAspect[]): LedgerCheck[] {
  return aspects.flatMap((a) => a.checks ?? []);
}

// ---------------------------------------------------------------------------- entries

export type LedgerValue = string | number | boolean | null;
/** Field id → answer: text/choice/link as text, number, date 'YYYY-MM-DD', yes/no as boolean; null = not answered. */
export type LedgerValues = Readonly<Record<string, LedgerValue>>;

export type LedgerEntryStatus = 'pending' | 'submitted' | 'returned';

export interface LedgerEntryState {
  readonly id: number;
  readonly unitId: number;
  /** The assignment's campaign; null for a standing ledger. */
  readonly campaignId: number | null;
  readonly period: string;
  readonly status: LedgerEntryStatus;
  readonly revision: number;
}

export type LedgerRefusal = 'forbidden' | 'already_submitted' | 'stale_version' | 'ledger_closed' | 'ledger_not_submitted';

/**
 * How a person relates to a unit's ledger: its filler (fills it in), its head or an evaluator
 * (read it). A grant with a campaign counts only for that campaign's assignments; a standing
 * grant (no campaign) for every assignment.
 */
export function ledgerAccess(actor: Actor, scope: { unitId: number; campaignId: number | null }): 'filler' | 'head' | 'evaluator' | null {
  const inCampaign = (g: { campaignId: number | null }) => g.campaignId === null || g.campaignId === scope.campaignId;
  const has = (role: string, ofUnit: boolean) => actor.roles.some((g) => g.role === role && inCampaign(g) && (!ofUnit || g.unitId === scope.unitId));
  if (has('filler', true)) return 'filler';
  if (has('unit_head', true)) return 'head';
  if (has('evaluator', false)) return 'evaluator';
  return null;
}

/**
 * Whether a filler may submit this entry from a card built at revision `card.rev`, on `today`.
 * A pending entry is accepted while its period is open; a returned one at any time (it was
 * asked for).
 */
export function decideLedgerSubmit(state: LedgerEntryState, actor: Actor, card: { rev: number }, today: string): { ok: true } | { ok: false; refusal: LedgerRefusal } {
  if (ledgerAccess(actor, state) !== 'filler') return { ok: false, refusal: 'forbidden' };
  if (state.status === 'submitted') return { ok: false, refusal: 'already_submitted' };
  if (card.rev !== state.revision) return { ok: false, refusal: 'stale_version' };
  if (state.status === 'pending' && !isPeriodOpen(state.period, today)) return { ok: false, refusal: 'ledger_closed' };
  return { ok: true };
}

/** Whether an evaluator may return a submitted entry for changes. */
export function decideLedgerReturn(state: LedgerEntryState, actor: Actor, card: { rev: number }): { ok: true } | { ok: false; refusal: LedgerRefusal } {
  if (ledgerAccess(actor, state) !== 'evaluator') return { ok: false, refusal: 'forbidden' };
  if (state.status !== 'submitted') return { ok: false, refusal: 'ledger_not_submitted' };
  if (card.rev !== state.revision) return { ok: false, refusal: 'stale_version' };
  return { ok: true };
}
