import { describe, expect, it } from 'vitest';
import registrationJson from '../db/seed/ledgers/laiwu-registration-supervision.json';
import hazardJson from '../db/seed/ledgers/safety-hazard-monthly-report.json';
import { ledgerFields, parseLedgerFile, type LedgerFile } from '../src/domain/ledger';
import { ledgerFieldName, parseLedgerForm } from '../src/domain/ledger-form';
import { buildHelpCard } from './help.card';
import { walk, type CardSpec, type DatePicker, type Element, type Input, type Select } from './kit';
import { buildLedgerEntryCard, withLedgerReviews, withLedgerTasks, type LedgerEntryView, type LedgerReviewView } from './ledger.card';
import { renderCardHtml } from './render/html';
import { renderFeishuCards } from './render/feishu';
import { validateFeishuCard } from './render/feishu-validate';

function ledger(raw: unknown): LedgerFile {
  const r = parseLedgerFile(raw);
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.ledger;
}
const REGISTRATION = ledger(registrationJson);
const HAZARD = ledger(hazardJson);

const view = (l: LedgerFile, o: Partial<LedgerEntryView> = {}): LedgerEntryView => ({
  entryId: 41, rev: 3, status: 'pending', definitionName: l.name, description: l.description, unitName: '县疾病预防控制中心',
  period: '2026-11', dueDate: '2026-12-05', today: '2026-11-30', open: true, aspects: l.aspects, values: {},
  submittedAt: null, submittedByName: null, returnComment: null, ...o,
});

const all = (card: CardSpec): Element[] => [...walk(card.elements)];
const controls = (card: CardSpec) => all(card).filter((e): e is Input | Select | DatePicker => e.type === 'input' || e.type === 'select' || e.type === 'date');
const text = (card: unknown) => JSON.stringify(card);

/** Every answer of the registration ledger filled in validly. */
function fullForm(l: LedgerFile): Record<string, string> {
  const form: Record<string, string> = {};
  for (const f of ledgerFields(l.aspects)) {
    form[ledgerFieldName(f)] = f.kind === 'number' ? '2' : f.kind === 'yesno' ? 'yes' : f.kind === 'choice' ? f.options![0]! : f.kind === 'date' ? '2026-11-20' : f.kind === 'link' ? 'https://oa.example.gov.cn/a.pdf' : '本月按计划开展各项业务工作，情况正常。';
  }
  return form;
}

