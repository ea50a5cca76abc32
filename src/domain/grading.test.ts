import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gradeCampaign, roundHalfAway } from './grading';
import type { GradingInput, GradingUnitInput, UnitResult } from './grading-types';
import { parseSchemeFile, type SchemeFile } from './scheme';

function schemeOf(raw: unknown): SchemeFile {
  const r = parseSchemeFile(raw, 'test.json');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.scheme;
}

// ---------- fixtures ----------

/** 1000 points: one leaf "1" worth 1000, one evaluator group, 优秀 ≥900 / 良好 ≥800 / 合格 ≥700 / 不合格. */
const safetyGrading = (extra: Record<string, unknown> = {}) => ({
  grades: [
    { code: 'excellent', label: '优秀' },
    { code: 'good', label: '良好' },
    { code: 'pass', label: '合格' },
    { code: 'fail', label: '不合格' },
  ],
  method: {
    type: 'thresholds',
    thresholds: [{ grade: 'excellent', min: 900 }, { grade: 'good', min: 800 }, { grade: 'pass', min: 700 }],
    otherwise: 'fail',
  },
  facts: [
    { id: 'fatalities', label: '死亡人数', type: 'number', unit: '人' },
    { id: 'target', label: '死亡控制指标', type: 'number', unit: '人' },
    { id: 'concealed', label: '瞒报事故', type: 'boolean' },
  ],
  ...extra,
});

const safety = (extra: Record<string, unknown> = {}) =>
  schemeOf({
    code: 'safety',
    name: '安全生产履职考核',
    indicators: [{ code: '1', title: '安全生产履职', maxPoints: 1000 }],
    grading: safetyGrading(extra),
  });

/** 100 points, 先进 ≥91 / 合格 ≥70 / 不合格. */
const education = schemeOf({
  code: 'education',
  name: '教育督导',
  indicators: [{ code: '1', title: '教育工作', maxPoints: 100 }],
  grading: {
    grades: [{ code: 'advanced', label: '先进' }, { code: 'pass', label: '合格' }, { code: 'fail', label: '不合格' }],
    method: { type: 'thresholds', thresholds: [{ grade: 'advanced', min: 91 }, { grade: 'pass', min: 70 }], otherwise: 'fail' },
  },
});

type Quota = { grade: string; maxShare?: number; minShare?: number; minScore?: number };
/** 100 points, A/B/C by ranking: A ≤ 30 %, B the rest, C ≥ 5 % by default. */
const laiwu = (quotas?: Quota[], within: 'group' | 'all' = 'group', extra: Record<string, unknown> = {}) =>
  schemeOf({
    code: 'laiwu',
    name: '事业单位绩效考核',
    indicators: [{ code: '1', title: '绩效', maxPoints: 100 }],
    grading: {
      grades: [{ code: 'A', label: 'A' }, { code: 'B', label: 'B' }, { code: 'C', label: 'C' }],
      method: { type: 'quota', within, quotas: quotas ?? [{ grade: 'A', maxShare: 0.3 }, { grade: 'B' }, { grade: 'C', minShare: 0.05 }] },
      ...extra,
    },
  });

/** One unit scored by the evaluator group on leaf "1". */
const u = (unitId: number, score: number | number[], extra: Partial<GradingUnitInput> = {}): GradingUnitInput => ({
  unitId,
  name: `单位${unitId}`,
  group: '公益一类',
  scores: { evaluator: { '1': Array.isArray(score) ? score : [score] } },
  ...extra,
});

const grade = (scheme: SchemeFile, units: GradingUnitInput[], year = 2025) => gradeCampaign(scheme, { year, units });
const byId = (units: UnitResult[], id: number): UnitResult => {
  const r = units.find((x) => x.unitId === id);
  if (!r) throw new Error(`no unit ${id}`);
  return r;
};
const one = (scheme: SchemeFile, unit: GradingUnitInput) => byId(grade(scheme, [unit]).units, unit.unitId);

// ---------- rounding ----------

describe('roundHalfAway', () => {
  it.each([
    [899.995, 2, 900],
    [899.994, 2, 899.99],
    [0.1 + 0.2, 2, 0.3],
    [1.005, 2, 1.01],
    [-1.005, 2, -1.01],
    [2.5, 0, 3],
    [-2.5, 0, -3],
    [1.4999, 0, 1],
    [12.34449, 3, 12.344],
    [999.99999, 4, 1000],
  ])('rounds %s to %i decimals as %s', (x, d, want) => {
    expect(roundHalfAway(x, d)).toBe(want);
  });
});

// ---------- thresholds ----------

