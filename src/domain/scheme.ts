/**
 * The scheme file format (评估方案): the indicator tree, the rater groups and their weights, and
 * the grade rules (thresholds or group quotas, vetoes, downgrades, multi-year rules, rounding).
 * Validated on load with messages that point at the offending path. Pure: the caller reads
 * the file. The grading engine (./grading) reads the same types.
 */
import { z } from 'zod';

const code = z.string().regex(/^[0-9A-Za-z]+(\.[0-9A-Za-z]+)*$/, 'an indicator code like "1" or "1.2"');
const id = z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and dashes, starting with a letter');

/** A judgement level of a 定性 indicator, e.g. 好 = full points, 较好 = 80 %. */
const LevelSchema = z.strictObject({ label: z.string().min(1), points: z.number().min(0) });

/** Ⅰ/Ⅱ/Ⅲ档: an individual indicator's difficulty tier; a unit's tier sets the points it can earn. */
const TierSchema = z.strictObject({ code: z.string().min(1), label: z.string().min(1), maxPoints: z.number().positive() });

export type IndicatorNode = {
  code: string;
  title: string;
  maxPoints: number;
  scoringGuide?: string;
  evidence?: string;
  evidenceRequired?: boolean;
  explanationRequired?: boolean;
  /** 定量 (a measured number with a unit) or 定性 (a judgement, optionally on levels). */
  kind?: 'quantitative' | 'qualitative';
  /** 定量: the unit of the measured number, e.g. "%", "件", "人". */
  unit?: string;
  /** 定性: the judgement levels a rater picks from. */
  levels?: Array<z.infer<typeof LevelSchema>>;
  /** 共性指标 (the same for every unit) or 个性指标 (drafted per unit or group by the supervising dept). */
  scope?: 'common' | 'individual';
  tiers?: Array<z.infer<typeof TierSchema>>;
  /** true when the seed does not list this indicator and it was built from the seed's description. */
  assumed?: boolean;
  children?: IndicatorNode[];
};

const IndicatorSchema: z.ZodType<IndicatorNode> = z.lazy(() =>
  z.strictObject({
    code,
    title: z.string().min(1),
    maxPoints: z.number().positive(),
    scoringGuide: z.string().optional(),
    evidence: z.string().optional(),
    evidenceRequired: z.boolean().optional(),
    explanationRequired: z.boolean().optional(),
    kind: z.enum(['quantitative', 'qualitative']).optional(),
    unit: z.string().min(1).optional(),
    levels: z.array(LevelSchema).min(2).optional(),
    scope: z.enum(['common', 'individual']).optional(),
    tiers: z.array(TierSchema).min(2).optional(),
    assumed: z.boolean().optional(),
    children: z.array(IndicatorSchema).optional(),
  }),
);

/**
 * A rater group (评估主体): who scores which indicators, with what weight. On an indicator
 * rated by several groups, the indicator's score is the weighted mean of their scores (the
 * weights of the groups rating it, renormalised). Several raters inside one group (a
 * questionnaire's respondents, an evaluator team) are combined by `aggregate`.
 */
const RaterGroupSchema = z.strictObject({
  id,
  name: z.string().min(1),
  weight: z.number().positive(),
  /** Indicator codes this group rates (a 大项 code covers its 小项); omitted = every indicator. */
  indicators: z.array(code).min(1).optional(),
  /** mean, or trimmed mean (去掉一个最高分和一个最低分; falls back to the mean under 3 raters). */
  aggregate: z.enum(['mean', 'trimmed-mean']).default('mean'),
  /**
   * When a unit has no score from this group on an indicator it rates:
   * - redistribute: its weight goes to the other groups rating that indicator (said in the explanation);
   * - zero: the indicator counts 0 from this group (said in the explanation);
   * - incomplete: the unit cannot be graded until the score arrives (status 待补充).
   * Never silently zero.
   */
  whenMissing: z.enum(['redistribute', 'zero', 'incomplete']).default('incomplete'),
});

/** A reference to a per-unit fact (e.g. 死亡人数), optionally scaled: { fact: "target", times: 1.2 }. */
const FactRefSchema = z.strictObject({ fact: id, times: z.number().optional(), plus: z.number().optional() });

export type Condition =
  | { fact: string; op: '>' | '>=' | '<' | '<=' | '==' | '!='; value: number | boolean | { fact: string; times?: number; plus?: number } }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

const ConditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ fact: id, op: z.enum(['>', '>=', '<', '<=', '==', '!=']), value: z.union([z.number(), z.boolean(), FactRefSchema]) }),
    z.strictObject({ all: z.array(ConditionSchema).min(1) }),
    z.strictObject({ any: z.array(ConditionSchema).min(1) }),
    z.strictObject({ not: ConditionSchema }),
  ]),
);

/** A per-unit fact the rules read (an accident count, a percentage, a yes/no finding). */
const FactSchema = z.strictObject({ id, label: z.string().min(1), type: z.enum(['number', 'boolean']), unit: z.string().optional() });

const GradeSchema = z.strictObject({ code: z.string().min(1), label: z.string().min(1) });

