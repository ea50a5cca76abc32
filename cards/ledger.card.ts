/**
 * Cards of the ledger (台账) flow: a unit's entry for one period as a form for its filler
 * (items grouped by aspect in collapsible panels, refused answers shown under their fields),
 * and as a read-only record once submitted or for the unit's head and evaluators (who may
 * return a submitted entry with a reason); plus the rows that list a person's open entries on
 * the 我的待办 card, and the entries submitted recently on an evaluator's.
 */
import { encodeAction } from './actions';
import { actions, button, divider, fields, md, notice, type CardSpec, type Element, type HeaderColor } from './kit';
import { LEDGER_STATUS_TEXT, LEDGER_STATUS_TEXT_EN, ledgerFieldErrorText, ledgerFieldErrorTextFor } from './messages';
import {
  dateZh,
  ledgerFields,
  periodLabel,
  periodLabelEn,
  TEXT_MAX_CHARS,
  type LedgerAspect,
  type LedgerEntryStatus,
  type LedgerField,
  type LedgerValue,
  type LedgerValues,
} from '../src/domain/ledger';
import { ledgerFieldName, ledgerFormValues, RETURN_REASON_FIELD, type LedgerFieldError } from '../src/domain/ledger-form';
import type { FormValues } from '../src/domain/self-evaluation';
import { clip, cleanText } from '../src/domain/text';
import { shanghaiDate, shanghaiDateTime } from '../src/domain/time';

export interface LedgerEntryView {
  readonly entryId: number;
  readonly rev: number;
  readonly status: LedgerEntryStatus;
  readonly definitionName: string;
  readonly description?: string;
  readonly unitName: string;
  readonly period: string;
  /** Nominal 'YYYY-MM-DD'. */
  readonly dueDate: string;
  /** 'YYYY-MM-DD' in Asia/Shanghai, for the overdue mark. */
  readonly today: string;
  /** Whether a pending entry still accepts a submission (its period is open). */
  readonly open: boolean;
  readonly aspects: readonly LedgerAspect[];
  readonly values: LedgerValues;
  readonly submittedAt: number | null;
  readonly submittedByName: string | null;
  readonly returnComment: string | null;
}

export interface LedgerFormFeedback {
  readonly errors: readonly LedgerFieldError[];
  /** What the person typed, echoed back so a refused submit loses nothing. */
  readonly values: FormValues;
}

const STATUS_COLOR: Record<LedgerEntryStatus, HeaderColor> = { pending: 'blue', submitted: 'green', returned: 'orange' };

const overdue = (v: LedgerEntryView) => v.status !== 'submitted' && v.today > v.dueDate;
const shortDate = (date: string) => dateZh(date).replace(/^\d+年/, '');

function header(v: LedgerEntryView): CardSpec['header'] {
  const color = overdue(v) ? 'red' : STATUS_COLOR[v.status];
  const tags: Array<{ text: string; textEn?: string; color?: HeaderColor }> = [
    { text: LEDGER_STATUS_TEXT[v.status], textEn: LEDGER_STATUS_TEXT_EN[v.status], color: STATUS_COLOR[v.status] },
    { text: `截止${shortDate(v.dueDate)}`, textEn: `Due ${v.dueDate}`, color: 'grey' },
  ];
  if (overdue(v)) tags.push({ text: '已逾期', textEn: 'Overdue', color: 'red' });
  return { title: `${periodLabel(v.period)} ${v.definitionName}`, titleEn: `${periodLabelEn(v.period)} ${v.definitionName}`, subtitle: v.unitName, color, tags };
}

function summaryFields(v: LedgerEntryView): Element {
  const pairs: Array<[string, string]> = [
    ['填报单位', v.unitName],
    ['填报期间', periodLabel(v.period)],
    ['截止日期', `${dateZh(v.dueDate)}${overdue(v) ? '（已逾期）' : ''}`],
    ['当前状态', LEDGER_STATUS_TEXT[v.status]],
  ];
  if (v.status === 'submitted' && v.submittedAt !== null) pairs.push(['报送时间', `${shanghaiDateTime(v.submittedAt)}${v.submittedByName ? `（${v.submittedByName}）` : ''}`]);
  return fields(pairs);
}

const numberText = (n: number) => (Number.isInteger(n) ? String(n) : String(Number(n.toFixed(4))));