describe('thresholds', () => {
  it.each([
    [1000, 1000, 'excellent', '优秀'],
    [900, 900, 'excellent', '优秀'],
    [899.995, 900, 'excellent', '优秀'],
    [899.994, 899.99, 'good', '良好'],
    [899.99, 899.99, 'good', '良好'],
    [800, 800, 'good', '良好'],
    [799.99, 799.99, 'pass', '合格'],
    [700, 700, 'pass', '合格'],
    [699.99, 699.99, 'fail', '不合格'],
    [0, 0, 'fail', '不合格'],
  ])('a raw composite of %s scores %s and grades %s', (raw, score, code, label) => {
    const r = one(safety(), u(1, raw));
    expect(r.status).toBe('graded');
    expect(r.score).toBe(score);
    expect(r.baseGrade).toBe(code);
    expect(r.grade).toBe(code);
    expect(r.gradeLabel).toBe(label);
    expect(r.reasons[0]).toBe(`综合得分 ${score.toFixed(2)}（评估组 ${score.toFixed(2)}）`);
    expect(r.reasons.some((x) => x.endsWith(`评为${label}`))).toBe(true);
  });

  it('rounds the composite of several leaves, not each leaf, before the thresholds', () => {
    const s = schemeOf({
      code: 'two-leaves', name: '两项',
      indicators: [{ code: '1', title: '一', maxPoints: 500 }, { code: '2', title: '二', maxPoints: 500 }],
      grading: safetyGrading(),
    });
    // 449.9975 + 449.9975 = 899.995 → 900.00 although each leaf alone rounds to 450.00 (sum 900) or shows 449.9975.
    const r = one(s, { unitId: 1, name: '甲', group: 'g', scores: { evaluator: { '1': [449.9975], '2': [449.9975] } } });
    expect(r.score).toBe(900);
    expect(r.grade).toBe('excellent');
    expect(r.indicatorScores).toEqual({ '1': 450, '2': 450 });
  });

  it('uses the decimals of the scheme', () => {
    const r = one(safety({ decimals: 0 }), u(1, 899.5));
    expect(r.score).toBe(900);
    expect(r.grade).toBe('excellent');
    expect(r.reasons[0]).toBe('综合得分 900（评估组 900）');
  });

  it.each([
    [91, '先进'],
    [90.995, '先进'],
    [90.99, '合格'],
    [90, '合格'],
    [70, '合格'],
    [69.99, '不合格'],
  ])('on a 100-point scale %s is %s (先进 ≥91)', (score, label) => {
    expect(one(education, u(1, score)).gradeLabel).toBe(label);
  });

  it('explains the threshold reached and the one missed', () => {
    const [hi, lo] = [one(safety(), u(1, 905.5)), one(safety(), u(2, 650))];
    expect(hi.reasons).toContain('得分 905.50，达到优秀标准（900分及以上），评为优秀');
    expect(lo.reasons).toContain('得分 650.00，低于合格标准（700分），评为不合格');
  });
});

// ---------- ranking ----------

describe('ranking', () => {
  it('gives tied units the same rank and skips the next (1, 2, 2, 4), listing ties by unit id', () => {
    const res = grade(education, [u(2, 80), u(3, 90), u(4, 95), u(1, 90)]);
    expect(res.units.map((r) => [r.unitId, r.rank, r.rankOf])).toEqual([[4, 1, 4], [1, 2, 4], [3, 2, 4], [2, 4, 4]]);
    expect(byId(res.units, 3).reasons).toContain('公益一类组并列第2名/共4个单位');
    expect(byId(res.units, 2).reasons).toContain('公益一类组第4名/共4个单位');
  });

  it('ranks within each 组别 and orders groups by first appearance', () => {
    const res = grade(education, [u(1, 80, { group: '执法类' }), u(2, 90), u(3, 70, { group: '执法类' }), u(4, 60)]);
    expect(res.units.map((r) => [r.unitId, r.group, r.rank, r.rankOf])).toEqual([
      [1, '执法类', 1, 2], [3, '执法类', 2, 2], [2, '公益一类', 1, 2], [4, '公益一类', 2, 2],
    ]);
  });

  it('ties on the rounded composite, not on the raw one', () => {
    const res = grade(education, [u(1, 88.004), u(2, 87.996)]);
    expect(res.units.map((r) => [r.unitId, r.score, r.rank])).toEqual([[1, 88, 1], [2, 88, 1]]);
  });

  it('without grade rules scores and ranks, but gives no grade and says why', () => {
    const s = schemeOf({ code: 'plain', name: '只计分', indicators: [{ code: '1', title: '一', maxPoints: 100 }] });
    const res = grade(s, [u(1, 70), u(2, 90)]);
    expect(res.units.map((r) => [r.unitId, r.rank, r.grade, r.baseGrade])).toEqual([[2, 1, null, null], [1, 2, null, null]]);
    expect(res.units[0]!.reasons).toContain('方案未设定等次规则，只计分和排名，不评定等次');
    expect(res.counts).toEqual({});
  });
});

// ---------- quotas ----------

/** Units 1..n in group 公益一类 with the given scores. */
const field = (scores: number[], group = '公益一类') => scores.map((s, i) => u(i + 1, s, { group }));
const gradesOf = (res: ReturnType<typeof grade>) => Object.fromEntries(res.units.map((r) => [r.unitId, r.grade]));

