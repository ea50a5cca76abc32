/**
 * The grading engine (评分定级): from each unit's scores, tiers, facts and past grades to its
 * composite score, rank, grade (等次), flags and the reasons a leader reads. Pure: no I/O, no
 * clock; the same input always gives the same output, whatever order the units come in.
 *
 * The rules below are the product's rules; the reasons the engine writes follow them.
 *
 * 1. Scoring is done on leaf indicators only (小项, `leafIndicators`). A rater group rates a leaf
 *    when its `indicators` list names the leaf or one of the leaf's ancestors (a 大项 covers its
 *    小项), or when it has no `indicators` list. A leaf no group rates is a scheme error (thrown).
 * 2. Within one rater group, the raters' scores on a leaf are combined by the group's
 *    `aggregate`: `mean`, or `trimmed-mean` (去掉一个最高分和一个最低分; with fewer than 3 raters,
 *    the mean). Every score must lie in [0, the indicator's maxPoints]; a score outside it (or not a
 *    number) is an input error and throws, naming the unit, the rater group and the indicator.
 *    Scores are never clamped. Scores for a rater group or an indicator the scheme does not
 *    match (unknown group, or a group scoring a leaf it does not rate) also throw.
 * 3. Tiered individual indicators (个性指标 Ⅰ/Ⅱ/Ⅲ档): raters score on the indicator's maxPoints and
 *    the engine scales the aggregated score by tier.maxPoints / indicator.maxPoints, using the
 *    unit's tier from `tiers[code]`. A unit without a tier on a tiered leaf is incomplete
 *    ("未确定个性指标档次"); an unknown tier code throws.
 * 4. A leaf's score is the weighted mean of the scores of the rater groups that rate it, over the
 *    groups that count for this unit (their weights renormalised among them). A group with no
 *    score on the leaf (no entry, or an empty list) is handled by its `whenMissing`:
 *    - `redistribute`: it does not count; its weight goes to the other groups rating the leaf, in
 *      proportion to their weights (the renormalisation). One reason line per group says so.
 *    - `zero`: it counts as 0 with its full weight. One reason line per group says so.
 *    - `incomplete`: the unit is incomplete (missing names the group and the indicators), it gets
 *      no composite, no rank and no grade.
 *    If no group counts on a leaf (all missing, all `redistribute`), the unit is incomplete too.
 *    Nothing is ever silently zeroed.
 * 5. The composite is the sum of the (unrounded) leaf scores, rounded half away from zero to
 *    `decimals` (default 2). Rounding first removes binary floating-point noise (a relative
 *    2^-40 nudge before rounding), so 899.995 → 900.00 and 0.1 + 0.2 → 0.30. Thresholds, ranks
 *    and quotas all use the rounded composite; units tie when their rounded composites are equal.
 *    `indicatorScores` (each leaf's weighted score) and `raterGroupScores` (each group's sum of
 *    its aggregated, tier-scaled scores over the leaves it scored, unweighted) are rounded the
 *    same way, for display.
 * 6. Ranking is within the unit's 组别, or across all units for a quota scheme with
 *    `within: 'all'`. Only complete units are ranked. Competition ranking: tied units share the
 *    best rank and the next rank skips (1, 2, 2, 4). Tied units are listed by unit id ascending;
 *    the order among them never decides a grade (see 8).
 * 7. Thresholds: the first threshold (highest first) whose `min` ≤ the composite gives the grade,
 *    else `otherwise`. With 优秀 ≥ 900: 900.00 is 优秀, 899.99 is 良好.
 * 8. Quotas, per ranking scope of n complete units (shares are of n; floor/ceil tolerate float
 *    noise, so 29 % × 100 is 29):
 *    a. Bottom first: the worst grades that have a `minShare` (a run from the worst grade up)
 *       are filled from the bottom of the ranking, worst grade first, each with
 *       ceil(minShare × n) units. If that line cuts through a tie, the whole tie goes into the
 *       grade, so the minimum is always met (it may be exceeded). `minScore` does not apply here.
 *    b. Then from the top, over the units left, the other grades best first: a grade with
 *       `maxShare` takes at most floor(maxShare × n) units; if that line cuts through a tie, the
 *       whole tie goes to the next grade, so the maximum is never exceeded. A grade with
 *       `minScore` takes no unit below it. A grade without `maxShare` or `minScore` takes all
 *       units left (the middle grade).
 *    c. Units still left after (b) (every better grade full or out of reach) go to the best of the
 *       bottom grades, or, when no grade has a `minShare`, to the worst grade, which is the floor.
 *    A grade with both `minShare` and `maxShare`, or a `minShare` on a grade that is not part of
 *    the run from the worst grade, is not supported and throws. Incomplete units neither take
 *    nor count toward quotas: grade a scope when all its units are complete.
 * 9. Vetoes (一票否决): a veto whose condition holds caps the grade at `capAt` (no better than it).
 *    Conditions compare a fact with a number, a boolean, or another fact × times + plus. Every
 *    fact that any veto or downgrade rule reads must be present for a unit: a missing fact makes
 *    the unit incomplete ("缺少事实：<label>"), so a rule is never skipped silently. A fact of the
 *    wrong type (boolean vs number) throws.
 * 10. Downgrades: each rule that fires moves the grade down its `levels` (never below the worst
 *    grade). Order: base grade → all downgrades → veto caps (the final grade is the worse of the
 *    downgraded grade and the strictest cap).
 * 11. Multi-year rules (连续N年): when this year's final grade is the rule's grade and the unit's
 *    history has the same grade for each of the N − 1 immediately preceding years (year − 1,
 *    year − 2, …; a gap year breaks the run), the unit gets the flag
 *    "连续N年<label>：<flag>". Conflicting history entries for one year throw.
 * 12. Reasons, in Chinese with grade labels: first the score line (the composite and each rater
 *    group's weighted contribution to it, i.e. Σ over leaves of weight × score / the leaf's
 *    counted weights, so the parts add up to the composite up to rounding; an incomplete unit's
 *    first line says what is missing instead), then missing-group handling, the rank and base grade,
 *    each downgrade and veto that fired, the final grade when it differs from the base grade, and
 *    the multi-year flags.
 * 13. `counts` has every grade code of the scheme (0 when none) with the number of units whose
 *    final grade it is. `units` are ordered by 组别 (first appearance in the input), then rank
 *    (incomplete units last), then unit id.
 *
 * If the scheme has no `grading`, units are scored and ranked within their 组别; `grade` and
 * `baseGrade` stay null and a reason says so.
 *
 * Cost: the scheme is compiled once per call (each leaf's rater groups, tiers, the facts the
 * rules read); each unit is one pass over its leaves and scores; each scope is sorted once.
 */