describe('the ledger entry form', () => {
  const card = buildLedgerEntryCard(view(REGISTRATION), 'fill');

  it('asks for the 20 items in 6 collapsible aspect panels, with required marks, hints, the due date and status', () => {
    expect(card.header.title).toBe('2026年11月 登记管理日常监管台账');
    expect(card.header.titleEn).toBe('Nov 2026 登记管理日常监管台账');
    expect(card.header.subtitle).toBe('县疾病预防控制中心');
    expect(card.header.tags?.map((t) => t.text)).toEqual(['待填报', '截止12月5日']);
    const panels = all(card).filter((e) => e.type === 'panel');
    expect(panels.map((p) => (p.type === 'panel' ? p.title : ''))).toEqual(['1. 法人登记（4项）', '2. 年度报告公示（4项）', '3. 履行宗旨和开展业务（4项）', '4. 信息公开（3项）', '5. 材料提报（2项）', '6. 群众投诉举报（3项）']);
    expect(panels.map((p) => p.type === 'panel' && p.expanded)).toEqual([true, false, false, false, false, false]);
    const cs = controls(card);
    expect(cs).toHaveLength(20);
    expect(cs.map((c) => c.name)).toEqual(ledgerFields(REGISTRATION.aspects).map(ledgerFieldName));
    expect(cs.every((c) => c.required === true)).toBe(true);
    expect(cs.find((c) => c.name === 'f_complaints-received')).toMatchObject({ type: 'input', inputType: 'number', label: '本月收到（含转办）投诉举报件数（件）' });
    expect(cs.find((c) => c.name === 'f_certificate-valid')).toMatchObject({ type: 'select', options: [{ value: 'yes', label: '是' }, { value: 'no', label: '否' }] });
    expect(text(card)).toContain('年度报告公示情况');
    expect(text(card)).toContain('每年1月1日至3月31日报送上一年度报告');
    expect(text(card)).toContain('2026年12月5日');
    const submit = all(card).find((e) => e.type === 'button');
    expect(submit).toMatchObject({ submit: true, action: { id: 'ledger.submit', value: { entryId: 41, rev: 3 } } });
  });

  it('shows each refused answer under its field, keeps what was typed, and opens the panels with errors', () => {
    const form = { ...fullForm(REGISTRATION), 'f_complaints-received': '三件', 'f_within-scope': '', 'f_main-work': '开展了义诊' };
    const parsed = parseLedgerForm(ledgerFields(REGISTRATION.aspects), form);
    if (parsed.ok) throw new Error('expected errors');
    const refused = buildLedgerEntryCard(view(REGISTRATION), 'fill', { errors: parsed.errors, values: parsed.values });
    const byName = new Map(controls(refused).map((c) => [c.name, c]));
    expect(byName.get('f_complaints-received')).toMatchObject({ value: '三件', error: '「本月收到（含转办）投诉举报件数」应填写数字，「三件」不是有效数字' });
    expect(byName.get('f_within-scope')).toMatchObject({ error: '请选择「是否按核准的宗旨和业务范围开展活动」' });
    expect(byName.get('f_main-work')).toMatchObject({ value: '开展了义诊', error: undefined });
    expect(text(refused)).toContain('有 2 处需要修改，本次未报送');
    const panels = all(refused).filter((e) => e.type === 'panel');
    expect(panels.map((p) => p.type === 'panel' && p.title.endsWith('待修改'))).toEqual([false, false, true, false, false, true]);
    expect(panels.map((p) => p.type === 'panel' && p.expanded)).toEqual([true, false, true, false, false, true]);
  });

  it('marks an overdue entry and a conditional field', () => {
    const late = buildLedgerEntryCard(view(HAZARD, { dueDate: '2026-11-25' }), 'fill');
    expect(late.header.color).toBe('red');
    expect(late.header.tags?.map((t) => t.text)).toEqual(['待填报', '截止11月25日', '已逾期']);
    expect(controls(late).find((c) => c.name === 'f_major-hazard-description')).toMatchObject({ required: false, label: '重大事故隐患情况（「是否存在重大事故隐患」选“是”时必填）' });
  });
});

describe('read-only ledger cards', () => {
  const values = { inspections: 4, 'sites-inspected': 3, 'hazards-found': 2, 'hazards-fixed': 2, 'fix-rate': 100, 'open-hazard-measures': null, 'major-hazard': false, 'major-hazard-description': null, 'major-hazard-report': null };

  it('shows a submitted entry as a summary without a form or buttons, for the filler too', () => {
    const card = buildLedgerEntryCard(view(HAZARD, { status: 'submitted', rev: 4, values, submittedAt: Date.parse('2026-11-20T02:30:00Z'), submittedByName: '王晓燕' }), 'fill');
    expect(all(card).some((e) => e.type === 'form' || e.type === 'button' || e.type === 'input')).toBe(false);
    expect(card.header.tags?.[0]?.text).toBe('已报送');
    const t = text(card);
    for (const s of ['本期台账已报送', '2026-11-20 10:30（王晓燕）', '"排查次数","value":"4 次"', '"整改率","value":"100 %"', '"是否存在重大事故隐患","value":"否"', '"重大事故隐患情况","value":"未填"']) expect(t).toContain(s);
  });

  it('shows a pending entry read-only to the head or an evaluator, and a closed one to the filler', () => {
    expect(all(buildLedgerEntryCard(view(HAZARD), 'view')).some((e) => e.type === 'form')).toBe(false);
    expect(text(buildLedgerEntryCard(view(HAZARD), 'view'))).toContain('单位尚未报送本期台账');
    const closed = buildLedgerEntryCard(view(HAZARD, { open: false, today: '2027-01-02' }), 'fill');
    expect(all(closed).some((e) => e.type === 'form')).toBe(false);
    expect(text(closed)).toContain('填报期已结束');
    const returned = buildLedgerEntryCard(view(HAZARD, { status: 'returned', open: false, values, returnComment: '整改率填写有误' }), 'fill');
    expect(all(returned).some((e) => e.type === 'form')).toBe(true);
    expect(text(returned)).toContain('已退回修改：整改率填写有误');
    expect(controls(returned).find((c) => c.name === 'f_inspections')).toMatchObject({ value: '4' });
    expect(controls(returned).find((c) => c.name === 'f_major-hazard')).toMatchObject({ value: 'no' });
  });
});

