import { asc, eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditLog, scoreSheets, scores, unitFacts } from '../../db/schema';
import { gradeCampaign } from '../domain/grading';
import { createGradingFixture, MOBILES, T0, YEAR, type GradingFixture } from './grading.fixtures';
import { importScores, loadGradingInput, recordGradeHistory, setUnitFacts, upsertScores, type ScoreEntry, type ScoreFileRow } from './grading.repo';
import { actOnPlan, actorByMobile } from './individual-indicators.repo';

let f: GradingFixture;
beforeEach(async () => {
  f = await createGradingFixture();
});
afterEach(() => f.close());

const opts = () => ({ now: T0, actorId: f.people.evaluator });
const named = (unitId: number, raterGroup: string, indicatorCode: string, score: number, personId = f.people.evaluator): ScoreEntry => ({ unitId, raterGroup, indicatorCode, score, rater: { personId } });

async function allScores() {
  return f.db.select().from(scores).orderBy(asc(scores.id));
}

/** The scores as the engine should see them, recomputed from the rows (the sheets must agree). */
async function scoresFromRows(): Promise<Record<number, Record<string, Record<string, number[]>>>> {
  const out: Record<number, Record<string, Record<string, number[]>>> = {};
  for (const r of await allScores()) (((out[r.unitId] ??= {})[r.raterGroup] ??= {})[r.indicatorCode] ??= []).push(r.score);
  for (const u of Object.values(out)) for (const g of Object.values(u)) for (const v of Object.values(g)) v.sort((a, b) => a - b);
  return out;
}

async function scoresFromSheets() {
  const loaded = await loadGradingInput(f.db, f.campaignId);
  const out: Record<number, Record<string, Record<string, number[]>>> = {};
  for (const u of loaded!.input.units) {
    if (Object.keys(u.scores).length === 0) continue;
    out[u.unitId] = Object.fromEntries(Object.entries(u.scores).map(([g, byCode]) => [g, Object.fromEntries(Object.entries(byCode).map(([c, v]) => [c, [...v].sort((a, b) => a - b)]))]));
  }
  return out;
}