describe('quotas', () => {
  it('gives A to floor(30 % × n) from the top, C to ceil(5 % × n) from the bottom, B between', () => {
    const res = grade(laiwu(), field([100, 99, 98, 97, 96, 95, 94, 93, 92, 91]));
    expect(gradesOf(res)).toEqual({ 1: 'A', 2: 'A', 3: 'A', 4: 'B', 5: 'B', 6: 'B', 7: 'B', 8: 'B', 9: 'B', 10: 'C' });
    expect(res.counts).toEqual({ A: 3, B: 6, C: 1 });
    expect(byId(res.units, 3).reasons).toContain('公益一类组第3名/共10个单位，A等次名额3个（30%），评为A');
    expect(byId(res.units, 4).reasons).toContain('公益一类组第4名/共10个单位，A等次名额3个（30%）已满，评为B');
    expect(byId(res.units, 10).reasons).toContain('公益一类组第10名/共10个单位，C等次至少1个（5%），评为C');
  });

  it.each([
    // scores, expected grades (A ≤ 3 of 10, C ≥ 1 of 10)
    ['a tie across the A line goes to B whole', [100, 99, 98, 98, 96, 95, 94, 93, 92, 91], 'AABBBBBBBC'],
    ['a tie of three from rank 2 across the A line all go to B', [100, 98, 98, 98, 96, 95, 94, 93, 92, 91], 'ABBBBBBBBC'],
    ['a tie that ends on the A line stays in A', [100, 98, 98, 97, 96, 95, 94, 93, 92, 91], 'AAABBBBBBC'],
    ['a tie across the C line goes to C whole', [100, 99, 98, 97, 96, 95, 94, 93, 90, 90], 'AAABBBBBCC'],
    ['a tie of three at the bottom all go to C', [100, 99, 98, 97, 96, 95, 94, 90, 90, 90], 'AAABBBBCCC'],
    ['everyone tied: C takes all (the minimum is met, A is not exceeded)', [90, 90, 90, 90, 90, 90, 90, 90, 90, 90], 'CCCCCCCCCC'],
  ])('%s', (_name, scores, want) => {
    const res = grade(laiwu(), field(scores));
    expect(res.units.map((r) => r.grade).join('')).toBe(want);
  });

  it('says why tied units left the A quota', () => {
    const res = grade(laiwu(), field([100, 99, 98, 98, 96, 95, 94, 93, 92, 91]));
    expect(byId(res.units, 3).reasons).toContain('公益一类组并列第3名/共10个单位，A等次名额3个（30%），同分的2个单位跨越A等次名额线，一并评为B');
    expect(byId(res.units, 4).grade).toBe('B');
  });

  it('says why tied units entered the C quota', () => {
    const res = grade(laiwu(), field([100, 99, 98, 97, 96, 95, 94, 93, 90, 90]));
    expect(byId(res.units, 9).reasons).toContain('公益一类组并列第9名/共10个单位，C等次至少1个（5%），与名额线上的单位同分，同分跨越C等次名额线，一并评为C');
    expect(byId(res.units, 10).reasons).toContain('公益一类组并列第9名/共10个单位，C等次至少1个（5%），评为C');
  });

  it('keeps units under a grade\'s minScore out of it even with quota to spare', () => {
    const s = laiwu([{ grade: 'A', maxShare: 0.3, minScore: 90 }, { grade: 'B', minScore: 60 }, { grade: 'C', minShare: 0.05 }]);
    const res = grade(s, field([95, 89.99, 90, 70, 65, 59, 58, 80, 75, 100]));
    expect(gradesOf(res)).toEqual({ 1: 'A', 2: 'B', 3: 'A', 4: 'B', 5: 'B', 6: 'C', 7: 'C', 8: 'B', 9: 'B', 10: 'A' });
    expect(byId(res.units, 2).reasons).toContain('公益一类组第4名/共10个单位，得分 89.99 低于A等次最低分90分，评为B');
    expect(byId(res.units, 6).reasons).toContain('公益一类组第9名/共10个单位，得分 59.00 低于B等次最低分60分，评为C');
  });

  it('gives a minScore grade fewer units than its quota when few reach it', () => {
    const s = laiwu([{ grade: 'A', maxShare: 0.3, minScore: 99 }, { grade: 'B' }, { grade: 'C', minShare: 0.05 }]);
    const res = grade(s, field([100, 98, 97, 96, 95, 94, 93, 92, 91, 90]));
    expect(res.counts).toEqual({ A: 1, B: 8, C: 1 });
  });

  it('takes quotas within each 组别 by default', () => {
    const res = grade(laiwu(), [...field([100, 99, 98, 97, 96, 95, 94, 93, 92, 91]), ...field([50, 49, 48, 47, 46, 45, 44, 43, 42, 41], '公益二类').map((x) => ({ ...x, unitId: x.unitId + 100 }))]);
    expect(res.counts).toEqual({ A: 6, B: 12, C: 2 });
    expect(byId(res.units, 101).grade).toBe('A');
    expect(byId(res.units, 101).rank).toBe(1);
  });

  it('takes quotas across all units with within: all', () => {
    const res = grade(laiwu(undefined, 'all'), [...field([100, 99, 98, 97, 96, 95, 94, 93, 92, 91]), ...field([50, 49, 48, 47, 46, 45, 44, 43, 42, 41], '公益二类').map((x) => ({ ...x, unitId: x.unitId + 100 }))]);
    expect(res.counts).toEqual({ A: 6, B: 13, C: 1 });
    expect(byId(res.units, 101).grade).toBe('B');
    expect(byId(res.units, 101).rank).toBe(11);
    expect(byId(res.units, 101).rankOf).toBe(20);
    expect(byId(res.units, 110).reasons).toContain('全部单位中第20名/共20个单位，C等次至少1个（5%），评为C');
    // listed by group first, then rank
    expect(res.units.map((r) => r.group).indexOf('公益二类')).toBe(10);
  });

  it('puts the minimum before the maximum when a scope is small', () => {
    // n = 2: A max floor(0.6) = 0, C min ceil(0.1) = 1.
    const res = grade(laiwu(), field([100, 50]));
    expect(gradesOf(res)).toEqual({ 1: 'B', 2: 'C' });
    expect(byId(res.units, 1).reasons).toContain('公益一类组第1名/共2个单位，A等次名额0个（30%）已满，评为B');
  });

  it('refuses a minShare on a grade that is not at the bottom', () => {
    expect(() => grade(laiwu([{ grade: 'A', maxShare: 0.3 }, { grade: 'B', minShare: 0.5 }, { grade: 'C' }]), field([1]))).toThrow(/minShare/);
    expect(() => grade(laiwu([{ grade: 'A', maxShare: 0.3 }, { grade: 'B' }, { grade: 'C', minShare: 0.05, maxShare: 0.1 }]), field([1]))).toThrow(/minShare/);
  });
});