/** Thresholds on the composite: the first grade whose `min` the (rounded) score reaches. */
const ThresholdMethodSchema = z.strictObject({
  type: z.literal('thresholds'),
  thresholds: z.array(z.strictObject({ grade: z.string().min(1), min: z.number() })).min(1),
  /** The grade of a score below every threshold. */
  otherwise: z.string().min(1),
});

/**
 * Ranking within a group (按组别综合得分排序) with quotas: a grade may have a maximum share
 * (A ≤ 30 %: at most floor(30 % × n) units) or a minimum share (C ≥ 5 %: at least ceil(5 % × n)
 * units, taken from the bottom), and optionally a minimum score. Units tied on a quota line:
 * at a maximum-share line the whole tie goes to the next grade (the quota is never exceeded);
 * at a minimum-share line the whole tie goes into the grade (the minimum is always met).
 */
const QuotaMethodSchema = z.strictObject({
  type: z.literal('quota'),
  /** What ranks are taken within: the unit's group (组别) or all units of the campaign. */
  within: z.enum(['group', 'all']).default('group'),
  quotas: z.array(z.strictObject({
    grade: z.string().min(1),
    maxShare: z.number().gt(0).lte(1).optional(),
    minShare: z.number().gt(0).lte(1).optional(),
    minScore: z.number().optional(),
  })).min(1),
});

const VetoSchema = z.strictObject({
  id,
  name: z.string().min(1),
  when: ConditionSchema,
  /** The best grade a unit can get when the veto fires (一票否决 → 不合格; 教育督导 → at most 合格). */
  capAt: z.string().min(1),
});

const DowngradeSchema = z.strictObject({ id, name: z.string().min(1), when: ConditionSchema, levels: z.number().int().positive().default(1) });

/** 连续三年 A → 优先提拔; 连续两年 C → 降免职. The current year counts. */
const MultiYearSchema = z.strictObject({
  id,
  name: z.string().min(1),
  grade: z.string().min(1),
  consecutiveYears: z.number().int().min(2),
  flag: z.string().min(1),
});

export const GradingSchema = z.strictObject({
  /** Best first. */
  grades: z.array(GradeSchema).min(2),
  method: z.discriminatedUnion('type', [ThresholdMethodSchema, QuotaMethodSchema]),
  facts: z.array(FactSchema).default([]),
  vetoes: z.array(VetoSchema).default([]),
  downgrades: z.array(DowngradeSchema).default([]),
  multiYear: z.array(MultiYearSchema).default([]),
  /** The composite is rounded (half away from zero) before thresholds and ranking. */
  decimals: z.number().int().min(0).max(4).default(2),
});

/** What every template file (a scheme, a ledger) starts with: its code, version, name, and where it comes from. */
export const TemplateHeader = {
  code: z.string().regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and dashes'),
  version: z.number().int().positive().default(1),
  name: z.string().min(1),
  description: z.string().default(''),
  /** Where the template comes from (which 篇 of the seed) and what was assumed. */
  source: z.string().optional(),
};

