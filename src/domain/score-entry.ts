/**
 * Which rater group may score which leaf indicator, and whether a score is in range: the checks
 * every score entry goes through (a card, a file import, the admin API). Pure; messages in
 * Chinese because they go straight to the person who entered the score.
 */
import { leafIndicators, type IndicatorNode, type RaterGroup, type SchemeFile } from './scheme';

export interface ScoringRules {
  /** Leaf indicators (the scored ones) by code. */
  readonly leaves: ReadonlyMap<string, IndicatorNode>;
  /** Every indicator code of the tree, leaves and parents. */
  readonly codes: ReadonlySet<string>;
  readonly groups: ReadonlyMap<string, { group: RaterGroup; leafCodes: ReadonlySet<string> }>;
  /** Group by id or by its Chinese name, for files that name it either way. */
  readonly groupByText: ReadonlyMap<string, RaterGroup>;
}

function leavesUnder(node: IndicatorNode): IndicatorNode[] {
  return node.children && node.children.length > 0 ? node.children.flatMap(leavesUnder) : [node];
}

export function scoringRules(scheme: Pick<SchemeFile, 'indicators' | 'raterGroups'>): ScoringRules {
  const leaves = new Map(leafIndicators(scheme).map((l) => [l.code, l]));
  const nodes = new Map<string, IndicatorNode>();
  const visit = (ns: readonly IndicatorNode[]) => {
    for (const n of ns) {
      nodes.set(n.code, n);
      if (n.children) visit(n.children);
    }
  };
  visit(scheme.indicators);
  const groups = new Map<string, { group: RaterGroup; leafCodes: ReadonlySet<string> }>();
  const groupByText = new Map<string, RaterGroup>();
  for (const g of scheme.raterGroups) {
    const covered = g.indicators ? g.indicators.flatMap((c) => (nodes.get(c) ? leavesUnder(nodes.get(c)!) : [])) : [...leaves.values()];
    groups.set(g.id, { group: g, leafCodes: new Set(covered.map((l) => l.code)) });
    groupByText.set(g.id, g);
    if (!groupByText.has(g.name)) groupByText.set(g.name, g);
  }
  return { leaves, codes: new Set(nodes.keys()), groups, groupByText };
}

/** Why a score cannot be entered, in Chinese; null when it can. */
export function checkScore(rules: ScoringRules, e: { raterGroup: string; indicatorCode: string; score: number }): string | null {
  const g = rules.groups.get(e.raterGroup);
  if (!g) return `评估主体「${e.raterGroup}」不在评估方案中（可选：${groupChoices(rules)}）`;
  const leaf = rules.leaves.get(e.indicatorCode);
  if (!leaf) {
    if (rules.codes.has(e.indicatorCode)) return `指标「${e.indicatorCode}」有下级指标，只能对末级指标（小项）评分`;
    return `指标「${e.indicatorCode}」不在评估方案中`;
  }
  if (!g.leafCodes.has(e.indicatorCode)) return `评估主体「${g.group.name}」不对指标「${e.indicatorCode} ${leaf.title}」评分`;
  if (!Number.isFinite(e.score)) return '分值不是有效的数字';
  if (Math.abs(e.score * 100 - Math.round(e.score * 100)) > 1e-6) return `分值 ${e.score} 最多保留两位小数`;
  if (e.score < 0 || e.score > leaf.maxPoints) return `分值 ${e.score} 超出范围：指标「${e.indicatorCode} ${leaf.title}」为 0–${leaf.maxPoints} 分`;
  // 定性 with levels: a rater picks a level, so only the levels' points are scores.
  if (leaf.levels && !leaf.levels.some((l) => Math.abs(l.points - e.score) < 1e-9)) {
    return `分值 ${e.score} 不是指标「${e.indicatorCode} ${leaf.title}」的评价等级分值（${leaf.levels.map((l) => `${l.label} ${l.points}`).join('、')}）`;
  }
  return null;
}

export function groupChoices(rules: ScoringRules): string {
  return [...rules.groups.values()].map(({ group }) => `${group.name}（${group.id}）`).join('、');
}