describe('upsertScores', () => {
  it('refuses a batch with any bad entry, says why for each, and writes nothing', async () => {
    const { u1, u3 } = f.units;
    const r = await upsertScores(f.db, f.campaignId, [
      named(u1, 'evaluator', '1.1', 8),
      named(u1, 'nobody', '1.1', 8),
      named(u1, 'public', '1.1', 8),
      named(u1, 'evaluator', '1', 8),
      named(u1, 'evaluator', '9.9', 8),
      named(u1, 'evaluator', '1.1', 10.5, f.people.rater2),
      named(u1, 'evaluator', '2', -1),
      named(u1, 'evaluator', '1.2', 7),
      named(u1, 'evaluator', '2', 3.333),
      named(u3, 'evaluator', '1.1', 8),
      named(u1, 'evaluator', '2', 5, 99_999),
      { unitId: u1, raterGroup: 'public', indicatorCode: '1.2', score: 6, rater: { responseId: '张三' } },
      { unitId: u1, raterGroup: 'public', indicatorCode: '1.2', score: 6, rater: { responseId: MOBILES.fillerU1 } },
      named(u1, 'evaluator', '1.1', 9),
    ], opts());
    if (r.ok) throw new Error('expected a refusal');
    const byIndex = (i: number) => r.errors.filter((e) => e.index === i).map((e) => e.message).join(' / ');
    expect(r.errors.some((e) => e.index === 0)).toBe(false);
    expect(byIndex(1)).toContain('评估主体「nobody」不在评估方案中');
    expect(byIndex(2)).toContain('评估主体「社会评价」不对指标「1.1 重点任务」评分');
    expect(byIndex(3)).toContain('只能对末级指标');
    expect(byIndex(4)).toContain('指标「9.9」不在评估方案中');
    expect(byIndex(5)).toContain('超出范围');
    expect(byIndex(6)).toContain('超出范围');
    expect(byIndex(7)).toContain('不是指标「1.2 满意度」的评价等级分值');
    expect(byIndex(8)).toContain('最多保留两位小数');
    expect(byIndex(9)).toContain('不在本次评估中');
    expect(byIndex(10)).toContain('评分人（id 99999）不存在');
    expect(byIndex(11)).toContain('匿名答卷编号');
    expect(byIndex(12)).toContain('匿名答卷编号');
    expect(byIndex(13)).toContain('与第1条重复');
    expect(await allScores()).toEqual([]);
  });

  it('replaces a re-entered score (same unit, group, indicator and rater) and audits the old value', async () => {
    const { u1 } = f.units;
    expect(await upsertScores(f.db, f.campaignId, [named(u1, 'evaluator', '1.1', 8), named(u1, 'evaluator', '1.1', 7, f.people.rater2)], opts())).toEqual({ ok: true, counts: { inserted: 2, replaced: 0, unchanged: 0 } });
    expect(await upsertScores(f.db, f.campaignId, [named(u1, 'evaluator', '1.1', 9), named(u1, 'evaluator', '1.1', 7, f.people.rater2)], { now: T0 + 1000, actorId: f.people.evaluator })).toEqual({ ok: true, counts: { inserted: 0, replaced: 1, unchanged: 1 } });
    const rows = await allScores();
    expect(rows.map((r) => ({ raterKey: r.raterKey, score: r.score, enteredBy: r.enteredBy }))).toEqual([
      { raterKey: `p${f.people.evaluator}`, score: 9, enteredBy: f.people.evaluator },
      { raterKey: `p${f.people.rater2}`, score: 7, enteredBy: f.people.rater2 },
    ]);
    const audit = await f.db.select().from(auditLog).where(eq(auditLog.action, 'scores.enter')).orderBy(asc(auditLog.id));
    expect(audit).toHaveLength(2);
    expect(audit[1]!.before).toEqual({ replaced: [{ unitId: u1, raterGroup: 'evaluator', indicatorCode: '1.1', raterKey: `p${f.people.evaluator}`, before: 8, after: 9 }] });
    expect(await scoresFromSheets()).toEqual(await scoresFromRows());
  });

  it('keys anonymous responses by their random id, with no person behind them', async () => {
    const { u1 } = f.units;
    const responses = ['a1b2c3d4e5f6', 'f6e5d4c3b2a1', '0123456789ab'];
    const r = await upsertScores(f.db, f.campaignId, responses.map((responseId, i) => ({ unitId: u1, raterGroup: 'public', indicatorCode: '1.2', score: [10, 6, 0][i]!, rater: { responseId } })), opts());
    expect(r.ok).toBe(true);
    const rows = await allScores();
    expect(rows.map((x) => [x.raterKey, x.enteredBy, x.score])).toEqual([['ra1b2c3d4e5f6', null, 10], ['rf6e5d4c3b2a1', null, 6], ['r0123456789ab', null, 0]]);
  });
});

describe('importScores', () => {
  const row = (n: number, over: Partial<ScoreFileRow>): ScoreFileRow => ({ row: n, unitCode: 'U1', group: '评估组', indicatorCode: '1.1', rater: { mobile: MOBILES.evaluator }, score: 8, ...over });

  it('reports every bad row and imports nothing', async () => {
    const r = await importScores(f.db, f.campaignId, [
      row(2, {}),
      row(3, { unitCode: 'NOPE' }),
      row(4, { unitCode: 'U3' }),
      row(5, { group: '领导' }),
      row(6, { score: 11, rater: { mobile: MOBILES.rater2 } }),
      row(7, { rater: { mobile: '13912345678' } }),
      row(8, {}),
    ], { now: T0, actorId: null, newResponseId: () => 'x'.repeat(12), source: 'test.csv' });
    if (r.ok) throw new Error('expected errors');
    expect(r.errors.map((e) => [e.row, e.column])).toEqual([[3, '单位编码'], [4, '单位编码'], [5, '评估主体'], [6, '分值'], [7, '评分人'], [8, undefined]]);
    expect(r.errors[0]!.message).toBe('单位编码「NOPE」不存在');
    expect(r.errors[1]!.message).toBe('单位「U3」不在本次评估中');
    expect(r.errors[5]!.message).toContain('与第2行重复');
    expect(await allScores()).toEqual([]);
  });

  it('stores no answer-sheet label, and a re-import replaces a unit\'s questionnaire instead of adding to it', async () => {
    let n = 0;
    const newResponseId = () => `resp${String(++n).padStart(8, '0')}`;
    const file: ScoreFileRow[] = [
      row(2, { group: 'public', indicatorCode: '1.2', rater: { label: '张三' }, score: 10 }),
      row(3, { group: '社会评价', indicatorCode: '1.2', rater: { label: '问卷2' }, score: 6 }),
      row(4, { group: '社会评价', indicatorCode: '1.2', rater: { label: '问卷3' }, score: 6 }),
      row(5, { unitCode: 'U2', group: '社会评价', indicatorCode: '1.2', rater: { label: '问卷1' }, score: 0 }),
      row(6, {}),
    ];
    const first = await importScores(f.db, f.campaignId, file, { now: T0, actorId: null, newResponseId, source: 'a.csv' });
    expect(first).toEqual({ ok: true, counts: { inserted: 1, replaced: 0, unchanged: 0, responses: 4, responsesReplaced: 0 } });
    const second = await importScores(f.db, f.campaignId, file, { now: T0 + 1, actorId: null, newResponseId, source: 'a.csv' });
    expect(second).toEqual({ ok: true, counts: { inserted: 0, replaced: 0, unchanged: 1, responses: 4, responsesReplaced: 4 } });
    const rows = await allScores();
    expect(rows).toHaveLength(5);
    expect(JSON.stringify(rows)).not.toMatch(/张三|问卷/);
    expect(rows.filter((r) => r.enteredBy === null).map((r) => r.raterKey).sort()).toEqual(['rresp00000005', 'rresp00000006', 'rresp00000007', 'rresp00000008']);
    expect(await scoresFromSheets()).toEqual(await scoresFromRows());
  });
});