import type { Condition, IndicatorNode, RaterGroup, SchemeFile } from './scheme';
import { flattenIndicators, leafIndicators } from './scheme';
import type { GradingInput, GradingResult, GradingUnitInput, UnitFlag, UnitResult } from './grading-types';

type Grading = NonNullable<SchemeFile['grading']>;
type Leaf = Extract<Condition, { fact: string }>;
type FactValue = number | boolean;

interface LeafPlan {
  code: string;
  title: string;
  maxPoints: number;
  /** Indices into the scheme's rater groups, in scheme order. */
  groups: number[];
  /** Tier code → tier maxPoints, for a tiered individual indicator. */
  tiers: Map<string, number> | null;
}

interface RulePlan {
  kind: 'veto' | 'downgrade';
  id: string;
  name: string;
  when: Condition;
  capAt: number;
  levels: number;
}

interface GradingPlan {
  grading: Grading;
  gradeIndex: Map<string, number>;
  labels: string[];
  facts: Map<string, Grading['facts'][number]>;
  /** Every fact the rules read, in the order the rules first read them. */
  ruleFacts: string[];
  rules: RulePlan[];
  quota: QuotaPlan | null;
}

interface QuotaGrade {
  grade: number;
  maxShare?: number;
  minShare?: number;
  minScore?: number;
}

interface QuotaPlan {
  /** Grades filled from the bottom (have minShare), worst first. */
  bottom: QuotaGrade[];
  /** The other grades walked from the top, best first (the floor grade excluded when there is no bottom). */
  top: QuotaGrade[];
  /** Where the units left after the top walk go. */
  catchAll: number;
}

interface Compiled {
  leaves: LeafPlan[];
  groups: RaterGroup[];
  groupIndex: Map<string, number>;
  /** The leaves (indices) each rater group rates, and how many. */
  groupLeaves: number[][];
  groupLeafCount: Int32Array;
  /**
   * Per-unit working arrays reused from unit to unit: agg[leaf × G + group] is a group's aggregated
   * (then tier-scaled) score on a leaf; the others have one slot per rater group.
   */
  scratch: { agg: Float64Array; contrib: Float64Array; totals: Float64Array; hasScore: Uint8Array; counted: Uint8Array };
  /** Every leaf code → 0: copied for each unit, so its indicatorScores object is built without one shape change per leaf. */
  indicatorTemplate: Record<string, number>;
  decimals: number;
  plan: GradingPlan | null;
}

/** Round half away from zero to `decimals`, after nudging away binary noise (899.995 → 900, 1.005 → 1.01). */
export function roundHalfAway(x: number, decimals: number): number {
  const f = 10 ** decimals;
  const scaled = Math.abs(x) * f;
  const r = Math.round(scaled + scaled * 2 ** -40 + 1e-9);
  const out = r / f;
  return x < 0 ? -out : out;
}

const floorShare = (share: number, n: number) => Math.floor(share * n + 1e-9);
const ceilShare = (share: number, n: number) => Math.ceil(share * n - 1e-9);