describe('the evaluator\'s card', () => {
  const values = { inspections: 4, 'sites-inspected': 3, 'hazards-found': 2, 'hazards-fixed': 2, 'fix-rate': 100, 'open-hazard-measures': null, 'major-hazard': false, 'major-hazard-description': null, 'major-hazard-report': null };
  const submitted = view(HAZARD, { status: 'submitted', rev: 4, values, submittedAt: Date.parse('2026-11-20T02:30:00Z'), submittedByName: '王晓燕' });

  it('offers 退回修改 under a submitted entry, with a required reason and a confirm', () => {
    const card = buildLedgerEntryCard(submitted, 'review');
    expect(text(card)).toContain('"排查次数","value":"4 次"');
    expect(controls(card)).toEqual([expect.objectContaining({ type: 'input', name: 'return_reason', inputType: 'multiline', required: true, maxLength: 2000, value: '' })]);
    const back = all(card).find((e) => e.type === 'button');
    expect(back).toMatchObject({ label: '退回修改', style: 'danger', submit: true, action: { id: 'ledger.return', value: { entryId: 41, rev: 4 } } });
    expect(back?.type === 'button' && back.confirm?.text).toBe('将县疾病预防控制中心2026年11月月度隐患排查治理情况报告退回单位修改，单位修改后须重新报送。确定退回吗？');
  });

  it('shows a refused reason under its field and keeps what was typed', () => {
    const card = buildLedgerEntryCard(submitted, 'review', { errors: [{ field: 'return_reason', label: '退回原因', code: 'too_long', params: { max: 2000 } }], values: { return_reason: '太长' } });
    expect(controls(card)[0]).toMatchObject({ value: '太长', error: '「退回原因」内容过长，最多 2000 字' });
    expect(text(card)).toContain('未退回：请按标红提示修改后再退回。');
  });

  it('echoes no more of a refused answer than its field takes, and no control characters', () => {
    const long = buildLedgerEntryCard(submitted, 'review', { errors: [{ field: 'return_reason', label: '退回原因', code: 'too_long', params: { max: 2000, count: 50_000 } }], values: { return_reason: '改\u0000'.repeat(50_000) } });
    expect(controls(long)[0]).toMatchObject({ value: '改'.repeat(2000) });
    const form = buildLedgerEntryCard(view(HAZARD), 'fill', { errors: [], values: { 'f_open-hazard-measures': '措'.repeat(30_000), f_inspections: '9'.repeat(1000) } });
    expect(controls(form).find((c) => c.name === 'f_open-hazard-measures')?.value).toBe('措'.repeat(2000));
    expect(controls(form).find((c) => c.name === 'f_inspections')?.value).toBe('9'.repeat(40));
  });

  it('has no return form for the head, nor for an entry not submitted', () => {
    for (const card of [
      buildLedgerEntryCard(submitted, 'view'),
      buildLedgerEntryCard(submitted, 'fill'),
      buildLedgerEntryCard(view(HAZARD), 'review'),
      buildLedgerEntryCard(view(HAZARD, { status: 'returned', values, returnComment: '请核实整改率' }), 'review'),
    ]) {
      expect(all(card).some((e) => e.type === 'form' || e.type === 'button')).toBe(false);
    }
    expect(text(buildLedgerEntryCard(view(HAZARD, { status: 'returned', values, returnComment: '请核实整改率' }), 'review'))).toContain('退回意见：请核实整改率');
  });
});