// ---------- vetoes and downgrades ----------

const concealedVeto = { id: 'concealed', name: '瞒报谎报事故', when: { fact: 'concealed', op: '==', value: true }, capAt: 'fail' };
const fatalityDowngrade = { id: 'over-target', name: '死亡人数超过控制指标', when: { fact: 'fatalities', op: '>', value: { fact: 'target', times: 1.2 } }, levels: 1 };

describe('vetoes', () => {
  it('beats a top score', () => {
    const r = one(safety({ vetoes: [concealedVeto] }), u(1, 1000, { facts: { concealed: true } }));
    expect(r.score).toBe(1000);
    expect(r.baseGrade).toBe('excellent');
    expect(r.grade).toBe('fail');
    expect(r.gradeLabel).toBe('不合格');
    expect(r.reasons).toEqual([
      '综合得分 1000.00（评估组 1000.00）',
      '公益一类组第1名/共1个单位',
      '得分 1000.00，达到优秀标准（900分及以上），评为优秀',
      '一票否决：瞒报谎报事故（瞒报事故：是），等次最高为不合格',
      '最终等次：不合格',
    ]);
  });

  it('does not fire when the condition does not hold', () => {
    const r = one(safety({ vetoes: [concealedVeto] }), u(1, 1000, { facts: { concealed: false } }));
    expect(r.grade).toBe('excellent');
    expect(r.reasons.some((x) => x.includes('一票否决'))).toBe(false);
  });

  it('caps at capAt but does not raise a worse grade', () => {
    const veto = { id: 'd-buildings', name: 'D级危房超标', when: { fact: 'fatalities', op: '>', value: 3 }, capAt: 'pass' };
    const s = safety({ vetoes: [veto] });
    expect(one(s, u(1, 950, { facts: { fatalities: 4 } })).grade).toBe('pass');
    expect(one(s, u(1, 650, { facts: { fatalities: 4 } })).grade).toBe('fail');
    expect(one(s, u(1, 950, { facts: { fatalities: 4 } })).reasons).toContain('一票否决：D级危房超标（死亡人数 4人 > 3人），等次最高为合格');
  });

  it.each([
    ['the strict veto listed first', ['strict', 'lenient']],
    ['the strict veto listed last', ['lenient', 'strict']],
  ])('with two vetoes firing, the strictest cap wins (%s)', (_name, order) => {
    const vetoes = {
      strict: { ...concealedVeto, capAt: 'fail' },
      lenient: { id: 'many-deaths', name: '死亡人数超标', when: { fact: 'fatalities', op: '>', value: 3 }, capAt: 'good' },
    };
    const r = one(safety({ vetoes: order.map((k) => vetoes[k as keyof typeof vetoes]) }), u(1, 950, { facts: { concealed: true, fatalities: 4 } }));
    expect(r.grade).toBe('fail');
    expect(r.reasons).toContain('一票否决：瞒报谎报事故（瞒报事故：是），等次最高为不合格');
    expect(r.reasons).toContain('一票否决：死亡人数超标（死亡人数 4人 > 3人），等次最高为良好');
    expect(r.reasons[r.reasons.length - 1]).toBe('最终等次：不合格');
  });

  it('makes a unit incomplete when it needs a fact the unit does not have', () => {
    const res = grade(safety({ vetoes: [concealedVeto] }), [u(1, 1000), u(2, 800, { facts: { concealed: false } })]);
    const r = byId(res.units, 1);
    expect(r.status).toBe('incomplete');
    expect(r.score).toBeNull();
    expect(r.grade).toBeNull();
    expect(r.rank).toBeNull();
    expect(r.missing).toEqual(['缺少事实：瞒报事故']);
    expect(r.reasons[0]).toBe('暂无综合得分：缺少1项（缺少事实：瞒报事故），暂不排名、不评定等次');
    expect(byId(res.units, 2).rankOf).toBe(1);
    expect(res.counts).toEqual({ excellent: 0, good: 1, pass: 0, fail: 0 });
  });

  it('throws on a fact of the wrong type', () => {
    expect(() => one(safety({ vetoes: [concealedVeto] }), u(1, 1000, { facts: { concealed: 1 } }))).toThrow(/瞒报事故/);
  });
});