function compile(scheme: SchemeFile): Compiled {
  const parent = new Map<string, string | null>();
  for (const row of flattenIndicators(scheme)) parent.set(row.code, row.parentCode);
  const groups = scheme.raterGroups;
  const groupIndex = new Map<string, number>();
  groups.forEach((g, i) => groupIndex.set(g.id, i));
  const groupSets = groups.map((g) => (g.indicators ? new Set(g.indicators) : null));

  const leaves: LeafPlan[] = leafIndicators(scheme).map((n: IndicatorNode) => {
    const chain: string[] = [];
    for (let c: string | null | undefined = n.code; c; c = parent.get(c)) chain.push(c);
    const rating: number[] = [];
    groupSets.forEach((set, i) => {
      if (!set || chain.some((c) => set.has(c))) rating.push(i);
    });
    if (rating.length === 0) throw new Error(`方案 ${scheme.code}：指标 ${n.code} ${n.title} 没有任何评估主体评分（检查 raterGroups 的 indicators）`);
    return {
      code: n.code, title: n.title, maxPoints: n.maxPoints, groups: rating,
      tiers: n.tiers && n.tiers.length > 0 ? new Map(n.tiers.map((t) => [t.code, t.maxPoints])) : null,
    };
  });

  const G = groups.length;
  const groupLeaves: number[][] = groups.map(() => []);
  leaves.forEach((l, li) => { for (const g of l.groups) groupLeaves[g]!.push(li); });
  const groupLeafCount = Int32Array.from(groupLeaves, (x) => x.length);
  const scratch = { agg: new Float64Array(leaves.length * G), contrib: new Float64Array(G), totals: new Float64Array(G), hasScore: new Uint8Array(G), counted: new Uint8Array(G) };
  const indicatorTemplate: Record<string, number> = {};
  for (const l of leaves) indicatorTemplate[l.code] = 0;
  return { leaves, groups, groupIndex, groupLeaves, groupLeafCount, scratch, indicatorTemplate, decimals: scheme.grading?.decimals ?? 2, plan: scheme.grading ? compileGrading(scheme.grading) : null };
}

function compileGrading(grading: Grading): GradingPlan {
  const gradeIndex = new Map<string, number>();
  grading.grades.forEach((g, i) => gradeIndex.set(g.code, i));
  const idx = (code: string) => {
    const i = gradeIndex.get(code);
    if (i === undefined) throw new Error(`方案等次规则引用了未定义的等次 ${code}`);
    return i;
  };
  const facts = new Map(grading.facts.map((f) => [f.id, f]));
  const ruleFacts: string[] = [];
  const seen = new Set<string>();
  const addFacts = (c: Condition) => {
    for (const id of factsOf(c)) {
      if (!facts.has(id)) throw new Error(`方案等次规则引用了未定义的事实 ${id}`);
      if (!seen.has(id)) { seen.add(id); ruleFacts.push(id); }
    }
  };
  const rules: RulePlan[] = [];
  for (const d of grading.downgrades) { addFacts(d.when); rules.push({ kind: 'downgrade', id: d.id, name: d.name, when: d.when, capAt: -1, levels: d.levels }); }
  for (const v of grading.vetoes) { addFacts(v.when); rules.push({ kind: 'veto', id: v.id, name: v.name, when: v.when, capAt: idx(v.capAt), levels: 0 }); }

  let quota: QuotaPlan | null = null;
  const method = grading.method;
  if (method.type === 'thresholds') {
    method.thresholds.forEach((t) => idx(t.grade));
    idx(method.otherwise);
  } else {
    const byGrade = new Map<number, QuotaGrade>();
    for (const q of method.quotas) {
      const g = idx(q.grade);
      if (byGrade.has(g)) throw new Error(`配额规则重复列出等次 ${q.grade}`);
      if (q.minShare !== undefined && q.maxShare !== undefined) throw new Error(`配额规则：等次 ${q.grade} 不能同时设定最低比例（minShare）和最高比例（maxShare）`);
      byGrade.set(g, { grade: g, maxShare: q.maxShare, minShare: q.minShare, minScore: q.minScore });
    }
    const ordered: QuotaGrade[] = grading.grades.map((_, i) => byGrade.get(i) ?? { grade: i });
    const bottom: QuotaGrade[] = [];
    let k = ordered.length - 1;
    while (k >= 0 && ordered[k]!.minShare !== undefined) bottom.push(ordered[k--]!);
    const rest = ordered.slice(0, k + 1);
    const stray = rest.find((q) => q.minShare !== undefined);
    if (stray) throw new Error(`配额规则：最低比例（minShare）只能设在从最低等次起连续的等次上，${grading.grades[stray.grade]!.label} 不是`);
    if (rest.length === 0) throw new Error('配额规则：至少要有一个等次不设最低比例（minShare）');
    if (bottom.length > 0) quota = { bottom, top: rest, catchAll: bottom[bottom.length - 1]!.grade };
    else quota = { bottom, top: rest.slice(0, -1), catchAll: rest[rest.length - 1]!.grade };
  }
  return { grading, gradeIndex, labels: grading.grades.map((g) => g.label), facts, ruleFacts, rules, quota };
}