export const SchemeFileSchema = z
  .strictObject({
    ...TemplateHeader,
    indicators: z.array(IndicatorSchema).min(1),
    raterGroups: z.array(RaterGroupSchema).min(1).default([{ id: 'evaluator', name: '评估组', weight: 1, aggregate: 'mean', whenMissing: 'incomplete' }]),
    grading: GradingSchema.optional(),
  })
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    const visit = (nodes: IndicatorNode[], path: (string | number)[]) => {
      nodes.forEach((n, i) => {
        const p = [...path, i];
        if (seen.has(n.code)) ctx.addIssue({ code: 'custom', path: [...p, 'code'], message: `duplicate indicator code ${n.code}` });
        seen.add(n.code);
        if (n.tiers) {
          if (n.scope !== 'individual') ctx.addIssue({ code: 'custom', path: [...p, 'tiers'], message: `${n.code} has tiers but only individual indicators (scope "individual") are tiered` });
          if (n.tiers.some((t) => t.maxPoints > n.maxPoints)) ctx.addIssue({ code: 'custom', path: [...p, 'tiers'], message: `${n.code}: a tier's maxPoints is above the indicator's ${n.maxPoints}` });
        }
        if (n.levels && n.levels.some((l) => l.points > n.maxPoints)) ctx.addIssue({ code: 'custom', path: [...p, 'levels'], message: `${n.code}: a level's points are above the indicator's ${n.maxPoints}` });
        if (n.children && n.children.length > 0) {
          const sum = n.children.reduce((a, c) => a + c.maxPoints, 0);
          if (Math.abs(sum - n.maxPoints) > 1e-9)
            ctx.addIssue({ code: 'custom', path: [...p, 'maxPoints'], message: `${n.code} has maxPoints ${n.maxPoints} but its children add up to ${sum}` });
          visit(n.children, [...p, 'children']);
        }
      });
    };
    visit(s.indicators, ['indicators']);

    const groupIds = new Set<string>();
    s.raterGroups.forEach((g, i) => {
      if (groupIds.has(g.id)) ctx.addIssue({ code: 'custom', path: ['raterGroups', i, 'id'], message: `duplicate rater group ${g.id}` });
      groupIds.add(g.id);
      g.indicators?.forEach((c, j) => {
        if (!seen.has(c)) ctx.addIssue({ code: 'custom', path: ['raterGroups', i, 'indicators', j], message: `unknown indicator ${c}` });
      });
    });

    const gr = s.grading;
    if (!gr) return;
    const grades = new Set(gr.grades.map((g) => g.code));
    const checkGrade = (g: string, path: (string | number)[]) => {
      if (!grades.has(g)) ctx.addIssue({ code: 'custom', path: ['grading', ...path], message: `unknown grade ${g} (grades: ${[...grades].join(', ')})` });
    };
    if (gr.method.type === 'thresholds') {
      gr.method.thresholds.forEach((t, i) => checkGrade(t.grade, ['method', 'thresholds', i, 'grade']));
      checkGrade(gr.method.otherwise, ['method', 'otherwise']);
      for (let i = 1; i < gr.method.thresholds.length; i++) {
        const prev = gr.method.thresholds[i - 1]!;
        const cur = gr.method.thresholds[i]!;
        if (cur.min >= prev.min) ctx.addIssue({ code: 'custom', path: ['grading', 'method', 'thresholds', i, 'min'], message: 'thresholds must be listed from the highest min down' });
      }
    } else {
      gr.method.quotas.forEach((q, i) => checkGrade(q.grade, ['method', 'quotas', i, 'grade']));
      const covered = new Set(gr.method.quotas.map((q) => q.grade));
      if (covered.size !== grades.size) ctx.addIssue({ code: 'custom', path: ['grading', 'method', 'quotas'], message: 'a quota method lists every grade once, best first' });
    }
    const facts = new Set(gr.facts.map((f) => f.id));
    const checkCondition = (c: Condition, path: (string | number)[]) => {
      if ('all' in c) c.all.forEach((x, i) => checkCondition(x, [...path, 'all', i]));
      else if ('any' in c) c.any.forEach((x, i) => checkCondition(x, [...path, 'any', i]));
      else if ('not' in c) checkCondition(c.not, [...path, 'not']);
      else {
        if (!facts.has(c.fact)) ctx.addIssue({ code: 'custom', path: ['grading', ...path, 'fact'], message: `unknown fact ${c.fact}` });
        if (typeof c.value === 'object' && !facts.has(c.value.fact)) ctx.addIssue({ code: 'custom', path: ['grading', ...path, 'value', 'fact'], message: `unknown fact ${c.value.fact}` });
      }
    };
    gr.vetoes.forEach((v, i) => { checkGrade(v.capAt, ['vetoes', i, 'capAt']); checkCondition(v.when, ['vetoes', i, 'when']); });
    gr.downgrades.forEach((d, i) => checkCondition(d.when, ['downgrades', i, 'when']));
    gr.multiYear.forEach((m, i) => checkGrade(m.grade, ['multiYear', i, 'grade']));
  });

export type SchemeFile = z.infer<typeof SchemeFileSchema>;
export type RaterGroup = SchemeFile['raterGroups'][number];
export type Grading = z.infer<typeof GradingSchema>;

export interface IndicatorRow {
  code: string;
  parentCode: string | null;
  level: number;
  ordinal: number;
  title: string;
  maxPoints: number;
  scoringGuide: string;
  evidence: string;
  evidenceRequired: boolean;
  explanationRequired: boolean;
}

export function parseSchemeFile(raw: unknown, source = 'scheme'): { ok: true; scheme: SchemeFile } | { ok: false; errors: string[] } {
  const parsed = SchemeFileSchema.safeParse(raw);
  if (parsed.success) return { ok: true, scheme: parsed.data };
  return { ok: false, errors: parsed.error.issues.map((i) => `${source}: ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`) };
}

/** The tree as rows in reading order (大项 before its 小项). */
export function flattenIndicators(scheme: Pick<SchemeFile, 'indicators'>): IndicatorRow[] {
  const rows: IndicatorRow[] = [];
  const visit = (nodes: IndicatorNode[], parent: string | null, level: number) => {
    for (const n of nodes) {
      rows.push({
        code: n.code, parentCode: parent, level, ordinal: rows.length, title: n.title, maxPoints: n.maxPoints,
        scoringGuide: n.scoringGuide ?? '', evidence: n.evidence ?? '', evidenceRequired: n.evidenceRequired ?? false, explanationRequired: n.explanationRequired ?? true,
      });
      if (n.children) visit(n.children, n.code, level + 1);
    }
  };
  visit(scheme.indicators, null, 1);
  return rows;
}

/** Every leaf (an indicator without children), in reading order: the ones that are scored. */
export function leafIndicators(scheme: Pick<SchemeFile, 'indicators'>): IndicatorNode[] {
  const out: IndicatorNode[] = [];
  const visit = (nodes: IndicatorNode[]) => {
    for (const n of nodes) {
      if (n.children && n.children.length > 0) visit(n.children);
      else out.push(n);
    }
  };
  visit(scheme.indicators);
  return out;
}
