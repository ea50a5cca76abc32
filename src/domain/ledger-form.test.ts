import { describe, expect, it } from 'vitest';
import type { LedgerCheck, LedgerField } from './ledger';
import { ledgerFieldName, ledgerFormValues, parseLedgerForm, parseLedgerReturnForm } from './ledger-form';
import { ledgerFieldErrorText } from '../../cards/messages';

const field = (f: Partial<LedgerField> & Pick<LedgerField, 'id' | 'label' | 'kind'>): LedgerField => ({ required: true, ...f });
const FIELDS: LedgerField[] = [
  field({ id: 'inspections', label: '排查次数', kind: 'number', unit: '次', integer: true, min: 0 }),
  field({ id: 'fix-rate', label: '整改率', kind: 'number', unit: '%', min: 0, max: 100 }),
  field({ id: 'level', label: '整改情况', kind: 'choice', options: ['全部整改', '部分整改'] }),
  field({ id: 'checked-on', label: '检查日期', kind: 'date' }),
  field({ id: 'report', label: '报告链接', kind: 'link', required: false }),
  field({ id: 'major', label: '是否存在重大事故隐患', kind: 'yesno' }),
  field({ id: 'major-text', label: '重大事故隐患情况', kind: 'text', required: false, requiredWhen: { field: 'major', equals: true } }),
  field({ id: 'note', label: '备注', kind: 'text', required: false }),
];
const n = (id: string) => ledgerFieldName({ id });