/** An answer as a person reads it. */
export function ledgerValueText(f: LedgerField, value: LedgerValue | undefined): string {
  if (value === null || value === undefined || value === '') return '未填';
  if (typeof value === 'boolean') return value ? '是' : '否';
  if (typeof value === 'number') return `${numberText(value)}${f.unit ? ` ${f.unit}` : ''}`;
  if (f.kind === 'date') return dateZh(value);
  return value;
}

const baseLabel = (f: LedgerField) => (f.kind === 'number' && f.unit ? `${f.label}（${f.unit}）` : f.label);

function labelOf(f: LedgerField, all: readonly LedgerField[]): string {
  const base = baseLabel(f);
  const w = f.requiredWhen;
  if (!w) return base;
  const on = all.find((x) => x.id === w.field);
  const answer = typeof w.equals === 'boolean' ? (w.equals ? '是' : '否') : w.equals;
  return `${base}（${on ? `「${on.label}」` : ''}选“${answer}”时必填）`;
}

const maxLengthOf = (f: LedgerField) => (f.kind === 'number' ? 40 : TEXT_MAX_CHARS);

/** What was typed, as the card echoes it: clean, and no longer than the field takes (a refused answer may be megabytes, and the card is stored). */
const echo = (raw: FormValues[string], max: number) => clip(cleanText(Array.isArray(raw) ? raw.join('\n') : ((raw as string | undefined) ?? '')), max);

const PLACEHOLDER: Record<LedgerField['kind'], string> = { text: '请填写', number: '请输入数字', choice: '请选择', date: '请选择日期', link: 'https://…', yesno: '请选择' };

function control(f: LedgerField, all: readonly LedgerField[], value: string, error: string | undefined): Element {
  const name = ledgerFieldName(f);
  const label = labelOf(f, all);
  const required = f.required;
  switch (f.kind) {
    case 'choice':
      return { type: 'select', name, label, options: (f.options ?? []).map((o) => ({ value: o, label: o })), value: value || undefined, required, error };
    case 'yesno':
      return { type: 'select', name, label, options: [{ value: 'yes', label: '是' }, { value: 'no', label: '否' }], value: value || undefined, required, error };
    case 'date':
      return { type: 'date', name, label, value: value || undefined, required, error };
    default:
      return {
        type: 'input', name, label, required, value, error,
        inputType: f.kind === 'number' ? 'number' : f.kind === 'link' ? 'url' : f.multiline ? 'multiline' : 'text',
        placeholder: PLACEHOLDER[f.kind],
        maxLength: maxLengthOf(f),
      };
  }
}

const aspectTitle = (a: LedgerAspect, i: number) => `${i + 1}. ${a.title}（${a.fields.length}项）`;

function formCard(v: LedgerEntryView, feedback: LedgerFormFeedback | undefined): CardSpec {
  const all = ledgerFields(v.aspects);
  const stored = ledgerFormValues(all, v.values);
  const valueOf = (f: LedgerField) => {
    const name = ledgerFieldName(f);
    if (!feedback) return stored[name] ?? '';
    return echo(feedback.values[name], maxLengthOf(f));
  };
  const errorOf = (f: LedgerField) => {
    const e = feedback?.errors.find((x) => x.field === ledgerFieldName(f));
    return e ? ledgerFieldErrorTextFor(e, f.kind) : undefined;
  };
  const elements: Element[] = [summaryFields(v)];
  if (v.status === 'returned') elements.push(notice('warning', `已退回修改${v.returnComment ? `：${v.returnComment}` : ''}。请修改后重新报送。`, 'Returned for changes; please correct and submit again.'));
  if (overdue(v)) elements.push(notice('warning', `已超过截止日期（${dateZh(v.dueDate)}），请尽快报送。`, 'Past the due date; please submit as soon as possible.'));
  if (feedback && feedback.errors.length > 0) {
    elements.push(notice('error', `有 ${feedback.errors.length} 处需要修改，本次未报送。请按标红提示修改后重新报送。`, `${feedback.errors.length} answers need changes; nothing was submitted.`));
  }
  const formEls: Element[] = [md(v.description ? `${v.description}\n带 * 的为必填项。` : '请逐项填写本期台账，带 * 的为必填项。', 'Fill in each item for this period; items marked * are required.')];
  v.aspects.forEach((a, i) => {
    const hasError = a.fields.some((f) => errorOf(f) !== undefined);
    const els: Element[] = [];
    for (const f of a.fields) {
      if (f.hint) els.push(md(`${f.label}：${f.hint}`));
      els.push(control(f, all, valueOf(f), errorOf(f)));
    }
    formEls.push({ type: 'panel', title: `${aspectTitle(a, i)}${hasError ? ' · 待修改' : ''}`, expanded: hasError || i === 0 || (!feedback && v.aspects.length <= 3), elements: els });
  });
  formEls.push(actions(button({
    label: v.status === 'returned' ? '重新报送' : '报送', labelEn: v.status === 'returned' ? 'Submit again' : 'Submit', style: 'primary', submit: true,
    action: encodeAction('ledger.submit', { entryId: v.entryId, rev: v.rev }),
    confirm: { title: '报送台账', text: `报送后本期台账将锁定，如需修改须由评估组退回。确定报送${periodLabel(v.period)}${v.definitionName}吗？` },
  })));
  elements.push({ type: 'form', name: `ledger_${v.entryId}_r${v.rev}`, elements: formEls });
  return { header: header(v), elements, summary: `请填报${periodLabel(v.period)}${v.definitionName}（截止${dateZh(v.dueDate)}）` };
}

