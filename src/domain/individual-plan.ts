/**
 * 个性指标方案 rules, pure: the supervising department drafts a unit's individual indicators
 * under one individual slot of the scheme and submits them; the evaluator approves or returns
 * them. Versions are never overwritten once submitted: a new draft after approval or return is
 * the next version. Refusals are values with codes; PLAN_REFUSAL_TEXT words them in Chinese.
 */
import { z } from 'zod';
import { holds, type Actor } from './roles';
import type { IndicatorNode } from './scheme';

export type PlanStatus = 'draft' | 'submitted' | 'approved' | 'returned';

export interface PlanItem {
  code: string;
  title: string;
  maxPoints: number;
  scoringGuide: string;
  evidence: string;
}

/** The latest version of a unit's plan for a slot, as stored. */
export interface PlanVersion {
  readonly version: number;
  readonly status: PlanStatus;
}

export type PlanCommand =
  | { kind: 'draft'; items: readonly PlanItem[]; tier: string | null }
  | { kind: 'submit' }
  | { kind: 'approve'; comment: string }
  | { kind: 'return'; comment: string };

export type PlanRefusal =
  | { code: 'forbidden_draft' }
  | { code: 'forbidden_decide' }
  | { code: 'not_individual'; slot: string }
  | { code: 'bad_items'; problems: string[] }
  | { code: 'points_mismatch'; sum: number; expected: number }
  | { code: 'tier_required'; choices: string }
  | { code: 'bad_tier'; tier: string; choices: string }
  | { code: 'no_tiers'; slot: string }
  | { code: 'no_plan' }
  | { code: 'awaiting_review'; version: number }
  | { code: 'already_decided'; version: number; status: 'approved' | 'returned' }
  | { code: 'not_submitted'; version: number }
  | { code: 'comment_required' };

/** What to write: a new version row, or a change to the latest one. */
export type PlanDecision =
  | { op: 'insert'; version: number; status: 'draft' }
  | { op: 'update'; version: number; from: PlanStatus; status: PlanStatus };

const ItemSchema = z.strictObject({
  code: z.string().regex(/^[0-9A-Za-z]+(\.[0-9A-Za-z]+)*$/, '编码只能由字母、数字和“.”组成，如 4.1.1'),
  title: z.string().trim().min(1, '名称不能为空').max(200, '名称不能超过200字'),
  maxPoints: z.number({ error: '分值须为数字' }).positive('分值须大于0'),
  scoringGuide: z.string().trim().min(1, '评分细则不能为空（每项指标应有具体和详细的说明）').max(2000, '评分细则不能超过2000字'),
  evidence: z.string().trim().max(500, '佐证材料说明不能超过500字').default(''),
}, { error: (iss) => (iss.code === 'unrecognized_keys' ? `不认识的字段 ${iss.keys.join('、')}（可用：code、title、maxPoints、scoringGuide、evidence）` : undefined) });

