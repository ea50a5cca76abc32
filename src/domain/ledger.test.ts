import { describe, expect, it } from 'vitest';
import {
  decideLedgerReturn,
  decideLedgerSubmit,
  dueDateOf,
  entriesToEnsure,
  isPeriodOpen,
  ledgerAccess,
  ledgerFields,
  openPeriods,
  parseLedgerFile,
  parsePeriod,
  periodEnd,
  periodLabel,
  periodLabelEn,
  periodOf,
  periodStart,
  shiftPeriod,
  type DueRule,
  type LedgerEntryState,
  type Recurrence,
} from './ledger';
import type { Actor } from './roles';

describe('periods', () => {
  it.each<[Recurrence, string, string]>([
    ['monthly', '2026-11-30', '2026-11'],
    ['monthly', '2027-01-01', '2027-01'],
    ['monthly', '2026-12-31', '2026-12'],
    ['quarterly', '2026-03-31', '2026-Q1'],
    ['quarterly', '2026-04-01', '2026-Q2'],
    ['quarterly', '2026-09-30', '2026-Q3'],
    ['quarterly', '2026-12-31', '2026-Q4'],
    ['half-yearly', '2026-06-30', '2026-H1'],
    ['half-yearly', '2026-07-01', '2026-H2'],
    ['half-yearly', '2027-01-02', '2027-H1'],
    ['yearly', '2026-12-31', '2026'],
    ['yearly', '2027-01-01', '2027'],
  ])('%s period of %s is %s', (recurrence, date, period) => {
    expect(periodOf(recurrence, date)).toBe(period);
    expect(periodStart(period) <= date && date <= periodEnd(period)).toBe(true);
  });

  it('shifts across year ends in both directions', () => {
    expect(shiftPeriod('2026-12', 1)).toBe('2027-01');
    expect(shiftPeriod('2027-01', -1)).toBe('2026-12');
    expect(shiftPeriod('2026-Q4', 1)).toBe('2027-Q1');
    expect(shiftPeriod('2026-Q1', -1)).toBe('2025-Q4');
    expect(shiftPeriod('2026-Q2', -6)).toBe('2024-Q4');
    expect(shiftPeriod('2026-H2', 1)).toBe('2027-H1');
    expect(shiftPeriod('2026-H1', -1)).toBe('2025-H2');
    expect(shiftPeriod('2026', -1)).toBe('2025');
    expect(shiftPeriod('2026-11', 14)).toBe('2028-01');
  });

  it('knows where each period starts and ends, February of a leap year included', () => {
    expect([periodStart('2028-02'), periodEnd('2028-02')]).toEqual(['2028-02-01', '2028-02-29']);
    expect([periodStart('2027-02'), periodEnd('2027-02')]).toEqual(['2027-02-01', '2027-02-28']);
    expect([periodStart('2026-Q3'), periodEnd('2026-Q3')]).toEqual(['2026-07-01', '2026-09-30']);
    expect([periodStart('2026-H2'), periodEnd('2026-H2')]).toEqual(['2026-07-01', '2026-12-31']);
    expect([periodStart('2026'), periodEnd('2026')]).toEqual(['2026-01-01', '2026-12-31']);
  });

  it('reads only real period keys', () => {
    expect(parsePeriod('2026-11')).toEqual({ recurrence: 'monthly', year: 2026, index: 11 });
    expect(parsePeriod('2026-Q4')).toEqual({ recurrence: 'quarterly', year: 2026, index: 4 });
    expect(parsePeriod('2026-H2')).toEqual({ recurrence: 'half-yearly', year: 2026, index: 2 });
    expect(parsePeriod('2026')).toEqual({ recurrence: 'yearly', year: 2026, index: 1 });
    for (const bad of ['2026-13', '2026-00', '2026-Q5', '2026-H3', '26-11', '2026-11-01', '']) expect(parsePeriod(bad)).toBeNull();
  });

  it('labels periods in Chinese and English', () => {
    expect(['2026-11', '2026-Q4', '2026-H1', '2026-H2', '2026'].map(periodLabel)).toEqual(['2026年11月', '2026年第四季度', '2026年上半年', '2026年下半年', '2026年度']);
    expect(['2026-11', '2026-Q4', '2026-H2', '2026'].map(periodLabelEn)).toEqual(['Nov 2026', 'Q4 2026', 'H2 2026', '2026']);
  });
});