/** The evaluator's 退回 form under a submitted entry: a required reason the filler will read. */
function returnForm(v: LedgerEntryView, feedback: LedgerFormFeedback | undefined): Element[] {
  const error = feedback?.errors.find((e) => e.field === RETURN_REASON_FIELD);
  const typed = feedback?.values[RETURN_REASON_FIELD];
  const out: Element[] = [];
  if (error) out.push(notice('error', '未退回：请按标红提示修改后再退回。', 'Nothing was returned; see the message in red.'));
  out.push({
    type: 'form',
    name: `ledger_${v.entryId}_r${v.rev}_return`,
    elements: [
      {
        type: 'input', name: RETURN_REASON_FIELD, label: '退回原因（必填，单位将看到）', labelEn: 'Reason for returning (required; the unit will read it)',
        inputType: 'multiline', required: true, maxLength: TEXT_MAX_CHARS, placeholder: '请写明需要单位修改的内容',
        value: echo(typed, TEXT_MAX_CHARS), error: error ? ledgerFieldErrorText(error) : undefined,
      },
      actions(button({
        label: '退回修改', labelEn: 'Return for changes', style: 'danger', submit: true,
        action: encodeAction('ledger.return', { entryId: v.entryId, rev: v.rev }),
        confirm: { title: '退回台账', text: `将${v.unitName}${periodLabel(v.period)}${v.definitionName}退回单位修改，单位修改后须重新报送。确定退回吗？` },
      })),
    ],
  });
  return out;
}

function readOnlyCard(v: LedgerEntryView, why: string): CardSpec {
  const elements: Element[] = [summaryFields(v), notice(v.status === 'submitted' ? 'success' : 'info', why)];
  if (v.status === 'returned' && v.returnComment) elements.push(notice('warning', `退回意见：${v.returnComment}`));
  const shown = v.status !== 'pending';
  v.aspects.forEach((a, i) => {
    elements.push({
      type: 'panel',
      title: aspectTitle(a, i),
      expanded: i === 0 || v.aspects.length <= 3,
      elements: [fields(a.fields.map((f) => [f.label, shown ? ledgerValueText(f, v.values[f.id]) : '未填'] as const))],
    });
  });
  return { header: header(v), elements, summary: `${v.unitName}${periodLabel(v.period)}${v.definitionName}：${LEDGER_STATUS_TEXT[v.status]}` };
}

/**
 * An entry's card. `fill`: the filler's, a form while the entry may be submitted; `view`: the
 * unit head's, always read-only; `review`: an evaluator's, read-only with a 退回 form under a
 * submitted entry (`feedback` then holds the refused reason).
 */
export function buildLedgerEntryCard(v: LedgerEntryView, mode: 'fill' | 'view' | 'review', feedback?: LedgerFormFeedback): CardSpec {
  if (v.status === 'submitted') {
    const card = readOnlyCard(v, `本期台账已报送${v.submittedAt !== null ? `（${shanghaiDateTime(v.submittedAt)}）` : ''}。`);
    return mode === 'review' ? { ...card, elements: [...card.elements, ...returnForm(v, feedback)] } : card;
  }
  if (mode !== 'fill') return readOnlyCard(v, v.status === 'returned' ? '已退回单位修改，等待重新报送。' : '单位尚未报送本期台账。');
  if (v.status === 'pending' && !v.open) return readOnlyCard(v, '本期台账的填报期已结束，未报送。');
  return formCard(v, feedback);
}