describe('downgrades', () => {
  it.each([
    // fatalities, target, fires
    [4, 3, true],
    [3.6, 3, false], // 3 × 1.2 = 3.6 exactly, not 3.5999…
    [3.7, 3, true],
    [3, 3, false],
    [1, 0, true],
  ])('fatalities %s > target %s × 1.2 fires: %s', (fatalities, target, fires) => {
    const r = one(safety({ downgrades: [fatalityDowngrade] }), u(1, 950, { facts: { fatalities, target } }));
    expect(r.baseGrade).toBe('excellent');
    expect(r.grade).toBe(fires ? 'good' : 'excellent');
  });

  it('moves the top grade down one level and says so with the facts', () => {
    const r = one(safety({ downgrades: [fatalityDowngrade] }), u(1, 950, { facts: { fatalities: 4, target: 3 } }));
    expect(r.gradeLabel).toBe('良好');
    expect(r.reasons).toContain('降级：死亡人数超过控制指标（死亡人数 4人 > 死亡控制指标 3人 × 1.2 = 3.6），由优秀降为良好');
  });

  it('never goes below the worst grade', () => {
    const r = one(safety({ downgrades: [{ ...fatalityDowngrade, levels: 3 }] }), u(1, 750, { facts: { fatalities: 4, target: 3 } }));
    expect(r.grade).toBe('fail');
    const w = one(safety({ downgrades: [fatalityDowngrade] }), u(1, 100, { facts: { fatalities: 4, target: 3 } }));
    expect(w.grade).toBe('fail');
    expect(w.reasons).toContain('降级：死亡人数超过控制指标（死亡人数 4人 > 死亡控制指标 3人 × 1.2 = 3.6），已是最低等次不合格');
  });

  it.each([
    // score, downgrade levels, veto cap, want
    [950, 1, 'pass', 'pass'], // downgrade to 良好, cap 合格 is worse
    [950, 2, 'good', 'pass'], // downgrade to 合格, cap 良好 is better: the downgrade wins
    [850, 1, 'excellent', 'pass'],
    [950, 1, 'fail', 'fail'],
  ])('with a downgrade and a veto, score %s, %s level(s) down, cap %s → %s', (score, levels, capAt, want) => {
    const s = safety({
      downgrades: [{ ...fatalityDowngrade, levels }],
      vetoes: [{ ...concealedVeto, capAt }],
    });
    const r = one(s, u(1, score, { facts: { fatalities: 9, target: 1, concealed: true } }));
    expect(r.grade).toBe(want);
    const iDown = r.reasons.findIndex((x) => x.startsWith('降级：'));
    const iVeto = r.reasons.findIndex((x) => x.startsWith('一票否决：'));
    expect(iDown).toBeGreaterThan(0);
    expect(iVeto).toBeGreaterThan(iDown);
  });

  it('explains an any-condition by the branch that held', () => {
    const veto = {
      id: 'major', name: '重大事故', capAt: 'fail',
      when: { any: [{ fact: 'fatalities', op: '>=', value: 3 }, { fact: 'concealed', op: '==', value: true }] },
    };
    const r = one(safety({ vetoes: [veto] }), u(1, 950, { facts: { fatalities: 0, concealed: true } }));
    expect(r.reasons).toContain('一票否决：重大事故（瞒报事故：是），等次最高为不合格');
  });
});

// ---------- rater groups ----------

const twoGroups = (social: 'redistribute' | 'zero' | 'incomplete', evaluator: 'redistribute' | 'zero' | 'incomplete' = 'incomplete') =>
  schemeOf({
    code: 'multi',
    name: '多元评估',
    indicators: [{ code: '1', title: '履职', maxPoints: 60 }, { code: '2', title: '服务', maxPoints: 40 }],
    raterGroups: [
      { id: 'evaluator', name: '评估组', weight: 0.7, whenMissing: evaluator },
      { id: 'social', name: '社会评价', weight: 0.3, whenMissing: social },
    ],
    grading: {
      grades: [{ code: 'good', label: '优秀' }, { code: 'pass', label: '合格' }, { code: 'fail', label: '不合格' }],
      method: { type: 'thresholds', thresholds: [{ grade: 'good', min: 90 }, { grade: 'pass', min: 60 }], otherwise: 'fail' },
    },
  });

const evalOnly = (id = 1): GradingUnitInput => ({ unitId: id, name: `单位${id}`, group: 'g', scores: { evaluator: { '1': [50], '2': [30] } } });