describe('setUnitFacts', () => {
  it('sets known facts of the right type, replaces them, and audits the old values', async () => {
    const { u1 } = f.units;
    expect(await setUnitFacts(f.db, f.campaignId, u1, { accident: false, complaints: 2 }, opts())).toEqual({ ok: true });
    expect(await setUnitFacts(f.db, f.campaignId, u1, { complaints: 5 }, opts())).toEqual({ ok: true });
    const rows = await f.db.select({ fact: unitFacts.fact, value: unitFacts.value }).from(unitFacts).orderBy(asc(unitFacts.fact));
    expect(rows).toEqual([{ fact: 'accident', value: false }, { fact: 'complaints', value: 5 }]);
    const audit = await f.db.select().from(auditLog).where(eq(auditLog.action, 'facts.set')).orderBy(asc(auditLog.id));
    expect(audit[1]).toMatchObject({ before: { complaints: 2 }, after: { complaints: 5 } });
  });

  it('refuses unknown facts, wrong types and units outside the campaign, writing nothing', async () => {
    const r = await setUnitFacts(f.db, f.campaignId, f.units.u3, { accident: 'yes', complaints: true, weather: 1 }, opts());
    expect(r).toEqual({
      ok: false,
      errors: [
        `单位（id ${f.units.u3}）不在本次评估中`,
        '「发生重大事故」（accident）应为 是/否（true/false）',
        '「有效投诉」（complaints）应为数字',
        '事实「weather」不在评估方案中（可选：accident（发生重大事故）、complaints（有效投诉））',
      ],
    });
    expect(await f.db.select().from(unitFacts)).toEqual([]);
  });
});