// ---------------------------------------------------------------------------- 我的待办

export interface LedgerTaskView {
  readonly entryId: number;
  readonly definitionName: string;
  readonly period: string;
  readonly unitName: string;
  readonly dueDate: string;
  readonly status: 'pending' | 'returned';
}

/** One row per open entry, each with a button that opens it. */
export function ledgerTaskRows(tasks: readonly LedgerTaskView[], today: string): Element[] {
  return tasks.map((t) => ({
    type: 'columns',
    columns: [
      { weight: 3, elements: [md(`**${t.status === 'returned' ? '修改台账' : '填报台账'}**：${t.unitName} · ${periodLabel(t.period)}${t.definitionName}（截止${dateZh(t.dueDate)}${today > t.dueDate ? '，已逾期' : ''}）`)] },
      { weight: 1, elements: [button({ label: '去填报', labelEn: 'Open', style: 'primary', action: encodeAction('ledger.open', { entryId: t.entryId }) })] },
    ],
  }));
}

/**
 * The 我的待办 card with the person's open ledger entries added before its refresh button:
 * the count, colour and summary include them, and "no tasks" gives way to them.
 */
export function withLedgerTasks(card: CardSpec, args: { tasks: readonly LedgerTaskView[]; otherTodo: number; today: string }): CardSpec {
  if (args.tasks.length === 0) return card;
  const total = args.otherTodo + args.tasks.length;
  const elements = card.elements.filter((e) => !(e.type === 'notice' && e.tone === 'success' && args.otherTodo === 0));
  const refresh = elements.findIndex((e) => e.type === 'button' && e.action?.id === 'help.show');
  const at = refresh === -1 ? elements.length : refresh;
  return {
    header: { ...card.header, color: 'orange', tags: [{ text: `${total} 项待办`, textEn: `${total} to do` }, ...(card.header.tags ?? []).slice(1)] },
    elements: [...elements.slice(0, at), ...ledgerTaskRows(args.tasks, args.today), ...elements.slice(at)],
    summary: `您有 ${total} 项待办`,
  };
}

// ---------------------------------------------------------------------------- 待查阅的台账 (the evaluation office's 我的待办)

export interface LedgerReviewView {
  readonly entryId: number;
  readonly definitionName: string;
  readonly period: string;
  readonly unitName: string;
  /** Instant (ms) of the submission. */
  readonly submittedAt: number;
}

/**
 * The evaluator's 我的待办 with a "待查阅的台账" section before its refresh button: entries
 * submitted within the last `windowDays` working days, newest first, each opening the entry
 * (read-only with the 退回 form), and how many more there are than the rows shown. Reading is
 * not a task that gets done, so the 待办 count stays as it is.
 */
export function withLedgerReviews(card: CardSpec, args: { reviews: readonly LedgerReviewView[]; total: number; windowDays: number }): CardSpec {
  if (args.reviews.length === 0) return card;
  const rest = args.total - args.reviews.length;
  const section: Element[] = [
    divider(),
    md(`**待查阅的台账**（近${args.windowDays}个工作日报送，共 ${args.total} 份）`, `Ledgers to read (submitted in the last ${args.windowDays} working days: ${args.total})`),
    ...args.reviews.map((r): Element => ({
      type: 'columns',
      columns: [
        { weight: 3, elements: [md(`${r.unitName} · ${periodLabel(r.period)}${r.definitionName}（${dateZh(shanghaiDate(r.submittedAt))}报送）`)] },
        { weight: 1, elements: [button({ label: '查看', labelEn: 'View', action: encodeAction('ledger.open', { entryId: r.entryId }) })] },
      ],
    })),
  ];
  if (rest > 0) section.push(md(`另有 ${rest} 份较早报送的台账未列出，以上为最近报送的 ${args.reviews.length} 份。`, `${rest} earlier submissions not listed.`));
  const refresh = card.elements.findIndex((e) => e.type === 'button' && e.action?.id === 'help.show');
  const at = refresh === -1 ? card.elements.length : refresh;
  return { ...card, elements: [...card.elements.slice(0, at), ...section, ...card.elements.slice(at)] };
}