describe('rater groups', () => {
  it('weights the groups that rate a leaf', () => {
    const r = one(twoGroups('incomplete'), { unitId: 1, name: '甲', group: 'g', scores: { evaluator: { '1': [50], '2': [30] }, social: { '1': [60], '2': [40] } } });
    // leaf 1: 0.7×50 + 0.3×60 = 53; leaf 2: 0.7×30 + 0.3×40 = 33
    expect(r.indicatorScores).toEqual({ '1': 53, '2': 33 });
    expect(r.score).toBe(86);
    expect(r.raterGroupScores).toEqual({ evaluator: 80, social: 100 });
    expect(r.reasons[0]).toBe('综合得分 86.00（评估组 56.00，社会评价 30.00）');
  });

  it('redistribute: the missing group\'s weight goes to the others, and a reason says so once', () => {
    const r = one(twoGroups('redistribute'), evalOnly());
    expect(r.status).toBe('graded');
    expect(r.score).toBe(80);
    expect(r.reasons.filter((x) => x.startsWith('社会评价'))).toEqual(['社会评价缺少评分，其权重按方案分配给其他评估主体']);
    expect(r.reasons[0]).toBe('综合得分 80.00（评估组 80.00）');
  });

  it('redistribute on one leaf only names the leaf', () => {
    const r = one(twoGroups('redistribute'), { ...evalOnly(), scores: { evaluator: { '1': [50], '2': [30] }, social: { '2': [40] } } });
    expect(r.score).toBe(83); // 50 + (0.7×30 + 0.3×40)
    expect(r.reasons).toContain('社会评价缺少评分（指标 1），其权重按方案分配给其他评估主体');
  });

  it('zero: the missing group counts 0 with its weight, and a reason says so', () => {
    const r = one(twoGroups('zero'), evalOnly());
    expect(r.score).toBe(56);
    expect(r.reasons).toContain('社会评价缺少评分，按方案计0分');
    expect(r.reasons[0]).toBe('综合得分 56.00（评估组 56.00，社会评价 0.00）');
  });

  it('incomplete: the unit waits, no score, rank or grade, and missing says what', () => {
    const res = grade(twoGroups('incomplete'), [evalOnly(1), { unitId: 2, name: '乙', group: 'g', scores: { evaluator: { '1': [60], '2': [40] }, social: { '1': [60], '2': [40] } } }]);
    const r = byId(res.units, 1);
    expect(r.status).toBe('incomplete');
    expect([r.score, r.rank, r.rankOf, r.grade, r.baseGrade]).toEqual([null, null, null, null, null]);
    expect(r.missing).toEqual(['社会评价缺少评分（全部指标）']);
    expect(r.reasons).toEqual(['暂无综合得分：缺少1项（社会评价缺少评分（全部指标）），暂不排名、不评定等次']);
    expect(r.indicatorScores).toEqual({});
    expect(byId(res.units, 2).rankOf).toBe(1);
    expect(res.units.map((x) => x.unitId)).toEqual([2, 1]);
  });

  it('incomplete on one leaf lists the leaf', () => {
    const r = one(twoGroups('incomplete'), { ...evalOnly(), scores: { evaluator: { '1': [50], '2': [30] }, social: { '1': [60], '2': [] } } });
    expect(r.status).toBe('incomplete');
    expect(r.missing).toEqual(['社会评价缺少评分：2 服务']);
    expect(r.indicatorScores).toEqual({ '1': 53 });
  });

  it('a leaf no group scored is incomplete even when every group redistributes', () => {
    const r = one(twoGroups('redistribute', 'redistribute'), { unitId: 1, name: '甲', group: 'g', scores: { evaluator: { '1': [50] } } });
    expect(r.status).toBe('incomplete');
    expect(r.missing).toContain('指标 2 服务 没有任何评估主体的评分');
  });

  it('a group limited to a 大项 rates its 小项 only', () => {
    const s = schemeOf({
      code: 'scoped', name: '分项评估',
      indicators: [
        { code: '1', title: '一', maxPoints: 20, children: [{ code: '1.1', title: '一一', maxPoints: 10 }, { code: '1.2', title: '一二', maxPoints: 10 }] },
        { code: '2', title: '二', maxPoints: 10 },
      ],
      raterGroups: [
        { id: 'evaluator', name: '评估组', weight: 3 },
        { id: 'social', name: '社会评价', weight: 1, indicators: ['1'] },
      ],
    });
    const r = one(s, { unitId: 1, name: '甲', group: 'g', scores: { evaluator: { '1.1': [8], '1.2': [4], '2': [6] }, social: { '1.1': [4], '1.2': [8] } } });
    // 1.1: (3×8 + 4)/4 = 7; 1.2: (3×4 + 8)/4 = 5; 2: 6 (evaluator only)
    expect(r.indicatorScores).toEqual({ '1.1': 7, '1.2': 5, '2': 6 });
    expect(r.score).toBe(18);
    expect(() => one(s, { unitId: 1, name: '甲', group: 'g', scores: { evaluator: { '1.1': [8], '1.2': [4], '2': [6] }, social: { '1.1': [4], '1.2': [8], '2': [5] } } }))
      .toThrow(/社会评价.*指标 2/);
  });

  it.each([
    ['mean', [60, 100], 80],
    ['trimmed-mean', [60, 100], 80], // fewer than 3 raters: the mean
    ['trimmed-mean', [0, 50, 100], 50],
    ['trimmed-mean', [0, 10, 100], 10], // asymmetric: the mean would be 36.67
    ['mean', [0, 10, 100], 36.67],
    ['trimmed-mean', [10, 50, 60, 70, 100], 60],
    ['mean', [10, 50, 60, 70, 100], 58],
    ['trimmed-mean', [100, 100, 0, 0, 90], 63.33],
  ])('%s of %j is %s', (aggregate, scores, want) => {
    const s = schemeOf({
      code: 'agg', name: '汇总', indicators: [{ code: '1', title: '一', maxPoints: 100 }],
      raterGroups: [{ id: 'evaluator', name: '评估组', weight: 1, aggregate }],
    });
    expect(one(s, u(1, scores)).score).toBe(want);
  });

  it.each([
    [[101], 101],
    [[50, -1], -1],
    [[Number.NaN], 'NaN'],
  ])('throws on a score outside [0, max]: %j', (scores, shown) => {
    expect(() => one(education, u(7, scores))).toThrow(`评分超出范围：单位 单位7（id 7），评估主体 评估组（evaluator），指标 1 教育工作，评分 ${shown} 应在 0–100 分之间`);
  });

  it('throws on an unknown rater group, an unknown indicator and a duplicate unit', () => {
    expect(() => one(education, { ...u(1, 50), scores: { evaluator: { '1': [50] }, bogus: { '1': [1] } } })).toThrow(/bogus/);
    expect(() => one(education, { ...u(1, 50), scores: { evaluator: { '1': [50], '9': [1] } } })).toThrow(/指标 9/);
    expect(() => grade(education, [u(1, 50), u(1, 60)])).toThrow(/id 1/);
  });
});

// ---------- tiers ----------