describe('loadGradingInput', () => {
  it('builds the engine input: scores per group and leaf, facts, earlier grades of the scheme, approved tiers', async () => {
    const { u1, u2 } = f.units;
    const r2 = f.people.rater2;
    expect((await upsertScores(f.db, f.campaignId, [
      named(u1, 'evaluator', '1.1', 9), named(u1, 'evaluator', '1.1', 8, r2), named(u1, 'evaluator', '1.2', 10), named(u1, 'evaluator', '2', 9),
      ...['aaaaaaaa1', 'aaaaaaaa2', 'aaaaaaaa3'].map((responseId, i) => ({ unitId: u1, raterGroup: 'public', indicatorCode: '1.2', score: [10, 10, 6][i]!, rater: { responseId } })),
      named(u2, 'evaluator', '1.1', 5),
    ], opts())).ok).toBe(true);
    await setUnitFacts(f.db, f.campaignId, u1, { accident: false, complaints: 0 }, opts());
    await setUnitFacts(f.db, f.campaignId, u2, { accident: true, complaints: 3 }, opts());
    await recordGradeHistory(f.db, [
      { unitId: u1, schemeCode: 'grading-test', year: YEAR - 1, grade: 'excellent', source: 'import' },
      { unitId: u1, schemeCode: 'grading-test', year: YEAR - 2, grade: 'pass', source: 'import' },
      { unitId: u1, schemeCode: 'grading-test', year: YEAR, grade: 'fail', source: 'import' },
      { unitId: u1, schemeCode: 'other-scheme', year: YEAR - 1, grade: 'A', source: 'import' },
    ], opts());
    const reviewer = (await actorByMobile(f.db, MOBILES.reviewerU1))!;
    const evaluator = (await actorByMobile(f.db, MOBILES.evaluator))!;
    const scope = { campaignId: f.campaignId, unitId: u1, slotCode: '2' };
    const items = [{ code: '2.1', title: '疫情监测', maxPoints: 10, scoringGuide: '按时报告得10分', evidence: '' }];
    expect((await actOnPlan(f.db, scope, reviewer, { kind: 'draft', items, tier: 'B' }, T0)).ok).toBe(true);
    expect((await actOnPlan(f.db, scope, reviewer, { kind: 'submit' }, T0)).ok).toBe(true);
    expect((await actOnPlan(f.db, scope, evaluator, { kind: 'approve', comment: '' }, T0)).ok).toBe(true);

    const loaded = await loadGradingInput(f.db, f.campaignId);
    expect(loaded?.campaign).toEqual({ id: f.campaignId, name: `${YEAR}年度评分测试`, year: YEAR, schemeId: expect.any(Number) as number });
    expect(loaded?.scheme.code).toBe('grading-test');
    const input = loaded!.input;
    expect(input.year).toBe(YEAR);
    expect(input.units.map((u) => u.unitId)).toEqual([u1, u2]);
    const [a, b] = input.units;
    expect({ ...a, scores: undefined }).toEqual({
      unitId: u1, name: '县疾控中心', group: '公益一类', scores: undefined,
      facts: { accident: false, complaints: 0 },
      history: [{ year: YEAR - 2, grade: 'pass' }, { year: YEAR - 1, grade: 'excellent' }],
      tiers: { 2: 'B' },
    });
    expect(Object.keys(a!.scores).sort()).toEqual(['evaluator', 'public']);
    expect([...a!.scores.evaluator!['1.1']!].sort()).toEqual([8, 9]);
    expect(a!.scores.evaluator!['1.2']).toEqual([10]);
    expect(a!.scores.evaluator!['2']).toEqual([9]);
    expect([...a!.scores.public!['1.2']!].sort()).toEqual([10, 10, 6].sort());
    expect(b).toEqual({ unitId: u2, name: '县图书馆', group: '公益一类', scores: { evaluator: { 1.1: [5] } }, facts: { accident: true, complaints: 3 } });

    const result = gradeCampaign(loaded!.scheme, input);
    const unit1 = result.units.find((u) => u.unitId === u1)!;
    expect(unit1.status).toBe('graded');
    expect(unit1.indicatorScores['2']).toBeCloseTo(9 * 0.8, 6);
    expect(result.units.find((u) => u.unitId === u2)!.status).toBe('incomplete');
  });

  it('returns null for a campaign that does not exist', async () => {
    expect(await loadGradingInput(f.db, 9999)).toBeNull();
  });

  it('keeps each unit\'s score sheet equal to its score rows', async () => {
    const { u1, u2 } = f.units;
    await upsertScores(f.db, f.campaignId, [named(u1, 'evaluator', '1.1', 9), named(u2, 'evaluator', '1.1', 4)], opts());
    await upsertScores(f.db, f.campaignId, [named(u1, 'evaluator', '1.1', 3)], opts());
    expect(await scoresFromSheets()).toEqual({ [u1]: { evaluator: { 1.1: [3] } }, [u2]: { evaluator: { 1.1: [4] } } });
    expect(await scoresFromSheets()).toEqual(await scoresFromRows());
    const sheets = await f.db.select({ n: sql<number>`count(*)` }).from(scoreSheets);
    expect(sheets[0]!.n).toBe(2);
  });
});

describe('recordGradeHistory', () => {
  it('keeps one grade per unit, scheme and year; a correction replaces it and the audit keeps the old one', async () => {
    const rec = { unitId: f.units.u1, schemeCode: 'grading-test', year: 2025, source: 'campaign' as const };
    expect(await recordGradeHistory(f.db, [{ ...rec, grade: 'pass' }], opts())).toEqual({ recorded: 1, changed: 0 });
    expect(await recordGradeHistory(f.db, [{ ...rec, grade: 'excellent' }], opts())).toEqual({ recorded: 1, changed: 1 });
    const loaded = await loadGradingInput(f.db, f.campaignId);
    expect(loaded!.input.units[0]!.history).toEqual([{ year: 2025, grade: 'excellent' }]);
    const audit = await f.db.select().from(auditLog).where(eq(auditLog.action, 'grade_history.record')).orderBy(asc(auditLog.id));
    expect(audit[1]!.before).toEqual({ changed: [{ ...rec, grade: 'excellent', before: 'pass' }] });
  });
});
