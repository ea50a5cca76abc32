import { asc, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditLog } from '../../db/schema';
import type { PlanItem } from '../domain/individual-plan';
import type { Actor } from '../domain/roles';
import { createGradingFixture, MOBILES, T0, type GradingFixture } from './grading.fixtures';
import { loadGradingInput } from './grading.repo';
import { actOnPlan, actorByMobile, listPlans } from './individual-indicators.repo';

let f: GradingFixture;
let evaluator: Actor;
let reviewer: Actor;
let otherReviewer: Actor;
let filler: Actor;
beforeEach(async () => {
  f = await createGradingFixture();
  evaluator = (await actorByMobile(f.db, MOBILES.evaluator))!;
  reviewer = (await actorByMobile(f.db, MOBILES.reviewerU1))!;
  otherReviewer = (await actorByMobile(f.db, MOBILES.reviewerU2))!;
  filler = (await actorByMobile(f.db, MOBILES.fillerU1))!;
});
afterEach(() => f.close());

const items = (...points: number[]): PlanItem[] => points.map((maxPoints, i) => ({ code: `2.${i + 1}`, title: `个性指标${i + 1}`, maxPoints, scoringGuide: `完成得${maxPoints}分`, evidence: '工作台账' }));

describe('individual indicator plans', () => {
  const scope = () => ({ campaignId: f.campaignId, unitId: f.units.u1, slotCode: '2' });
  let clock = T0;
  const act = (actor: Actor, cmd: Parameters<typeof actOnPlan>[3]) => actOnPlan(f.db, scope(), actor, cmd, (clock += 1000));
  const tierOfU1 = async () => (await loadGradingInput(f.db, f.campaignId))!.input.units.find((u) => u.unitId === f.units.u1)!.tiers?.['2'] ?? null;

  it('goes draft → submitted → approved, then a new draft is version 2 and version 1 stays in force until v2 is approved', async () => {
    expect(await act(reviewer, { kind: 'draft', items: items(6, 4), tier: 'A' })).toMatchObject({ ok: true, plan: { version: 1, status: 'draft', tier: 'A' } });
    // Still a draft: editing it keeps version 1.
    expect(await act(reviewer, { kind: 'draft', items: items(5, 5), tier: 'B' })).toMatchObject({ ok: true, plan: { version: 1, status: 'draft', tier: 'B' } });
    expect(await act(reviewer, { kind: 'submit' })).toMatchObject({ ok: true, plan: { version: 1, status: 'submitted' } });
    expect(await act(reviewer, { kind: 'draft', items: items(10), tier: 'A' })).toEqual({ ok: false, message: '第1版已提交评估组审核，审核前不能修改或重复提交' });
    expect(await tierOfU1()).toBeNull();
    expect(await act(evaluator, { kind: 'approve', comment: '同意' })).toMatchObject({ ok: true, plan: { version: 1, status: 'approved', decidedBy: evaluator.personId, comment: '同意' } });
    expect(await tierOfU1()).toBe('B');

    expect(await act(evaluator, { kind: 'approve', comment: '' })).toEqual({ ok: false, message: '已审核的方案不能修改：第1版已通过，如需调整请起草新版本' });
    expect(await act(reviewer, { kind: 'submit' })).toEqual({ ok: false, message: '已审核的方案不能修改：第1版已通过，如需调整请起草新版本' });

    expect(await act(reviewer, { kind: 'draft', items: items(10), tier: 'A' })).toMatchObject({ ok: true, plan: { version: 2, status: 'draft', tier: 'A' } });
    expect(await act(reviewer, { kind: 'submit' })).toMatchObject({ ok: true, plan: { version: 2, status: 'submitted' } });
    expect(await act(evaluator, { kind: 'return', comment: '  ' })).toEqual({ ok: false, message: '退回时须填写修改意见' });
    expect(await act(evaluator, { kind: 'return', comment: '指标过于笼统' })).toMatchObject({ ok: true, plan: { version: 2, status: 'returned', comment: '指标过于笼统' } });
    expect(await tierOfU1()).toBe('B');
    expect(await act(reviewer, { kind: 'draft', items: items(7, 3), tier: 'A' })).toMatchObject({ ok: true, plan: { version: 3, status: 'draft' } });

    const versions = await listPlans(f.db, scope());
    expect(versions.map((p) => [p.version, p.status, p.tier, p.items.map((i) => i.maxPoints)])).toEqual([
      [1, 'approved', 'B', [5, 5]],
      [2, 'returned', 'A', [10]],
      [3, 'draft', 'A', [7, 3]],
    ]);

    const audit = await f.db.select().from(auditLog).where(eq(auditLog.subjectType, 'individual_indicator_plan')).orderBy(asc(auditLog.id));
    expect(audit.map((a) => [a.action, a.subjectId, (a.after as { version: number; status: string }).status, a.actorId])).toEqual([
      ['individual_plan.draft', String(versions[0]!.id), 'draft', reviewer.personId],
      ['individual_plan.draft', String(versions[0]!.id), 'draft', reviewer.personId],
      ['individual_plan.submit', String(versions[0]!.id), 'submitted', reviewer.personId],
      ['individual_plan.approve', String(versions[0]!.id), 'approved', evaluator.personId],
      ['individual_plan.draft', String(versions[1]!.id), 'draft', reviewer.personId],
      ['individual_plan.submit', String(versions[1]!.id), 'submitted', reviewer.personId],
      ['individual_plan.return', String(versions[1]!.id), 'returned', evaluator.personId],
      ['individual_plan.draft', String(versions[2]!.id), 'draft', reviewer.personId],
    ]);
    // The edit of the draft kept what it replaced.
    expect(audit[1]!.before).toMatchObject({ version: 1, status: 'draft', tier: 'A', items: items(6, 4) });
  });

  it('lets only the unit\'s supervising department draft and submit, and only the evaluator decide', async () => {
    const forbiddenDraft = '无权限：只有该单位的主管部门审核人可以起草或提交个性指标方案';
    expect(await act(filler, { kind: 'draft', items: items(10), tier: 'A' })).toEqual({ ok: false, message: forbiddenDraft });
    expect(await act(otherReviewer, { kind: 'draft', items: items(10), tier: 'A' })).toEqual({ ok: false, message: forbiddenDraft });
    expect(await act(evaluator, { kind: 'draft', items: items(10), tier: 'A' })).toEqual({ ok: false, message: forbiddenDraft });
    expect(await act(reviewer, { kind: 'draft', items: items(10), tier: 'A' })).toMatchObject({ ok: true });
    expect(await act(otherReviewer, { kind: 'submit' })).toEqual({ ok: false, message: forbiddenDraft });
    expect(await act(evaluator, { kind: 'approve', comment: '' })).toEqual({ ok: false, message: '第1版仍是草稿，尚未提交，不能审核' });
    expect(await act(reviewer, { kind: 'submit' })).toMatchObject({ ok: true });
    expect(await act(reviewer, { kind: 'approve', comment: '' })).toEqual({ ok: false, message: '无权限：只有评估组可以审核个性指标方案' });
    expect(await act(filler, { kind: 'return', comment: '不行' })).toEqual({ ok: false, message: '无权限：只有评估组可以审核个性指标方案' });
    expect((await listPlans(f.db, scope()))[0]!.status).toBe('submitted');
  });

  it('checks the items against the slot: points add up, a tier of the slot, codes under it', async () => {
    expect(await act(reviewer, { kind: 'draft', items: items(6, 3), tier: 'A' })).toEqual({ ok: false, message: '分值合计不等于该指标的分值：各项合计 9 分，应为 10 分' });
    expect(await act(reviewer, { kind: 'draft', items: items(10), tier: null })).toEqual({ ok: false, message: '该指标分档，须选择档次（可选：A（Ⅰ档）、B（Ⅱ档））' });
    expect(await act(reviewer, { kind: 'draft', items: items(10), tier: 'C' })).toEqual({ ok: false, message: '档次「C」不存在（可选：A（Ⅰ档）、B（Ⅱ档））' });
    const bad = await act(reviewer, { kind: 'draft', items: [{ ...items(10)[0]!, code: '3.1' }], tier: 'A' });
    expect(bad).toEqual({ ok: false, message: '个性指标有误：第1项：编码「3.1」应以「2.」开头（位于指标 2 之下）' });
    expect(await actOnPlan(f.db, { ...scope(), slotCode: '1.1' }, reviewer, { kind: 'draft', items: items(10), tier: null }, T0)).toMatchObject({ ok: false, message: expect.stringContaining('不是个性指标') as string });
    expect(await actOnPlan(f.db, { ...scope(), unitId: f.units.u3 }, reviewer, { kind: 'draft', items: items(10), tier: 'A' }, T0)).toEqual({ ok: false, message: `单位（id ${f.units.u3}）不在本次评估中` });
    expect(await listPlans(f.db, scope())).toEqual([]);
    expect(await f.db.select().from(auditLog).where(eq(auditLog.subjectType, 'individual_indicator_plan'))).toEqual([]);
  });
});