describe('individual indicator tiers', () => {
  const tiered = schemeOf({
    code: 'tiered', name: '个性指标',
    indicators: [
      { code: '1', title: '共性', maxPoints: 70 },
      { code: '2', title: '个性', maxPoints: 30, scope: 'individual', tiers: [{ code: 'I', label: 'Ⅰ档', maxPoints: 30 }, { code: 'II', label: 'Ⅱ档', maxPoints: 25 }, { code: 'III', label: 'Ⅲ档', maxPoints: 20 }] },
    ],
  });
  const unit = (tiers?: Record<string, string>): GradingUnitInput => ({ unitId: 1, name: '甲', group: 'g', scores: { evaluator: { '1': [60], '2': [24] } }, tiers });

  it.each([
    ['I', 24],
    ['II', 20],
    ['III', 16],
  ])('scales the score to tier %s: 24 of 30 → %s', (tier, want) => {
    const r = one(tiered, unit({ '2': tier }));
    expect(r.indicatorScores['2']).toBe(want);
    expect(r.score).toBe(60 + want);
  });

  it('makes a unit without a tier incomplete', () => {
    const r = one(tiered, unit());
    expect(r.status).toBe('incomplete');
    expect(r.missing).toEqual(['未确定个性指标档次：2 个性']);
    expect(r.indicatorScores).toEqual({ '1': 60 });
    expect(r.score).toBeNull();
  });

  it('throws on an unknown tier', () => {
    expect(() => one(tiered, unit({ '2': 'IV' }))).toThrow(/档次 IV/);
  });
});

// ---------- multi-year ----------

describe('multi-year rules', () => {
  const s = laiwu([{ grade: 'A', minScore: 90 }, { grade: 'B', minScore: 60 }, { grade: 'C' }], 'group', {
    multiYear: [
      { id: 'promote', name: '连续三年A', grade: 'A', consecutiveYears: 3, flag: '主要负责人同等条件下优先提拔任用' },
      { id: 'remove', name: '连续两年C', grade: 'C', consecutiveYears: 2, flag: '法定代表人按干部管理权限予以降免职或解聘' },
    ],
  });
  it.each([
    ['3 years A in a row', 95, [{ year: 2024, grade: 'A' }, { year: 2023, grade: 'A' }], ['promote']],
    ['history in any order, older years ignored', 95, [{ year: 2019, grade: 'C' }, { year: 2023, grade: 'A' }, { year: 2024, grade: 'A' }], ['promote']],
    ['a gap year', 95, [{ year: 2024, grade: 'A' }, { year: 2022, grade: 'A' }], []],
    ['a B year between', 95, [{ year: 2024, grade: 'B' }, { year: 2023, grade: 'A' }], []],
    ['only 2 years', 95, [{ year: 2024, grade: 'A' }], []],
    ['this year not A', 80, [{ year: 2024, grade: 'A' }, { year: 2023, grade: 'A' }], []],
    ['2 years C', 50, [{ year: 2024, grade: 'C' }], ['remove']],
    ['C after B', 50, [{ year: 2024, grade: 'B' }, { year: 2023, grade: 'C' }], []],
  ])('%s', (_name, score, history, want) => {
    const r = one(s, u(1, score, { history }));
    expect(r.flags.map((f) => f.rule)).toEqual(want);
  });

  it('writes the flag text with the grade label and adds it to the reasons', () => {
    const r = one(s, u(1, 95, { history: [{ year: 2024, grade: 'A' }, { year: 2023, grade: 'A' }] }));
    expect(r.flags).toEqual([{ rule: 'promote', text: '连续3年A：主要负责人同等条件下优先提拔任用' }]);
    expect(r.reasons[r.reasons.length - 1]).toBe('连续3年A：主要负责人同等条件下优先提拔任用');
  });

  it('looks at the final grade, after vetoes', () => {
    const v = laiwu([{ grade: 'A', minScore: 90 }, { grade: 'B', minScore: 60 }, { grade: 'C' }], 'group', {
      facts: [{ id: 'concealed', label: '瞒报', type: 'boolean' }],
      vetoes: [{ id: 'v', name: '瞒报', when: { fact: 'concealed', op: '==', value: true }, capAt: 'C' }],
      multiYear: [{ id: 'remove', name: '连续两年C', grade: 'C', consecutiveYears: 2, flag: '降免职' }],
    });
    const r = one(v, u(1, 95, { facts: { concealed: true }, history: [{ year: 2024, grade: 'C' }] }));
    expect(r.grade).toBe('C');
    expect(r.flags.map((f) => f.text)).toEqual(['连续2年C：降免职']);
  });
});

// ---------- properties ----------

const thresholdScheme = schemeOf({
  code: 'prop-t', name: '阈值',
  indicators: [{ code: '1', title: '一', maxPoints: 100 }, { code: '2', title: '二', maxPoints: 100 }],
  raterGroups: [{ id: 'evaluator', name: '评估组', weight: 1, aggregate: 'trimmed-mean' }],
  grading: {
    grades: [{ code: 'A', label: 'A' }, { code: 'B', label: 'B' }, { code: 'C', label: 'C' }, { code: 'D', label: 'D' }],
    method: { type: 'thresholds', thresholds: [{ grade: 'A', min: 180 }, { grade: 'B', min: 150 }, { grade: 'C', min: 100 }], otherwise: 'D' },
  },
});
const quotaScheme = (maxA: number, minC: number, minScoreA?: number, within: 'group' | 'all' = 'group') =>
  schemeOf({
    code: 'prop-q', name: '配额',
    indicators: [{ code: '1', title: '一', maxPoints: 100 }, { code: '2', title: '二', maxPoints: 100 }],
    raterGroups: [{ id: 'evaluator', name: '评估组', weight: 1, aggregate: 'trimmed-mean' }],
    grading: {
      grades: [{ code: 'A', label: 'A' }, { code: 'B', label: 'B' }, { code: 'C', label: 'C' }],
      method: { type: 'quota', within, quotas: [{ grade: 'A', maxShare: maxA, minScore: minScoreA }, { grade: 'B' }, { grade: 'C', minShare: minC }] },
    },
  });

