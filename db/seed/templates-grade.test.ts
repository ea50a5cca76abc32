/**
 * Every shipped template grades a generated campaign: units in two groups, scores from every
 * rater group on every leaf it rates (several raters where the group aggregates), every fact,
 * a tier for every tiered indicator, and some history. Each unit must come out graded, with a
 * grade of the scheme and reasons; quota schemes must keep their quotas.
 */
import { describe, expect, it } from 'vitest';
import { gradeCampaign } from '../../src/domain/grading';
import type { GradingUnitInput } from '../../src/domain/grading-types';
import { scoringRules } from '../../src/domain/score-entry';
import type { SchemeFile } from '../../src/domain/scheme';
import { loadSchemeTemplates } from './demo';
import { seededRandom } from '../../src/test/random';

function generate(scheme: SchemeFile, n: number, seed: number): GradingUnitInput[] {
  const rand = seededRandom(seed);
  const rules = scoringRules(scheme);
  const units: GradingUnitInput[] = [];
  for (let u = 0; u < n; u++) {
    const scores: GradingUnitInput['scores'] = {};
    for (const [groupId, { group, leafCodes }] of rules.groups) {
      const raters = group.aggregate === 'trimmed-mean' ? 5 : 1;
      scores[groupId] = {};
      for (const code of leafCodes) {
        const leaf = rules.leaves.get(code)!;
        scores[groupId][code] = Array.from({ length: raters }, () => {
          if (leaf.levels) return leaf.levels[Math.floor(rand() * leaf.levels.length)]!.points;
          // Mostly good scores, as in a real campaign, with a spread.
          return Math.round(leaf.maxPoints * (0.55 + 0.45 * rand()) * 100) / 100;
        });
      }
    }
    const tiers: Record<string, string> = {};
    for (const leaf of rules.leaves.values()) if (leaf.tiers) tiers[leaf.code] = leaf.tiers[u % leaf.tiers.length]!.code;
    const facts: Record<string, number | boolean> = {};
    for (const f of scheme.grading?.facts ?? []) facts[f.id] = f.type === 'boolean' ? u % 17 === 3 : Math.floor(rand() * 3);
    const grades = scheme.grading?.grades ?? [];
    const history = grades.length ? [1, 2].map((back) => ({ year: 2026 - back, grade: grades[(u + back) % grades.length]!.code })) : [];
    units.push({ unitId: u + 1, name: `单位${u + 1}`, group: u % 2 ? '公益一类' : '公益二类', scores, tiers, facts, history });
  }
  return units;
}

const templates = await loadSchemeTemplates();

describe('every scheme template grades a generated campaign', () => {
  it('ships eight templates', () => {
    expect(templates).toHaveLength(8);
  });

  it.each(templates.map((t) => [t.code, t] as const))('%s', (_code, scheme) => {
    const n = 40;
    const result = gradeCampaign(scheme, { year: 2026, units: generate(scheme, n, scheme.code.length * 7919) });
    expect(result.units).toHaveLength(n);
    const gradeCodes = new Set(scheme.grading!.grades.map((g) => g.code));
    const total = scheme.indicators.reduce((s, i) => s + i.maxPoints, 0);
    for (const u of result.units) {
      expect(u.status, `${u.name}: ${u.missing.join('；')}`).toBe('graded');
      expect(u.score).toBeGreaterThanOrEqual(0);
      expect(u.score).toBeLessThanOrEqual(total);
      expect(gradeCodes.has(u.grade!)).toBe(true);
      expect(u.gradeLabel).toBe(scheme.grading!.grades.find((g) => g.code === u.grade)!.label);
      expect(u.reasons[0]).toMatch(/综合得分/);
      expect(u.rank).toBeGreaterThanOrEqual(1);
    }
    expect(Object.values(result.counts).reduce((a, b) => a + b, 0)).toBe(n);
    const method = scheme.grading!.method;
    if (method.type === 'quota') {
      for (const group of ['公益一类', '公益二类']) {
        const inGroup = result.units.filter((u) => u.group === group);
        for (const q of method.quotas) {
          // Quotas bind the base grade; vetoes and downgrades may only move units down after it.
          const count = inGroup.filter((u) => u.baseGrade === q.grade).length;
          if (q.maxShare) expect(count).toBeLessThanOrEqual(Math.floor(q.maxShare * inGroup.length + 1e-9));
          if (q.minShare) expect(count).toBeGreaterThanOrEqual(Math.ceil(q.minShare * inGroup.length - 1e-9));
        }
      }
    }
  });
});