/** Parses raw items (from a file or a form) into typed ones, with every problem in Chinese. */
export function parsePlanItems(raw: unknown): { ok: true; items: PlanItem[] } | { ok: false; problems: string[] } {
  if (!Array.isArray(raw) || raw.length === 0) return { ok: false, problems: ['个性指标应为非空数组，每项包含 code、title、maxPoints、scoringGuide、evidence'] };
  const items: PlanItem[] = [];
  const problems: string[] = [];
  raw.forEach((r, i) => {
    const parsed = ItemSchema.safeParse(r);
    if (parsed.success) items.push(parsed.data);
    else for (const issue of parsed.error.issues) problems.push(`第${i + 1}项${issue.path.length ? ` ${issue.path.join('.')}` : ''}：${issue.message}`);
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, items };
}

function checkDraft(slot: IndicatorNode, items: readonly PlanItem[], tier: string | null): PlanRefusal | null {
  const problems: string[] = [];
  const seen = new Set<string>();
  items.forEach((it, i) => {
    if (!it.code.startsWith(`${slot.code}.`)) problems.push(`第${i + 1}项：编码「${it.code}」应以「${slot.code}.」开头（位于指标 ${slot.code} 之下）`);
    if (seen.has(it.code)) problems.push(`第${i + 1}项：编码「${it.code}」重复`);
    seen.add(it.code);
  });
  if (items.length === 0) problems.push('至少需要一项个性指标');
  if (problems.length > 0) return { code: 'bad_items', problems };
  const sum = items.reduce((s, it) => s + it.maxPoints, 0);
  if (Math.abs(sum - slot.maxPoints) > 1e-9) return { code: 'points_mismatch', sum: Math.round(sum * 1e6) / 1e6, expected: slot.maxPoints };
  const choices = slot.tiers?.map((t) => `${t.code}（${t.label}）`).join('、') ?? '';
  if (slot.tiers && tier === null) return { code: 'tier_required', choices };
  if (slot.tiers && tier !== null && !slot.tiers.some((t) => t.code === tier)) return { code: 'bad_tier', tier, choices };
  if (!slot.tiers && tier !== null) return { code: 'no_tiers', slot: slot.code };
  return null;
}

/**
 * Decides a command on a unit's plan for one slot. `latest` is the highest version stored (or
 * null). Drafting and submitting belong to the unit's supervising department (主管部门审核人
 * of that unit); approving and returning to the evaluator (评估组).
 */
export function decidePlan(
  scope: { campaignId: number; unitId: number },
  slot: IndicatorNode,
  latest: PlanVersion | null,
  actor: Actor,
  cmd: PlanCommand,
): { ok: true; decision: PlanDecision } | { ok: false; refusal: PlanRefusal } {
  const refuse = (refusal: PlanRefusal) => ({ ok: false as const, refusal });
  if (slot.scope !== 'individual' || (slot.children && slot.children.length > 0)) return refuse({ code: 'not_individual', slot: slot.code });
  switch (cmd.kind) {
    case 'draft': {
      if (!holds(actor, 'dept_reviewer', scope)) return refuse({ code: 'forbidden_draft' });
      const bad = checkDraft(slot, cmd.items, cmd.tier);
      if (bad) return refuse(bad);
      if (latest === null) return { ok: true, decision: { op: 'insert', version: 1, status: 'draft' } };
      if (latest.status === 'draft') return { ok: true, decision: { op: 'update', version: latest.version, from: 'draft', status: 'draft' } };
      if (latest.status === 'submitted') return refuse({ code: 'awaiting_review', version: latest.version });
      return { ok: true, decision: { op: 'insert', version: latest.version + 1, status: 'draft' } };
    }
    case 'submit': {
      if (!holds(actor, 'dept_reviewer', scope)) return refuse({ code: 'forbidden_draft' });
      if (latest === null) return refuse({ code: 'no_plan' });
      if (latest.status === 'submitted') return refuse({ code: 'awaiting_review', version: latest.version });
      if (latest.status !== 'draft') return refuse({ code: 'already_decided', version: latest.version, status: latest.status });
      return { ok: true, decision: { op: 'update', version: latest.version, from: 'draft', status: 'submitted' } };
    }
    case 'approve':
    case 'return': {
      if (!holds(actor, 'evaluator', { campaignId: scope.campaignId })) return refuse({ code: 'forbidden_decide' });
      if (latest === null) return refuse({ code: 'no_plan' });
      if (latest.status === 'approved' || latest.status === 'returned') return refuse({ code: 'already_decided', version: latest.version, status: latest.status });
      if (latest.status === 'draft') return refuse({ code: 'not_submitted', version: latest.version });
      if (cmd.kind === 'return' && cmd.comment.trim() === '') return refuse({ code: 'comment_required' });
      return { ok: true, decision: { op: 'update', version: latest.version, from: 'submitted', status: cmd.kind === 'approve' ? 'approved' : 'returned' } };
    }
  }
}

export const PLAN_STATUS_LABELS: Record<PlanStatus, string> = { draft: '草稿', submitted: '已提交待审核', approved: '已通过', returned: '已退回' };

export function planRefusalText(r: PlanRefusal): string {
  switch (r.code) {
    case 'forbidden_draft': return '无权限：只有该单位的主管部门审核人可以起草或提交个性指标方案';
    case 'forbidden_decide': return '无权限：只有评估组可以审核个性指标方案';
    case 'not_individual': return `指标「${r.slot}」不是个性指标（方案中须为末级指标且 scope 为 individual），不能为其制定个性指标方案`;
    case 'bad_items': return `个性指标有误：${r.problems.join('；')}`;
    case 'points_mismatch': return `分值合计不等于该指标的分值：各项合计 ${r.sum} 分，应为 ${r.expected} 分`;
    case 'tier_required': return `该指标分档，须选择档次（可选：${r.choices}）`;
    case 'bad_tier': return `档次「${r.tier}」不存在（可选：${r.choices}）`;
    case 'no_tiers': return `指标「${r.slot}」不分档，不能指定档次`;
    case 'no_plan': return '尚无个性指标方案，请先起草';
    case 'awaiting_review': return `第${r.version}版已提交评估组审核，审核前不能修改或重复提交`;
    case 'already_decided': return `已审核的方案不能修改：第${r.version}版${r.status === 'approved' ? '已通过' : '已退回'}，如需调整请起草新版本`;
    case 'not_submitted': return `第${r.version}版仍是草稿，尚未提交，不能审核`;
    case 'comment_required': return '退回时须填写修改意见';
  }
}