/** Raters' scores on both leaves: small integer ranges so ties are common. */
const unitArb = fc.record({
  group: fc.constantFrom('甲组', '乙组'),
  a: fc.array(fc.integer({ min: 60, max: 100 }), { minLength: 1, maxLength: 4 }),
  b: fc.array(fc.integer({ min: 60, max: 100 }), { minLength: 1, maxLength: 4 }),
});
const unitsArb = fc.array(unitArb, { minLength: 1, maxLength: 40 });
const toInput = (raw: Array<{ group: string; a: number[]; b: number[] }>): GradingInput => ({
  year: 2025,
  units: raw.map((x, i) => ({ unitId: i + 1, name: `单位${i + 1}`, group: x.group, scores: { evaluator: { '1': x.a, '2': x.b } } })),
});
const shareArb = fc.constantFrom(0.05, 0.1, 0.2, 0.25, 0.29, 0.3, 0.5);
const rank = (s: SchemeFile, code: string | null) => s.grading!.grades.findIndex((g) => g.code === code);

describe('properties', () => {
  it('raising one unit\'s scores on a leaf never lowers its grade (thresholds and quotas)', () => {
    fc.assert(
      fc.property(unitsArb, fc.nat(), fc.integer({ min: 1, max: 40 }), shareArb, shareArb, fc.option(fc.integer({ min: 140, max: 190 }), { nil: undefined }), fc.boolean(),
        (raw, pick, bump, maxA, minC, minScoreA, useQuota) => {
          const s = useQuota ? quotaScheme(maxA, minC, minScoreA) : thresholdScheme;
          const i = pick % raw.length;
          const before = gradeCampaign(s, toInput(raw));
          const raised = raw.map((x, j) => (j === i ? { ...x, a: x.a.map((v) => Math.min(100, v + bump)) } : x));
          const after = gradeCampaign(s, toInput(raised));
          const id = i + 1;
          const [b, a] = [byId(before.units, id), byId(after.units, id)];
          expect(a.score!).toBeGreaterThanOrEqual(b.score!);
          expect(rank(s, a.grade)).toBeLessThanOrEqual(rank(s, b.grade));
        }),
      { numRuns: 300 },
    );
  });

  it('quotas hold for any input: A ≤ floor(share × n), C ≥ ceil(share × n), and a better score never gets a worse grade', () => {
    fc.assert(
      fc.property(unitsArb, shareArb, shareArb, fc.option(fc.integer({ min: 140, max: 190 }), { nil: undefined }), fc.constantFrom<'group' | 'all'>('group', 'all'),
        (raw, maxA, minC, minScoreA, within) => {
          const s = quotaScheme(maxA, minC, minScoreA, within);
          const res = gradeCampaign(s, toInput(raw));
          const scopes = new Map<string, UnitResult[]>();
          for (const r of res.units) {
            const k = within === 'all' ? '' : r.group;
            scopes.set(k, [...(scopes.get(k) ?? []), r]);
          }
          for (const list of scopes.values()) {
            const n = list.length;
            const count = (g: string) => list.filter((r) => r.grade === g).length;
            expect(count('A')).toBeLessThanOrEqual(Math.floor(maxA * n + 1e-9));
            expect(count('C')).toBeGreaterThanOrEqual(Math.ceil(minC * n - 1e-9));
            expect(count('A') + count('B') + count('C')).toBe(n);
            if (minScoreA !== undefined) for (const r of list) if (r.grade === 'A') expect(r.score!).toBeGreaterThanOrEqual(minScoreA);
            for (const x of list) for (const y of list) {
              if (x.score! > y.score!) expect(rank(s, x.grade)).toBeLessThanOrEqual(rank(s, y.grade));
              if (x.score === y.score) expect(x.grade).toBe(y.grade);
            }
          }
        }),
      { numRuns: 300 },
    );
  });

  it('is deterministic: shuffling the units gives every unit the same result', () => {
    const s = quotaScheme(0.3, 0.1, undefined);
    const withRules = schemeOf({
      ...s,
      grading: {
        ...s.grading!,
        facts: [{ id: 'x', label: '事故', type: 'number' }],
        downgrades: [{ id: 'd', name: '降级', when: { fact: 'x', op: '>=', value: 2 }, levels: 1 }],
        vetoes: [{ id: 'v', name: '否决', when: { fact: 'x', op: '>=', value: 3 }, capAt: 'C' }],
      },
    });
    const arb = fc.array(fc.tuple(unitArb, fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 30 }).chain((raw) => {
      const input = toInput(raw.map(([x]) => x));
      input.units.forEach((unit, i) => { unit.facts = { x: raw[i]![1] }; });
      return fc.tuple(fc.constant(input), fc.shuffledSubarray(input.units, { minLength: input.units.length, maxLength: input.units.length }));
    });
    fc.assert(
      fc.property(arb, ([input, shuffled]) => {
        const a = gradeCampaign(withRules, input);
        const b = gradeCampaign(withRules, { ...input, units: shuffled });
        const key = (res: typeof a) => new Map(res.units.map((r) => [r.unitId, r]));
        expect(key(b)).toEqual(key(a));
        expect(b.counts).toEqual(a.counts);
        // within a group, the order does not depend on the input order
        const order = (res: typeof a, g: string) => res.units.filter((r) => r.group === g).map((r) => r.unitId);
        expect(order(b, '甲组')).toEqual(order(a, '甲组'));
        expect(order(b, '乙组')).toEqual(order(a, '乙组'));
      }),
      { numRuns: 200 },
    );
  });
});