function factsOf(c: Condition): string[] {
  if ('all' in c) return c.all.flatMap(factsOf);
  if ('any' in c) return c.any.flatMap(factsOf);
  if ('not' in c) return factsOf(c.not);
  return typeof c.value === 'object' ? [c.fact, c.value.fact] : [c.fact];
}

/** Numbers computed from facts are trimmed to 10 decimals, so 3 × 1.2 compares as 3.6. */
const clean = (x: number) => Math.round(x * 1e10) / 1e10;

function evalCondition(c: Condition, facts: Record<string, FactValue>): boolean {
  if ('all' in c) return c.all.every((x) => evalCondition(x, facts));
  if ('any' in c) return c.any.some((x) => evalCondition(x, facts));
  if ('not' in c) return !evalCondition(c.not, facts);
  const left = facts[c.fact]!;
  const right = rhsOf(c, facts);
  if (typeof left === 'boolean' || typeof right === 'boolean') {
    if (typeof left !== typeof right || (c.op !== '==' && c.op !== '!=')) throw new Error(`条件 ${c.fact} ${c.op}：是/否类事实只能用 == 或 != 与是/否比较`);
    return c.op === '==' ? left === right : left !== right;
  }
  switch (c.op) {
    case '>': return left > right;
    case '>=': return left >= right;
    case '<': return left < right;
    case '<=': return left <= right;
    case '==': return left === right;
    case '!=': return left !== right;
  }
}

function rhsOf(c: Leaf, facts: Record<string, FactValue>): FactValue {
  if (typeof c.value !== 'object') return c.value;
  const base = facts[c.value.fact];
  if (typeof base !== 'number') throw new Error(`条件引用的事实 ${c.value.fact} 必须是数值`);
  return clean(base * (c.value.times ?? 1) + (c.value.plus ?? 0));
}

const OPS: Record<Leaf['op'], string> = { '>': '>', '>=': '≥', '<': '<', '<=': '≤', '==': '=', '!=': '≠' };

function factText(plan: GradingPlan, id: string, v: FactValue): string {
  const f = plan.facts.get(id);
  const label = f?.label ?? id;
  if (typeof v === 'boolean') return `${label}：${v ? '是' : '否'}`;
  return `${label} ${clean(v)}${f?.unit ?? ''}`;
}

/** Explains why a condition that holds holds: the comparisons that made it true, with the facts' values. */
function explain(plan: GradingPlan, c: Condition, facts: Record<string, FactValue>): string[] {
  if ('all' in c) return c.all.flatMap((x) => explain(plan, x, facts));
  if ('any' in c) return c.any.filter((x) => evalCondition(x, facts)).flatMap((x) => explain(plan, x, facts));
  if ('not' in c) return [...new Set(factsOf(c.not))].map((id) => factText(plan, id, facts[id]!));
  const left = factText(plan, c.fact, facts[c.fact]!);
  if (typeof c.value === 'boolean') return [left];
  if (typeof c.value === 'number') {
    const unit = plan.facts.get(c.fact)?.unit ?? '';
    return [`${left} ${OPS[c.op]} ${c.value}${unit}`];
  }
  const ref = c.value;
  let rhs = factText(plan, ref.fact, facts[ref.fact]!);
  if (ref.times !== undefined && ref.times !== 1) rhs += ` × ${ref.times}`;
  if (ref.plus !== undefined && ref.plus !== 0) rhs += ` ${ref.plus < 0 ? '−' : '+'} ${Math.abs(ref.plus)}`;
  if ((ref.times ?? 1) !== 1 || (ref.plus ?? 0) !== 0) rhs += ` = ${String(rhsOf(c, facts))}`;
  return [`${left} ${OPS[c.op]} ${rhs}`];
}

/** The score of one unit before ranking. */
interface Scored {
  unit: GradingUnitInput;
  result: UnitResult;
  /** The rounded composite, or null when incomplete. */
  score: number | null;
  /** Lines after the score line (missing-group handling). */
  notes: string[];
}

function aggregate(arr: number[], trimmed: boolean, max: number, unit: GradingUnitInput, group: RaterGroup, leaf: LeafPlan): number {
  let sum = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < arr.length; i++) {
    const s = arr[i]!;
    if (typeof s !== 'number' || !(s >= 0 && s <= max)) {
      throw new Error(`评分超出范围：单位 ${unit.name}（id ${unit.unitId}），评估主体 ${group.name}（${group.id}），指标 ${leaf.code} ${leaf.title}，评分 ${String(s)} 应在 0–${max} 分之间`);
    }
    sum += s;
    if (s < lo) lo = s;
    if (s > hi) hi = s;
  }
  if (trimmed && arr.length >= 3) return (sum - lo - hi) / (arr.length - 2);
  return sum / arr.length;
}