describe('the cards on Feishu and in the simulator', () => {
  const parsed = parseLedgerForm(ledgerFields(REGISTRATION.aspects), {});
  const everyError = parsed.ok ? [] : parsed.errors;
  const cards: Array<[string, CardSpec]> = [
    ['the 20-item form', buildLedgerEntryCard(view(REGISTRATION), 'fill')],
    ['the 20-item form with 20 errors', buildLedgerEntryCard(view(REGISTRATION), 'fill', { errors: everyError, values: {} })],
    ['the 20-item form returned with values', buildLedgerEntryCard(view(REGISTRATION, { status: 'returned', returnComment: '请核实', values: (() => { const r = parseLedgerForm(ledgerFields(REGISTRATION.aspects), fullForm(REGISTRATION)); return r.ok ? r.values : {}; })() }), 'fill')],
    ['the 20-item summary', buildLedgerEntryCard(view(REGISTRATION, { status: 'submitted', submittedAt: 0, submittedByName: '王晓燕' }), 'fill')],
    ['the hazard form', buildLedgerEntryCard(view(HAZARD, { dueDate: '2026-11-25' }), 'fill')],
    ['the evaluator\'s 20-item summary with the return form', buildLedgerEntryCard(view(REGISTRATION, { status: 'submitted', submittedAt: 0, submittedByName: '王晓燕' }), 'review', { errors: [{ field: 'return_reason', label: '退回原因', code: 'reason_required' }], values: {} })],
  ];

  it('has one error per required item on an empty submit', () => {
    expect(everyError).toHaveLength(20);
  });

  it.each(cards)('%s renders as one valid Feishu card', (_name, spec) => {
    const rendered = renderFeishuCards(spec);
    expect(rendered).toHaveLength(1);
    expect(validateFeishuCard(rendered[0])).toEqual([]);
    expect(() => renderCardHtml(spec, { messageId: 1, actor: 'p1', nonce: 'n' })).not.toThrow();
  });

  it('puts a refused answer right under its field on Feishu', () => {
    const spec = buildLedgerEntryCard(view(REGISTRATION), 'fill', { errors: everyError, values: {} });
    const json = text(renderFeishuCards(spec)[0]);
    const field = json.indexOf('"name":"f_complaints-received"');
    const message = json.indexOf('请填写「本月收到（含转办）投诉举报件数」');
    expect(field).toBeGreaterThan(-1);
    expect(message).toBeGreaterThan(field);
    expect(json.indexOf('"name":"f_complaints-substantiated"')).toBeGreaterThan(message);
  });
});

describe('ledger rows on 我的待办', () => {
  const tasks = [{ entryId: 7, definitionName: '月度隐患排查治理情况报告', period: '2026-11', unitName: '县图书馆', dueDate: '2026-11-25', status: 'pending' as const }];

  it('adds a row with an open button, counts it, and replaces "no tasks"', () => {
    const base = buildHelpCard({ name: '张雅琴', tasks: [], now: Date.parse('2026-11-30T01:00:00Z') });
    expect(text(base)).toContain('您目前没有待办事项');
    const card = withLedgerTasks(base, { tasks, otherTodo: 0, today: '2026-11-30' });
    expect(card.header.tags?.[0]?.text).toBe('1 项待办');
    expect(card.header.color).toBe('orange');
    expect(card.summary).toBe('您有 1 项待办');
    expect(text(card)).not.toContain('您目前没有待办事项');
    expect(text(card)).toContain('县图书馆 · 2026年11月月度隐患排查治理情况报告（截止2026年11月25日，已逾期）');
    const buttons = all(card).filter((e) => e.type === 'button');
    expect(buttons.map((b) => b.type === 'button' && b.action?.id)).toEqual(['ledger.open', 'help.show']);
    expect(buttons[0]).toMatchObject({ action: { value: { entryId: 7 } } });
    expect(withLedgerTasks(base, { tasks: [], otherTodo: 0, today: '2026-11-30' })).toBe(base);
  });
});

