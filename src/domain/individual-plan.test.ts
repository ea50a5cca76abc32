import { describe, expect, it } from 'vitest';
import { decidePlan, parsePlanItems, type PlanStatus } from './individual-plan';
import type { Actor } from './roles';
import type { IndicatorNode } from './scheme';

const slot: IndicatorNode = { code: '4', title: '个性指标', maxPoints: 20, scope: 'individual' };
const scope = { campaignId: 1, unitId: 7 };
const reviewer: Actor = { personId: 2, name: '钱主管', roles: [{ role: 'dept_reviewer', unitId: 7, campaignId: null }] };
const evaluator: Actor = { personId: 3, name: '黄评估', roles: [{ role: 'evaluator', unitId: null, campaignId: 1 }] };
const items = [{ code: '4.1', title: '甲', maxPoints: 12, scoringGuide: '细则', evidence: '' }, { code: '4.2', title: '乙', maxPoints: 8, scoringGuide: '细则', evidence: '' }];

describe('parsePlanItems', () => {
  it('accepts complete items and fills an empty evidence', () => {
    expect(parsePlanItems([{ code: '4.1', title: '甲', maxPoints: 20, scoringGuide: '细则' }])).toEqual({ ok: true, items: [{ code: '4.1', title: '甲', maxPoints: 20, scoringGuide: '细则', evidence: '' }] });
  });

  it('says what is wrong with each item', () => {
    expect(parsePlanItems([{ code: '4.1', title: '', maxPoints: 0, scoringGuide: '细则' }, { code: '4 2', title: '乙', maxPoints: 5, scoringGuide: ' ', extra: 1 }])).toEqual({
      ok: false,
      problems: [
        '第1项 title：名称不能为空',
        '第1项 maxPoints：分值须大于0',
        '第2项 code：编码只能由字母、数字和“.”组成，如 4.1.1',
        '第2项 scoringGuide：评分细则不能为空（每项指标应有具体和详细的说明）',
        '第2项：不认识的字段 extra（可用：code、title、maxPoints、scoringGuide、evidence）',
      ],
    });
    expect(parsePlanItems({})).toMatchObject({ ok: false });
    expect(parsePlanItems([])).toMatchObject({ ok: false });
  });
});

describe('decidePlan', () => {
  const latest = (version: number, status: PlanStatus) => ({ version, status });

  it.each<[PlanStatus | null, 'insert' | 'update', number]>([
    [null, 'insert', 1],
    ['draft', 'update', 3],
    ['approved', 'insert', 4],
    ['returned', 'insert', 4],
  ])('drafting on %s writes %s version %i', (status, op, version) => {
    const d = decidePlan(scope, slot, status === null ? null : latest(3, status), reviewer, { kind: 'draft', items, tier: null });
    expect(d).toMatchObject({ ok: true, decision: { op, version, status: 'draft' } });
  });

  it('refuses a tier on an untiered slot and a reviewer of another unit', () => {
    expect(decidePlan(scope, slot, null, reviewer, { kind: 'draft', items, tier: 'A' })).toEqual({ ok: false, refusal: { code: 'no_tiers', slot: '4' } });
    expect(decidePlan({ ...scope, unitId: 8 }, slot, null, reviewer, { kind: 'draft', items, tier: null })).toEqual({ ok: false, refusal: { code: 'forbidden_draft' } });
  });

  it('lets the evaluator of another campaign decide nothing', () => {
    expect(decidePlan({ ...scope, campaignId: 2 }, slot, latest(1, 'submitted'), evaluator, { kind: 'approve', comment: '' })).toEqual({ ok: false, refusal: { code: 'forbidden_decide' } });
    expect(decidePlan(scope, slot, latest(1, 'submitted'), evaluator, { kind: 'approve', comment: '' })).toEqual({ ok: true, decision: { op: 'update', version: 1, from: 'submitted', status: 'approved' } });
  });
});