function unitLabel(u: GradingUnitInput) {
  return `单位 ${u.name}（id ${u.unitId}）`;
}

function scoreUnit(c: Compiled, unit: GradingUnitInput): Scored {
  const G = c.groups.length;
  const d = c.decimals;
  for (const key in unit.scores) {
    if (!c.groupIndex.has(key)) throw new Error(`${unitLabel(unit)} 有方案中没有的评估主体 ${key} 的评分`);
  }
  const { agg, contrib, totals, hasScore, counted } = c.scratch;
  contrib.fill(0); totals.fill(0); hasScore.fill(0); counted.fill(0);

  // Pass 1, group by group (the shape of the input): each group's aggregated score on each leaf it
  // rates, NaN when it has none. Scores for leaves a group does not rate would be dropped
  // silently, so they are refused.
  for (let g = 0; g < G; g++) {
    const group = c.groups[g]!;
    const list = c.groupLeaves[g]!;
    const m = unit.scores[group.id];
    if (m === undefined) {
      for (let k = 0; k < list.length; k++) agg[list[k]! * G + g] = NaN;
      continue;
    }
    const trimmed = group.aggregate === 'trimmed-mean';
    let found = 0;
    for (let k = 0; k < list.length; k++) {
      const li = list[k]!;
      const leaf = c.leaves[li]!;
      const arr = m[leaf.code];
      if (arr === undefined) { agg[li * G + g] = NaN; continue; }
      found++;
      agg[li * G + g] = arr.length === 0 ? NaN : aggregate(arr, trimmed, leaf.maxPoints, unit, group, leaf);
    }
    let keys = 0;
    for (const _ in m) keys++;
    if (keys !== found) {
      const rated = new Set(list.map((li) => c.leaves[li]!.code));
      const bad = Object.keys(m).find((k) => !rated.has(k)) ?? '?';
      throw new Error(`${unitLabel(unit)}：评估主体 ${group.name}（${group.id}）有指标 ${bad} 的评分，但按方案它不评该指标（或该指标不是末级指标）`);
    }
  }

  // Pass 2, leaf by leaf: tiers, missing groups, the weighted mean.
  const leafTotals = c.groupLeafCount;
  let missingLeaves: Array<string[] | undefined> | null = null;
  const missing: string[] = [];
  const indicatorScores: Record<string, number> = { ...c.indicatorTemplate };
  let unscored: string[] | null = null;
  let total = 0;
  let incomplete = false;
  const leaves = c.leaves;
  for (let li = 0; li < leaves.length; li++) {
    const leaf = leaves[li]!;
    const row = li * G;
    let scale = 1;
    if (leaf.tiers) {
      const tc = unit.tiers?.[leaf.code];
      if (tc === undefined) {
        incomplete = true;
        missing.push(`未确定个性指标档次：${leaf.code} ${leaf.title}`);
        (unscored ??= []).push(leaf.code);
        continue;
      }
      const tm = leaf.tiers.get(tc);
      if (tm === undefined) throw new Error(`${unitLabel(unit)} 的指标 ${leaf.code} 档次 ${tc} 不在方案的档次中（${[...leaf.tiers.keys()].join('、')}）`);
      scale = tm / leaf.maxPoints;
    }
    let wsum = 0;
    let ssum = 0;
    let blocked = false;
    const lg = leaf.groups;
    for (let k = 0; k < lg.length; k++) {
      const g = lg[k]!;
      const group = c.groups[g]!;
      const a = agg[row + g]!;
      if (Number.isNaN(a)) {
        missingLeaves ??= new Array<string[] | undefined>(G);
        (missingLeaves[g] ??= []).push(leaf.code);
        if (group.whenMissing === 'zero') { wsum += group.weight; agg[row + g] = 0; counted[g] = 1; }
        else if (group.whenMissing === 'incomplete') blocked = true;
        continue;
      }
      const s = a * scale;
      agg[row + g] = s;
      totals[g]! += s;
      hasScore[g] = 1;
      counted[g] = 1;
      ssum += group.weight * s;
      wsum += group.weight;
    }
    if (blocked || wsum === 0) {
      incomplete = true;
      if (!blocked) missing.push(`指标 ${leaf.code} ${leaf.title} 没有任何评估主体的评分`);
      (unscored ??= []).push(leaf.code);
      continue;
    }
    const score = ssum / wsum;
    total += score;
    indicatorScores[leaf.code] = roundHalfAway(score, d);
    for (let k = 0; k < lg.length; k++) {
      const g = lg[k]!;
      const s = agg[row + g]!;
      if (!Number.isNaN(s)) contrib[g]! += (c.groups[g]!.weight * s) / wsum;
    }
  }

  if (unscored) for (const code of unscored) delete indicatorScores[code];

  const notes: string[] = [];
  for (let g = 0; g < G && missingLeaves; g++) {
    const ml = missingLeaves[g];
    if (!ml) continue;
    const group = c.groups[g]!;
    const which = ml.length === leafTotals[g] ? '' : `（指标 ${ml.join('、')}）`;
    if (group.whenMissing === 'redistribute') notes.push(`${group.name}缺少评分${which}，其权重按方案分配给其他评估主体`);
    else if (group.whenMissing === 'zero') notes.push(`${group.name}缺少评分${which}，按方案计0分`);
    else {
      const titles = c.leaves.filter((l) => ml.includes(l.code)).map((l) => `${l.code} ${l.title}`);
      missing.push(ml.length === leafTotals[g] ? `${group.name}缺少评分（全部指标）` : `${group.name}缺少评分：${titles.join('、')}`);
    }
  }

  const raterGroupScores: Record<string, number> = {};
  for (let g = 0; g < G; g++) if (hasScore[g]) raterGroupScores[c.groups[g]!.id] = roundHalfAway(totals[g]!, d);

  const score = incomplete ? null : roundHalfAway(total, d);
  const parts: string[] = [];
  for (let g = 0; g < G; g++) if (counted[g]) parts.push(`${c.groups[g]!.name} ${roundHalfAway(contrib[g]!, d).toFixed(d)}`);
  // An incomplete unit's first line is written once its facts are checked too (incompleteLine).
  const scoreLine = score === null ? '' : `综合得分 ${score.toFixed(d)}${parts.length > 0 ? `（${parts.join('，')}）` : ''}`;

  return {
    unit, score, notes,
    result: {
      unitId: unit.unitId, name: unit.name, group: unit.group,
      status: incomplete ? 'incomplete' : 'graded',
      score, indicatorScores, raterGroupScores,
      rank: null, rankOf: null, baseGrade: null, grade: null, gradeLabel: null,
      flags: [], reasons: [scoreLine], missing,
    },
  };
}