describe('due dates', () => {
  it.each<[DueRule, string, string]>([
    [{ day: 25 }, '2026-11', '2026-11-25'],
    [{ day: 25 }, '2026-Q4', '2026-12-25'],
    [{ day: 25 }, '2026-Q1', '2026-03-25'],
    [{ day: 5, offsetMonths: 1 }, '2026-11', '2026-12-05'],
    [{ day: 5, offsetMonths: 1 }, '2026-12', '2027-01-05'],
    [{ day: 10, offsetMonths: 1 }, '2026-Q4', '2027-01-10'],
    [{ day: 31 }, '2026-11', '2026-11-30'],
    [{ day: 31 }, '2027-02', '2027-02-28'],
    [{ day: 30 }, '2028-02', '2028-02-29'],
    [{ dates: ['07-05', '01-05'] }, '2026-H1', '2026-07-05'],
    [{ dates: ['07-05', '01-05'] }, '2026-H2', '2027-01-05'],
    [{ dates: ['03-25', '06-25', '09-25', '12-25'] }, '2026-Q4', '2026-12-25'],
    [{ monthDay: '03-31', offsetYears: 1 }, '2026', '2027-03-31'],
    [{ monthDay: '12-20' }, '2026', '2026-12-20'],
  ])('%j for %s is %s', (rule, period, due) => {
    expect(dueDateOf(rule, period)).toBe(due);
  });
});

describe('open periods and the entries to create', () => {
  it('keeps the previous period open until the current one ends', () => {
    expect(openPeriods('monthly', '2027-01-01')).toEqual(['2026-12', '2027-01']);
    expect(openPeriods('quarterly', '2027-02-10')).toEqual(['2026-Q4', '2027-Q1']);
    expect(openPeriods('half-yearly', '2027-01-02')).toEqual(['2026-H2', '2027-H1']);
    expect(isPeriodOpen('2026-H2', '2027-06-30')).toBe(true);
    expect(isPeriodOpen('2026-H2', '2027-07-01')).toBe(false);
    expect(isPeriodOpen('2026-12', '2026-11-30')).toBe(false);
  });

  it('creates the current entry always and the previous one only for assignments that existed by its due date', () => {
    const report = { recurrence: 'half-yearly' as const, due: { dates: ['07-05', '01-05'] } };
    expect(entriesToEnsure(report, '2027-01-02')).toEqual([
      { period: '2026-H2', dueDate: '2027-01-05', assignedBy: '2027-01-05' },
      { period: '2027-H1', dueDate: '2027-07-05', assignedBy: null },
    ]);
    const hazard = { recurrence: 'monthly' as const, due: { day: 25 } };
    expect(entriesToEnsure(hazard, '2026-11-30')).toEqual([
      { period: '2026-10', dueDate: '2026-10-25', assignedBy: '2026-10-25' },
      { period: '2026-11', dueDate: '2026-11-25', assignedBy: null },
    ]);
  });
});

const FILE = {
  code: 'hazard', name: '月度隐患排查治理情况报告', recurrence: 'monthly', due: { day: 25 },
  aspects: [{ title: '隐患排查', fields: [{ id: 'inspections', label: '排查次数', kind: 'number' }, { id: 'major', label: '重大隐患', kind: 'yesno' }, { id: 'text', label: '情况', kind: 'text', requiredWhen: { field: 'major', equals: true } }] }],
};

/** FILE with a second aspect holding a number, and `check` on the first aspect. */
const withCheck = (f: typeof FILE, check: Record<string, string>) => ({
  ...f,
  aspects: [{ ...f.aspects[0]!, checks: [check] }, { title: '隐患治理', fields: [{ id: 'found', label: '发现隐患数', kind: 'number' }] }],
});

