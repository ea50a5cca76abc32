/**
 * The shipped ledger templates (db/seed/ledgers/*.json): each parses, each keeps what the seed
 * says of it (aspects and item counts, recurrence, due dates), and the 登记管理 ledger's items
 * point at indicators of the Laiwu scheme that exist.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dueDateOf, ledgerChecks, ledgerFields, parseLedgerFile, type LedgerFile } from '../../src/domain/ledger';
import { ledgerFieldName, parseLedgerForm } from '../../src/domain/ledger-form';
import { ledgerFieldErrorText } from '../../cards/messages';
import { flattenIndicators, parseSchemeFile } from '../../src/domain/scheme';
import { loadLedgerTemplates } from './demo';

const dir = fileURLToPath(new URL('./ledgers/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

function load(code: string): LedgerFile {
  const r = parseLedgerFile(JSON.parse(readFileSync(join(dir, `${code}.json`), 'utf8')), `${code}.json`);
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.ledger;
}

const shape = (l: LedgerFile) => l.aspects.map((a) => [a.title, a.fields.length]);

describe('the ledger templates', () => {
  it('ships the four ledgers of the seed, each valid and named after its file', async () => {
    expect(files).toEqual(['laiwu-establishment-management.json', 'laiwu-registration-supervision.json', 'safety-duty-report.json', 'safety-hazard-monthly-report.json']);
    for (const f of files) expect(load(f.replace(/\.json$/, '')).code).toBe(f.replace(/\.json$/, ''));
    expect((await loadLedgerTemplates()).map((l) => l.name)).toEqual(['机构编制日常管理台账', '登记管理日常监管台账', '安全生产履职报告书', '月度隐患排查治理情况报告']);
  });

  it('登记管理日常监管台账: 6 aspects, 20 items, monthly, due the 5th of the next month', () => {
    const l = load('laiwu-registration-supervision');
    expect(shape(l)).toEqual([['法人登记', 4], ['年度报告公示', 4], ['履行宗旨和开展业务', 4], ['信息公开', 3], ['材料提报', 2], ['群众投诉举报', 3]]);
    expect(ledgerFields(l.aspects)).toHaveLength(20);
    expect(l.recurrence).toBe('monthly');
    expect(dueDateOf(l.due, '2026-12')).toBe('2027-01-05');
    expect(l.source).toContain('假设');
  });

  it('机构编制日常管理台账: 3 aspects, 12 items, quarterly', () => {
    const l = load('laiwu-establishment-management');
    expect(shape(l)).toEqual([['实名制数据库维护', 4], ['用编进人计划核准', 4], ['进出编业务办理', 4]]);
    expect(l.recurrence).toBe('quarterly');
    expect(dueDateOf(l.due, '2026-Q4')).toBe('2027-01-10');
    expect(l.source).toContain('假设');
  });

  it('the Laiwu ledgers point at indicators of the Laiwu scheme under the matching 大项', () => {
    const scheme = parseSchemeFile(JSON.parse(readFileSync(fileURLToPath(new URL('./schemes/laiwu-performance.json', import.meta.url)), 'utf8')));
    if (!scheme.ok) throw new Error(scheme.errors.join('\n'));
    const codes = new Set(flattenIndicators(scheme.scheme).map((r) => r.code));
    for (const [code, top] of [['laiwu-registration-supervision', '1.'], ['laiwu-establishment-management', '2.']] as const) {
      for (const f of ledgerFields(load(code).aspects)) {
        expect(f.indicator, `${code} ${f.id}`).toBeDefined();
        expect(codes.has(f.indicator!), `${code} ${f.id} → ${f.indicator}`).toBe(true);
        expect(f.indicator!.startsWith(top)).toBe(true);
      }
    }
  });

  it('月度隐患排查治理情况报告: monthly, due the 25th, with the counts, the rate and a conditional 重大隐患 description', () => {
    const l = load('safety-hazard-monthly-report');
    expect(l.recurrence).toBe('monthly');
    expect(dueDateOf(l.due, '2026-11')).toBe('2026-11-25');
    const byLabel = new Map(ledgerFields(l.aspects).map((f) => [f.label, f]));
    for (const label of ['排查次数', '发现隐患数', '已整改数']) expect(byLabel.get(label)).toMatchObject({ kind: 'number', integer: true, min: 0, required: true });
    expect(byLabel.get('整改率')).toMatchObject({ kind: 'number', unit: '%', min: 0, max: 100 });
    expect(byLabel.get('是否存在重大事故隐患')).toMatchObject({ kind: 'yesno', required: true });
    expect(byLabel.get('重大事故隐患情况')).toMatchObject({ kind: 'text', required: false, requiredWhen: { field: 'major-hazard', equals: true } });
  });

  it.each([
    ['laiwu-registration-supervision', 'complaints-substantiated', 'complaints-received', '经查实件数不能大于本月收到的投诉举报件数'],
    ['safety-hazard-monthly-report', 'hazards-fixed', 'hazards-found', '已整改数不能大于发现隐患数'],
    ['safety-duty-report', 'major-accidents', 'accidents', '较大及以上事故起数不能大于各类事故起数'],
  ])('%s: %s may not exceed %s', (code, part, whole, message) => {
    const l = load(code);
    expect(ledgerChecks(l.aspects)).toEqual([{ a: part, op: '<=', b: whole, message }]);
    const fields = ledgerFields(l.aspects);
    const form: Record<string, string> = {};
    for (const f of fields) form[ledgerFieldName(f)] = f.kind === 'number' ? '2' : f.kind === 'yesno' ? 'no' : f.kind === 'choice' ? f.options![0]! : f.kind === 'date' ? '2026-11-20' : f.kind === 'link' ? 'https://oa.example.gov.cn/a.pdf' : '情况正常';
    expect(parseLedgerForm(fields, form, ledgerChecks(l.aspects)).ok).toBe(true);
    const r = parseLedgerForm(fields, { ...form, [ledgerFieldName({ id: part })]: '3' }, ledgerChecks(l.aspects));
    expect(r.ok ? [] : r.errors.map((e) => [e.field, ledgerFieldErrorText(e)])).toEqual([[ledgerFieldName({ id: part }), message]]);
  });

  it('安全生产履职报告书: half-yearly, due 7月5日 and 1月5日 of the next year', () => {
    const l = load('safety-duty-report');
    expect(l.recurrence).toBe('half-yearly');
    expect(dueDateOf(l.due, '2026-H1')).toBe('2026-07-05');
    expect(dueDateOf(l.due, '2026-H2')).toBe('2027-01-05');
    expect(ledgerFields(l.aspects).some((f) => f.kind === 'date')).toBe(true);
  });
});