function checkFacts(plan: GradingPlan, s: Scored): void {
  const facts = s.unit.facts ?? {};
  for (const id of plan.ruleFacts) {
    const v = facts[id];
    const f = plan.facts.get(id)!;
    if (v === undefined) { s.result.missing.push(`缺少事实：${f.label}`); continue; }
    if ((f.type === 'number' && typeof v !== 'number') || (f.type === 'boolean' && typeof v !== 'boolean') || (typeof v === 'number' && !Number.isFinite(v))) {
      throw new Error(`${unitLabel(s.unit)} 的事实 ${f.label}（${id}）应为${f.type === 'number' ? '数值' : '是/否'}，实际为 ${String(v)}`);
    }
  }
  if (s.result.missing.length > 0 && s.result.status === 'graded') {
    s.result.status = 'incomplete';
    s.score = null;
    s.result.score = null;
  }
}

/** The first reason of an incomplete unit: what is missing (the first three), and that it waits. */
function incompleteLine(missing: string[]): string {
  const shown = missing.slice(0, 3).join('；');
  return `暂无综合得分：缺少${missing.length}项（${shown}${missing.length > 3 ? '等' : ''}），暂不排名、不评定等次`;
}

const gradeNoun = (label: string) => (/[级等次档]$/.test(label) ? label : `${label}等次`);
const pct = (share: number) => `${Math.round(share * 10000) / 100}%`;

function scopeName(key: string, all: boolean) {
  if (all) return '全部单位中';
  return key.endsWith('组') ? key : `${key}组`;
}

/** What happened to a unit in the quota walk, to write its reason. */
interface QuotaNote {
  /** Why the grade just better than the final one passed the unit over (the last grade to pass it). */
  passed: { kind: 'full' | 'tie' | 'min-score'; q: QuotaGrade; tieSize: number } | null;
  /** How the final grade took the unit (null: a leftover that went to the catch-all grade). */
  took: { kind: 'max' | 'min' | 'min-tie' | 'plain'; q: QuotaGrade } | null;
  /** The grade the unit ends with. */
  final: number;
}

