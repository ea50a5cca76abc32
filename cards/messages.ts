/** Every user-facing sentence for error codes, in one place (zh-CN). */
import type { FieldError, Refusal } from '../src/domain/self-evaluation';
import type { OpenStageRefusal } from '../src/domain/campaign';

export function fieldErrorText(e: FieldError): string {
  const p = e.params ?? {};
  switch (e.code) {
    case 'score_required': return '请填写自评得分';
    case 'score_not_number': return `自评得分「${p.value}」不是有效数字`;
    case 'score_precision': return `自评得分「${p.value}」最多保留到 0.5 分`;
    case 'score_out_of_range': return `自评得分「${p.value}」超出范围，应在 0 至 ${p.max} 分之间`;
    case 'explanation_required': return '请填写得分说明';
    case 'evidence_required': return p.evidence ? `请提供佐证材料链接（${p.evidence}）` : '请提供佐证材料链接';
    case 'bad_link': return `链接「${p.value}」无效，请填写以 http:// 或 https:// 开头的完整网址`;
    case 'too_long': return `内容过长，最多 ${p.max} ${e.field.startsWith('evid_') ? '个链接' : '字'}`;
    case 'report_required': return `请填写自评报告（不少于 ${p.min} 字）`;
    case 'comment_required': return '退回修改时，请填写总体意见或至少一项指标的修改意见';
  }
}

export const REFUSAL_TEXT: Record<Refusal | OpenStageRefusal | 'not_found' | 'unknown_person' | 'unknown_action' | 'bad_action_value' | 'conflict' | 'duplicate' | 'internal', string> = {
  forbidden: '无权限：您不是该事项的办理人，操作未生效',
  stage_closed: '自评阶段未开放或已截止，无法修改',
  stale_version: '该卡片已过期，请查看最新卡片后再操作',
  already_submitted: '已提交，无需重复提交',
  already_signed: '该自评已签发，正在等待评估组审核',
  already_accepted: '该自评已审核通过，无需重复操作',
  not_submitted: '该自评尚未提交签发',
  not_signed: '该自评尚未由单位负责人签发',
  already_open: '单位自评阶段已启动，无需重复启动',
  bad_date: '截止日期格式不正确，请选择日期',
  due_in_past: '截止日期必须晚于今天',
  no_units: '该评估没有参评单位，请先导入单位',
  campaign_closed: '该评估已结束',
  not_found: '未找到该事项，可能已被删除',
  unknown_person: '无权限：未识别您的身份，请联系评估组绑定账号',
  unknown_action: '无法识别的操作，请刷新后重试',
  bad_action_value: '卡片数据不完整，请刷新后重试',
  conflict: '该事项刚被他人更新，请查看最新卡片后再操作',
  duplicate: '该操作已处理，请勿重复点击',
  internal: '系统繁忙，操作未生效，请稍后重试',
};

export const STATUS_TEXT = {
  none: '未启动',
  draft: '填报中',
  submitted: '待签发',
  signed: '待审核',
  accepted: '已通过',
  returned: '已退回',
} as const;