describe('parseLedgerForm', () => {
  it('types every answer of a valid form', () => {
    const r = parseLedgerForm(FIELDS, { [n('inspections')]: '12', [n('fix-rate')]: '96.5', [n('level')]: '全部整改', [n('checked-on')]: '2026-11-20 +0800', [n('report')]: 'https://oa.example.gov.cn/r.pdf', [n('major')]: 'no', [n('note')]: '  ' });
    expect(r).toEqual({ ok: true, values: { inspections: 12, 'fix-rate': 96.5, level: '全部整改', 'checked-on': '2026-11-20', report: 'https://oa.example.gov.cn/r.pdf', major: false, 'major-text': null, note: null } });
  });

  it('refuses each kind of bad answer with a Chinese message naming the field, and echoes the form', () => {
    const form = { [n('inspections')]: '2.5', [n('fix-rate')]: '120', [n('level')]: '没整改', [n('checked-on')]: '2026-02-30', [n('report')]: 'www.example.com', [n('major')]: '也许', [n('note')]: 'x'.repeat(2001) };
    const r = parseLedgerForm(FIELDS, form);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.values).toBe(form);
    expect(Object.fromEntries(r.errors.map((e) => [e.field, ledgerFieldErrorText(e)]))).toEqual({
      [n('inspections')]: '「排查次数」应填写整数，「2.5」不是整数',
      [n('fix-rate')]: '「整改率」不能大于 100',
      [n('level')]: '「整改情况」请从选项中选择（全部整改、部分整改）',
      [n('checked-on')]: '「检查日期」的日期「2026-02-30」无效，请选择日期',
      [n('report')]: '链接「www.example.com」无效，请填写以 http:// 或 https:// 开头的完整网址',
      [n('major')]: '「是否存在重大事故隐患」请选择“是”或“否”',
      [n('note')]: '「备注」内容过长（2001 字），最多 2000 字；下方只保留了前 2000 字，请删改后重新提交',
    });
  });

  it('requires required fields, and a conditional one only when its condition holds', () => {
    const empty = parseLedgerForm(FIELDS, {});
    expect(empty.ok).toBe(false);
    if (!empty.ok) expect(empty.errors.map((e) => e.field)).toEqual([n('inspections'), n('fix-rate'), n('level'), n('checked-on'), n('major')]);
    const base = { [n('inspections')]: '3', [n('fix-rate')]: '100', [n('level')]: '全部整改', [n('checked-on')]: '2026-11-20' };
    const yes = parseLedgerForm(FIELDS, { ...base, [n('major')]: 'yes' });
    expect(yes.ok).toBe(false);
    if (!yes.ok) expect(yes.errors.map((e) => ledgerFieldErrorText(e))).toEqual(['「是否存在重大事故隐患」选择“是”时，请填写「重大事故隐患情况」']);
    expect(parseLedgerForm(FIELDS, { ...base, [n('major')]: 'no' }).ok).toBe(true);
    expect(parseLedgerForm(FIELDS, { ...base, [n('major')]: '是', [n('major-text')]: '某仓库消防通道堵塞' }).ok).toBe(true);
  });

  it('stores text without control characters, counts characters not UTF-16 units, and makes links safe to render', () => {
    const base = { [n('inspections')]: '3', [n('fix-rate')]: '100', [n('level')]: '全部整改', [n('checked-on')]: '2026-11-20', [n('major')]: 'no' };
    const r = parseLedgerForm(FIELDS, { ...base, [n('note')]: '消防\u0000通道\u0007已清理', [n('report')]: 'https://a.example.cn/x)**[官方文件](https://evil.example.com)' });
    expect(r.ok && [r.values.note, r.values.report]).toEqual(['消防通道已清理', 'https://a.example.cn/x%29%2A%2A%5B官方文件%5D%28https://evil.example.com%29']);
    expect(parseLedgerForm(FIELDS, { ...base, [n('note')]: '😀'.repeat(2000) }).ok).toBe(true);
  });

  it('quotes a refused answer briefly, however long it was', () => {
    const r = parseLedgerForm(FIELDS, { [n('inspections')]: 'x'.repeat(100_000) });
    const text = r.ok ? '' : ledgerFieldErrorText(r.errors.find((e) => e.field === n('inspections'))!);
    expect(text).toBe(`「排查次数」应填写数字，「${'x'.repeat(59)}…」不是有效数字`);
  });

  it('says what is wrong with a number', () => {
    const r = parseLedgerForm(FIELDS, { [n('inspections')]: 'abc', [n('fix-rate')]: '-1' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const texts = r.errors.map((e) => ledgerFieldErrorText(e));
    expect(texts).toContain('「排查次数」应填写数字，「abc」不是有效数字');
    expect(texts).toContain('「整改率」不能小于 0');
  });

  it('round-trips stored values into the form', () => {
    const values = { inspections: 12, 'fix-rate': 96.5, level: '全部整改', 'checked-on': '2026-11-20', report: null, major: true, 'major-text': '仓库', note: null };
    const form = ledgerFormValues(FIELDS, values);
    expect(form[n('major')]).toBe('yes');
    expect(parseLedgerForm(FIELDS, form)).toEqual({ ok: true, values });
  });
});

describe('cross-field checks', () => {
  const COUNTS: LedgerField[] = [
    field({ id: 'received', label: '收到件数', kind: 'number', integer: true, min: 0 }),
    field({ id: 'substantiated', label: '其中经查实件数', kind: 'number', integer: true, min: 0 }),
    field({ id: 'closed', label: '办结件数', kind: 'number', integer: true, min: 0, required: false }),
  ];
  const form = (received: string, substantiated: string, closed = '') => ({ [n('received')]: received, [n('substantiated')]: substantiated, [n('closed')]: closed });
  const LE: LedgerCheck = { a: 'substantiated', op: '<=', b: 'received', message: '查实数不能大于收到数' };

  it('refuses numbers that disagree, under the checked field, with the template\'s message', () => {
    const r = parseLedgerForm(COUNTS, form('3', '5'), [LE]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => [e.field, ledgerFieldErrorText(e)])).toEqual([[n('substantiated'), '查实数不能大于收到数']]);
  });

  it.each<[string, string, LedgerCheck['op'], boolean]>([
    ['3', '3', '<=', true], ['3', '2', '<=', true], ['3', '4', '<=', false],
    ['3', '3', '<', false], ['3', '2', '<', true],
    ['3', '3', '>=', true], ['3', '4', '>=', true], ['3', '2', '>=', false],
    ['3', '3', '>', false], ['3', '4', '>', true],
    ['3', '3', '==', true], ['3', '2', '==', false],
  ])('received %s, substantiated %s, substantiated %s received: passes %s', (received, substantiated, op, ok) => {
    expect(parseLedgerForm(COUNTS, form(received, substantiated), [{ a: 'substantiated', op, b: 'received' }]).ok).toBe(ok);
  });

  it('names both fields and their values when the template gives no message', () => {
    const r = parseLedgerForm(COUNTS, form('3', '5'), [{ a: 'substantiated', op: '<=', b: 'received' }]);
    expect(r.ok ? [] : r.errors.map((e) => ledgerFieldErrorText(e))).toEqual(['「其中经查实件数」（5）不能大于「收到件数」（3）']);
    const eq = parseLedgerForm(COUNTS, form('3', '5'), [{ a: 'substantiated', op: '==', b: 'received' }]);
    expect(eq.ok ? [] : eq.errors.map((e) => ledgerFieldErrorText(e))).toEqual(['「其中经查实件数」（5）应等于「收到件数」（3）']);
  });

  it('skips a check while either number is unanswered or already refused, so a field has one error', () => {
    expect(parseLedgerForm(COUNTS, form('3', '1', ''), [{ a: 'closed', op: '<=', b: 'received' }]).ok).toBe(true);
    const bad = parseLedgerForm(COUNTS, form('三', '5'), [LE]);
    expect(bad.ok ? [] : bad.errors.map((e) => [e.field, e.code])).toEqual([[n('received'), 'not_number']]);
    const both = parseLedgerForm(COUNTS, form('3', '5.5'), [LE]);
    expect(both.ok ? [] : both.errors.map((e) => [e.field, e.code])).toEqual([[n('substantiated'), 'not_integer']]);
  });
});

describe('the return form', () => {
  it('requires a reason, trimmed, of at most 2000 characters', () => {
    expect(parseLedgerReturnForm({ return_reason: '  整改率与已整改数不符 ' })).toEqual({ ok: true, reason: '整改率与已整改数不符' });
    for (const empty of [{}, { return_reason: '  \n ' }]) {
      const r = parseLedgerReturnForm(empty);
      expect(r.ok ? '' : ledgerFieldErrorText(r.error)).toBe('退回时请填写退回原因，说明需要单位修改的内容');
    }
    const long = parseLedgerReturnForm({ return_reason: '改'.repeat(2001) });
    expect(long.ok ? '' : ledgerFieldErrorText(long.error)).toBe('「退回原因」内容过长（2001 字），最多 2000 字；下方只保留了前 2000 字，请删改后重新提交');
    expect(parseLedgerReturnForm({ return_reason: '请核实\u0000整改率' })).toEqual({ ok: true, reason: '请核实整改率' });
    expect(parseLedgerReturnForm({ return_reason: '改'.repeat(2000) }).ok).toBe(true);
  });
});