/** Rule 8 on one scope, `sorted` by rounded composite descending (ties adjacent). */
function allocateQuota(plan: QuotaPlan, sorted: Scored[]): QuotaNote[] {
  const n = sorted.length;
  const notes: QuotaNote[] = sorted.map(() => ({ passed: null, took: null, final: plan.catchAll }));
  const score = (i: number) => sorted[i]!.score!;
  let lo = 0;
  let hi = n;

  // a. minimum shares from the bottom, worst grade first; a tie on the line goes in whole.
  for (const q of plan.bottom) {
    if (hi <= lo) break;
    const line = hi - Math.min(ceilShare(q.minShare!, n), hi - lo);
    let cut = line;
    while (cut > lo && score(cut - 1) === score(cut)) cut--;
    for (let i = cut; i < hi; i++) notes[i] = { passed: null, took: { kind: i < line ? 'min-tie' : 'min', q }, final: q.grade };
    hi = cut;
  }

  // b. the other grades from the top, best first; a tie on a maximum line goes down whole.
  for (const q of plan.top) {
    if (hi <= lo) break;
    const avail = hi - lo;
    let reach = avail;
    if (q.minScore !== undefined) {
      reach = 0;
      while (reach < avail && score(lo + reach) >= q.minScore) reach++;
    }
    const cap = q.maxShare !== undefined ? floorShare(q.maxShare, n) : avail;
    let take = Math.min(cap, reach);
    let tieEnd = lo + take;
    if (take > 0 && take < reach && score(lo + take - 1) === score(lo + take)) {
      const v = score(lo + take - 1);
      while (take > 0 && score(lo + take - 1) === v) take--;
      while (tieEnd < hi && score(tieEnd) === v) tieEnd++;
    }
    for (let i = lo; i < lo + take; i++) notes[i]!.took = { kind: q.maxShare !== undefined ? 'max' : 'plain', q };
    for (let i = lo; i < lo + take; i++) notes[i]!.final = q.grade;
    const tieStart = lo + take;
    for (let i = tieStart; i < hi; i++) {
      const kind = i < tieEnd ? 'tie' : i >= lo + reach ? 'min-score' : 'full';
      notes[i]!.passed = { kind, q, tieSize: tieEnd - tieStart };
    }
    lo += take;
  }
  // c. whatever is left goes to the catch-all grade (already the default).
  return notes;
}

/**
 * Grades a campaign: scores every unit, ranks complete units within their scope, and applies the
 * scheme's grade rules. Throws on input errors (a score out of range, unknown groups, indicators,
 * tiers, fact types, duplicate unit ids, conflicting history). See the file comment for the rules.
 */