describe('待查阅的台账 on an evaluator\'s 我的待办', () => {
  const NOW = Date.parse('2026-11-30T01:00:00Z');
  const HOUR = 3_600_000;
  const UNITS = ['县图书馆', '县疾病预防控制中心', '县文化馆'];
  /** 23 submissions, newest first, one an hour before 09:00 on 30 November. */
  const reviews: LedgerReviewView[] = Array.from({ length: 23 }, (_, i) => ({
    entryId: 100 + i, definitionName: i % 2 ? '登记管理日常监管台账' : '月度隐患排查治理情况报告', period: '2026-11', unitName: UNITS[i % 3]!, submittedAt: NOW - i * 20 * HOUR,
  }));
  const base = buildHelpCard({ name: '黄淑芬', tasks: [], now: NOW });
  const card = withLedgerReviews(base, { reviews: reviews.slice(0, 20), total: 23, windowDays: 10 });

  it('lists the rows it is given with their unit, ledger, period and submission date, a 查看 button each, and counts the rest', () => {
    expect(text(card)).toContain('**待查阅的台账**（近10个工作日报送，共 23 份）');
    expect(text(card)).toContain('县图书馆 · 2026年11月月度隐患排查治理情况报告（2026年11月30日报送）');
    expect(text(card)).toContain('县疾病预防控制中心 · 2026年11月登记管理日常监管台账（2026年11月29日报送）');
    expect(text(card)).toContain('另有 3 份较早报送的台账未列出，以上为最近报送的 20 份。');
    expect(text(card)).not.toContain('县文化馆 · 2026年11月月度隐患排查治理情况报告（2026年11月13日报送）'); // the 21st is not shown
    const buttons = all(card).filter((e) => e.type === 'button');
    expect(buttons.map((b) => b.type === 'button' && [b.label, b.action?.id, b.action?.value.entryId])).toEqual([
      ...reviews.slice(0, 20).map((r) => ['查看', 'ledger.open', r.entryId]),
      ['刷新待办', 'help.show', undefined],
    ]);
  });

  it('is not a task: the count, colour and summary stay as they were', () => {
    expect(card.header).toEqual(base.header);
    expect(card.summary).toBe(base.summary);
  });

  it('says nothing of a rest when every row is shown, and adds nothing when there is none', () => {
    const few = withLedgerReviews(base, { reviews: reviews.slice(0, 2), total: 2, windowDays: 10 });
    expect(text(few)).toContain('共 2 份');
    expect(text(few)).not.toContain('另有');
    expect(all(few).filter((e) => e.type === 'button')).toHaveLength(3);
    expect(withLedgerReviews(base, { reviews: [], total: 0, windowDays: 10 })).toBe(base);
  });

  it('follows the person\'s own ledger rows, and renders as one valid Feishu card at its largest', () => {
    const tasks = [{ entryId: 7, definitionName: '月度隐患排查治理情况报告', period: '2026-11', unitName: '县图书馆', dueDate: '2026-11-25', status: 'pending' as const }];
    const both = withLedgerReviews(withLedgerTasks(base, { tasks, otherTodo: 0, today: '2026-11-30' }), { reviews: reviews.slice(0, 20), total: 23, windowDays: 10 });
    const ids = all(both).filter((e) => e.type === 'button').map((b) => b.type === 'button' && b.action?.value.entryId);
    expect(ids.slice(0, 2)).toEqual([7, 100]);
    const rendered = renderFeishuCards(both);
    expect(rendered).toHaveLength(1);
    expect(validateFeishuCard(rendered[0])).toEqual([]);
    expect(() => renderCardHtml(both, { messageId: 1, actor: 'p1', nonce: 'n' })).not.toThrow();
  });
});
