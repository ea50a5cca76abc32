/**
 * The grading engine's contract: what a campaign's units bring in (scores from each rater
 * group, facts, tiers, past grades) and what comes out (score, rank, grade, flags and the
 * reasons in Chinese). The engine (./grading) is pure; loaders build this input from the
 * database and the CLI, cards and exports read the output.
 */

export interface GradingUnitInput {
  unitId: number;
  name: string;
  /** 组别: the group ranks and quotas are taken within. */
  group: string;
  /**
   * scores[raterGroupId][leafIndicatorCode] = each rater's score in points, on the indicator's
   * own maxPoints (for a tiered indicator: on the indicator's maxPoints, scaled to the unit's
   * tier by the engine). Several entries = several raters (a questionnaire's respondents).
   */
  scores: Record<string, Record<string, number[]>>;
  /** 个性指标 tiers: indicator code → tier code (Ⅰ/Ⅱ/Ⅲ档) from the unit's approved plan. */
  tiers?: Record<string, string>;
  /** Facts the veto and downgrade rules read, by fact id. */
  facts?: Record<string, number | boolean>;
  /** Final grades of earlier years (grade codes), any order. */
  history?: Array<{ year: number; grade: string }>;
}

export interface GradingInput {
  year: number;
  units: GradingUnitInput[];
}

export interface UnitFlag {
  /** The multi-year rule's id. */
  rule: string;
  /** What the rule says, e.g. "连续三年A级：主要负责人同等条件下优先提拔任用". */
  text: string;
}

export interface UnitResult {
  unitId: number;
  name: string;
  group: string;
  /** incomplete: a rater group whose scores are required is missing (see `missing`). */
  status: 'graded' | 'incomplete';
  /** The composite, rounded as the scheme says; null when incomplete. */
  score: number | null;
  /** Each leaf indicator's weighted score (after tier scaling), by code. */
  indicatorScores: Record<string, number>;
  /** Each rater group's total over the indicators it rated (its aggregated scores, unweighted). */
  raterGroupScores: Record<string, number>;
  /** Rank within the ranking scope (group or all); tied units share a rank (1, 2, 2, 4). */
  rank: number | null;
  /** How many graded units share the ranking scope. */
  rankOf: number | null;
  /** The grade from thresholds or quotas, before vetoes and downgrades. */
  baseGrade: string | null;
  /** The final grade code and its label. */
  grade: string | null;
  gradeLabel: string | null;
  flags: UnitFlag[];
  /** Every rule that fired, in order, in Chinese: why the unit got its grade. */
  reasons: string[];
  /** What is missing (rater groups, facts), in Chinese. */
  missing: string[];
}

export interface GradingResult {
  year: number;
  /** Ordered by group (first appearance in the input), then rank, then unit id. */
  units: UnitResult[];
  /** How many units got each grade code. */
  counts: Record<string, number>;
}