export function gradeCampaign(scheme: SchemeFile, input: GradingInput): GradingResult {
  const c = compile(scheme);
  const plan = c.plan;
  const d = c.decimals;

  const ids = new Set<number>();
  const groupOrder = new Map<string, number>();
  const scored: Scored[] = input.units.map((u) => {
    if (ids.has(u.unitId)) throw new Error(`单位 id ${u.unitId} 在输入中出现了不止一次`);
    ids.add(u.unitId);
    if (!groupOrder.has(u.group)) groupOrder.set(u.group, groupOrder.size);
    return scoreUnit(c, u);
  });
  if (plan) for (const s of scored) checkFacts(plan, s);
  for (const s of scored) {
    if (s.result.status === 'incomplete') s.result.reasons[0] = incompleteLine(s.result.missing);
    s.result.reasons.push(...s.notes);
  }

  // Ranking scopes.
  const all = plan?.grading.method.type === 'quota' && plan.grading.method.within === 'all';
  const scopes = new Map<string, Scored[]>();
  for (const s of scored) {
    if (s.score === null) continue;
    const key = all ? '' : s.unit.group;
    let list = scopes.get(key);
    if (!list) scopes.set(key, (list = []));
    list.push(s);
  }

  const base = new Map<Scored, { grade: number; line: string }>();
  for (const [key, list] of scopes) {
    list.sort((a, b) => b.score! - a.score! || a.unit.unitId - b.unit.unitId);
    const n = list.length;
    let rank = 1;
    const tied = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (i > 0 && list[i]!.score !== list[i - 1]!.score) rank = i + 1;
      else if (i > 0) { tied[i] = 1; tied[i - 1] = 1; }
      list[i]!.result.rank = rank;
      list[i]!.result.rankOf = n;
    }
    const where = (i: number) => `${scopeName(key, all)}${tied[i] ? '并列' : ''}第${list[i]!.result.rank}名/共${n}个单位`;

    if (!plan) {
      for (let i = 0; i < n; i++) list[i]!.result.reasons.push(where(i));
      continue;
    }
    const method = plan.grading.method;
    const labels = plan.labels;
    if (method.type === 'thresholds') {
      const lowest = method.thresholds[method.thresholds.length - 1]!;
      for (let i = 0; i < n; i++) {
        const s = list[i]!;
        const sc = s.score!;
        const t = method.thresholds.find((x) => x.min <= sc);
        const g = plan.gradeIndex.get(t ? t.grade : method.otherwise)!;
        const line = t
          ? `得分 ${sc.toFixed(d)}，达到${labels[g]}标准（${t.min}分及以上），评为${labels[g]}`
          : `得分 ${sc.toFixed(d)}，低于${labels[plan.gradeIndex.get(lowest.grade)!]}标准（${lowest.min}分），评为${labels[g]}`;
        s.result.reasons.push(where(i));
        base.set(s, { grade: g, line });
      }
    } else {
      const notes = allocateQuota(plan.quota!, list);
      for (let i = 0; i < n; i++) {
        const s = list[i]!;
        const { passed, took, final } = notes[i]!;
        const parts = [where(i)];
        const maxText = (q: QuotaGrade) => `${gradeNoun(labels[q.grade]!)}名额${floorShare(q.maxShare!, n)}个（${pct(q.maxShare!)}）`;
        const minText = (q: QuotaGrade) => `${gradeNoun(labels[q.grade]!)}至少${ceilShare(q.minShare!, n)}个（${pct(q.minShare!)}）`;
        let together = false;
        if (passed?.kind === 'full') parts.push(`${maxText(passed.q)}已满`);
        if (passed?.kind === 'tie') {
          parts.push(maxText(passed.q), `同分的${passed.tieSize}个单位跨越${gradeNoun(labels[passed.q.grade]!)}名额线`);
          together = true;
        }
        if (passed?.kind === 'min-score') parts.push(`得分 ${s.score!.toFixed(d)} 低于${gradeNoun(labels[passed.q.grade]!)}最低分${passed.q.minScore!}分`);
        if (took?.kind === 'max' && !together) parts.push(maxText(took.q));
        if (took?.kind === 'min') parts.push(minText(took.q));
        if (took?.kind === 'min-tie') {
          parts.push(minText(took.q), `与名额线上的单位同分，同分跨越${gradeNoun(labels[took.q.grade]!)}名额线`);
          together = true;
        }
        parts.push(`${together ? '一并' : ''}评为${labels[final]}`);
        base.set(s, { grade: final, line: parts.join('，') });
      }
    }
  }

  // Rules per unit, then the result.
  const counts: Record<string, number> = {};
  if (plan) for (const g of plan.grading.grades) counts[g.code] = 0;
  for (const s of scored) {
    const r = s.result;
    if (!plan) {
      r.reasons.push('方案未设定等次规则，只计分和排名，不评定等次');
      continue;
    }
    const b = base.get(s);
    if (!b) continue;
    const labels = plan.labels;
    const worst = labels.length - 1;
    r.reasons.push(b.line);
    r.baseGrade = plan.grading.grades[b.grade]!.code;
    const facts = s.unit.facts ?? {};
    let g = b.grade;
    let cap = 0;
    for (const rule of plan.rules) {
      if (!evalCondition(rule.when, facts)) continue;
      const why = explain(plan, rule.when, facts).join('，');
      if (rule.kind === 'downgrade') {
        const to = Math.min(worst, g + rule.levels);
        r.reasons.push(to === g
          ? `降级：${rule.name}（${why}），已是最低等次${labels[g]}`
          : `降级：${rule.name}（${why}），由${labels[g]}降为${labels[to]}`);
        g = to;
      } else {
        cap = Math.max(cap, rule.capAt);
        r.reasons.push(`一票否决：${rule.name}（${why}），等次最高为${labels[rule.capAt]}`);
      }
    }
    g = Math.max(g, cap);
    const code = plan.grading.grades[g]!.code;
    r.grade = code;
    r.gradeLabel = labels[g]!;
    if (g !== b.grade) r.reasons.push(`最终等次：${labels[g]}`);
    counts[code] = (counts[code] ?? 0) + 1;
    r.flags = multiYearFlags(plan, input.year, s.unit, code);
    for (const f of r.flags) r.reasons.push(f.text);
  }

  const keyed = scored.map((s) => ({ s, group: groupOrder.get(s.unit.group)!, rank: s.result.rank ?? Number.MAX_SAFE_INTEGER, id: s.unit.unitId }));
  keyed.sort((a, b) => a.group - b.group || a.rank - b.rank || a.id - b.id);
  const ordered = keyed.map((k) => k.s);
  return { year: input.year, units: ordered.map((s) => s.result), counts };
}

function multiYearFlags(plan: GradingPlan, year: number, unit: GradingUnitInput, grade: string): UnitFlag[] {
  const rules = plan.grading.multiYear;
  if (rules.length === 0) return [];
  const past = new Map<number, string>();
  for (const h of unit.history ?? []) {
    const prev = past.get(h.year);
    if (prev !== undefined && prev !== h.grade) throw new Error(`${unitLabel(unit)} 的历史等次中 ${h.year} 年有两个不同的等次（${prev}、${h.grade}）`);
    past.set(h.year, h.grade);
  }
  const flags: UnitFlag[] = [];
  for (const rule of rules) {
    if (rule.grade !== grade) continue;
    let ok = true;
    for (let k = 1; k < rule.consecutiveYears && ok; k++) ok = past.get(year - k) === rule.grade;
    if (!ok) continue;
    const label = plan.labels[plan.gradeIndex.get(rule.grade)!]!;
    flags.push({ rule: rule.id, text: `连续${rule.consecutiveYears}年${label}：${rule.flag}` });
  }
  return flags;
}