describe('the ledger file format', () => {
  it('accepts a check across aspects and keeps it on its aspect', () => {
    const r = parseLedgerFile(withCheck(FILE, { a: 'inspections', op: '>=', b: 'found', message: '排查次数不能少于发现隐患数' }));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.ledger.aspects[0]!.checks).toEqual([{ a: 'inspections', op: '>=', b: 'found', message: '排查次数不能少于发现隐患数' }]);
  });

  it('accepts a valid file and fills in defaults', () => {
    const r = parseLedgerFile(FILE);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.ledger.version).toBe(1);
    expect(ledgerFields(r.ledger.aspects).map((f) => [f.id, f.required])).toEqual([['inspections', true], ['major', true], ['text', false]]);
  });

  it.each<[string, (f: typeof FILE) => unknown, string]>([
    ['dates that do not match the recurrence', (f) => ({ ...f, recurrence: 'half-yearly', due: { dates: ['07-05'] } }), 'f.json: due: a half-yearly ledger needs 2 dates, one per period of the year, not 1'],
    ['a due date past the next period', (f) => ({ ...f, due: { day: 5, offsetMonths: 2 } }), 'f.json: due: 2027-01 would be due 2027-03-05, after the next period ends'],
    ['monthDay on a monthly ledger', (f) => ({ ...f, due: { monthDay: '03-31' } }), 'f.json: due: monthDay is for yearly ledgers; use day or dates'],
    ['a 02-29 date', (f) => ({ ...f, recurrence: 'yearly', due: { monthDay: '02-29' } }), 'f.json: due.monthDay: a month and day "MM-DD" that exists every year (not 02-29)'],
    ['a choice without options', (f) => ({ ...f, aspects: [{ title: 'a', fields: [{ id: 'c', label: 'c', kind: 'choice' }] }] }), 'f.json: aspects.0.fields.0.options: a choice field lists its options'],
    ['a unit on a text field', (f) => ({ ...f, aspects: [{ title: 'a', fields: [{ id: 'c', label: 'c', kind: 'text', unit: '次' }] }] }), 'f.json: aspects.0.fields.0.unit: unit is only for number fields'],
    ['a repeated field id', (f) => ({ ...f, aspects: [...f.aspects, { title: 'b', fields: [{ id: 'major', label: 'x', kind: 'yesno' }] }] }), 'f.json: aspects.1.fields.0.id: duplicate field id major'],
    ['a condition on a later field', (f) => ({ ...f, aspects: [{ title: 'a', fields: [{ id: 't', label: 't', kind: 'text', requiredWhen: { field: 'y', equals: true } }, { id: 'y', label: 'y', kind: 'yesno' }] }] }), 'f.json: aspects.0.fields.0.requiredWhen.field: y is not an earlier field'],
    ['a condition with the wrong answer type', (f) => ({ ...f, aspects: [{ title: 'a', fields: [{ id: 'y', label: 'y', kind: 'yesno' }, { id: 't', label: 't', kind: 'text', requiredWhen: { field: 'y', equals: '是' } }] }] }), 'f.json: aspects.0.fields.1.requiredWhen.equals: must be true/false for a yes/no field or one of the options of a choice field (y)'],
    ['an unknown property', (f) => ({ ...f, frequency: 'monthly' }), 'f.json: (root): Unrecognized key: "frequency"'],
    ['a check on a field of another aspect', (f) => withCheck(f, { a: 'found', op: '<=', b: 'inspections' }), 'f.json: aspects.0.checks.0.a: found is not a field of this aspect'],
    ['a check against an unknown field', (f) => withCheck(f, { a: 'inspections', op: '<=', b: 'received' }), 'f.json: aspects.0.checks.0.b: received is not a field of this ledger'],
    ['a check on a yes/no field', (f) => withCheck(f, { a: 'major', op: '<=', b: 'inspections' }), 'f.json: aspects.0.checks.0.a: major is not a number field'],
    ['a check against a text field', (f) => withCheck(f, { a: 'inspections', op: '<=', b: 'text' }), 'f.json: aspects.0.checks.0.b: text is not a number field'],
    ['a check of a field against itself', (f) => withCheck(f, { a: 'inspections', op: '<=', b: 'inspections' }), 'f.json: aspects.0.checks.0.b: a check compares two different fields'],
    ['a check with an unknown operator', (f) => withCheck(f, { a: 'inspections', op: '≤', b: 'found' }), 'f.json: aspects.0.checks.0.op: Invalid option: expected one of "<="|"<"|">="|">"|"=="'],
  ])('refuses %s, pointing at the path', (_what, mutate, message) => {
    const r = parseLedgerFile(mutate(FILE), 'f.json');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toContain(message);
  });
});

describe('who may do what with an entry', () => {
  const state: LedgerEntryState = { id: 1, unitId: 5, campaignId: null, period: '2026-11', status: 'pending', revision: 0 };
  const actor = (role: Actor['roles'][number]['role'], unitId: number | null, campaignId: number | null = null): Actor => ({ personId: 1, name: 'x', roles: [{ role, unitId, campaignId }] });

  it('knows the unit filler, head and evaluators, and no one else', () => {
    expect(ledgerAccess(actor('filler', 5), state)).toBe('filler');
    expect(ledgerAccess(actor('unit_head', 5), state)).toBe('head');
    expect(ledgerAccess(actor('evaluator', null), state)).toBe('evaluator');
    expect(ledgerAccess(actor('filler', 6), state)).toBeNull();
    // A grant for one campaign does not reach a standing ledger.
    expect(ledgerAccess(actor('filler', 5, 3), state)).toBeNull();
    expect(ledgerAccess(actor('filler', 5, 3), { ...state, campaignId: 3 })).toBe('filler');
  });

  it('lets the filler submit an open entry once, from a current card', () => {
    const filler = actor('filler', 5);
    expect(decideLedgerSubmit(state, filler, { rev: 0 }, '2026-11-30')).toEqual({ ok: true });
    expect(decideLedgerSubmit(state, actor('filler', 6), { rev: 0 }, '2026-11-30')).toEqual({ ok: false, refusal: 'forbidden' });
    expect(decideLedgerSubmit(state, actor('evaluator', null), { rev: 0 }, '2026-11-30')).toEqual({ ok: false, refusal: 'forbidden' });
    expect(decideLedgerSubmit({ ...state, status: 'submitted', revision: 1 }, filler, { rev: 0 }, '2026-11-30')).toEqual({ ok: false, refusal: 'already_submitted' });
    expect(decideLedgerSubmit({ ...state, status: 'returned', revision: 2 }, filler, { rev: 0 }, '2026-11-30')).toEqual({ ok: false, refusal: 'stale_version' });
    expect(decideLedgerSubmit(state, filler, { rev: 0 }, '2027-01-01')).toEqual({ ok: false, refusal: 'ledger_closed' });
    // A returned entry was asked for: it may come back late.
    expect(decideLedgerSubmit({ ...state, status: 'returned', revision: 2 }, filler, { rev: 2 }, '2027-03-01')).toEqual({ ok: true });
  });

  it('lets an evaluator, and no one else, return a submitted entry from a current card', () => {
    const submitted: LedgerEntryState = { ...state, status: 'submitted', revision: 1 };
    expect(decideLedgerReturn(submitted, actor('evaluator', null), { rev: 1 })).toEqual({ ok: true });
    for (const who of [actor('filler', 5), actor('unit_head', 5), actor('leader', null), actor('evaluator', null, 3)]) {
      expect(decideLedgerReturn(submitted, who, { rev: 1 })).toEqual({ ok: false, refusal: 'forbidden' });
    }
    expect(decideLedgerReturn(state, actor('evaluator', null), { rev: 0 })).toEqual({ ok: false, refusal: 'ledger_not_submitted' });
    expect(decideLedgerReturn({ ...state, status: 'returned', revision: 2 }, actor('evaluator', null), { rev: 1 })).toEqual({ ok: false, refusal: 'ledger_not_submitted' });
    expect(decideLedgerReturn(submitted, actor('evaluator', null), { rev: 0 })).toEqual({ ok: false, refusal: 'stale_version' });
  });
});
