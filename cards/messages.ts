/** Every user-facing sentence for error codes, in one place (zh-CN). */
import type { FieldError, Refusal } from '../src/domain/self-evaluation';
import type { OpenStageRefusal } from '../src/domain/campaign';
import type { FieldKind, LedgerCheckOp, LedgerRefusal } from '../src/domain/ledger';
import type { LedgerFieldError } from '../src/domain/ledger-form';

export function fieldErrorText(e: FieldError): string {
  const p = e.params ?? {};
  switch (e.code) {
    case 'score_required': return '请填写自评得分';
    case 'score_not_number': return `自评得分「${p.value}」不是有效数字`;
    case 'score_precision': return `自评得分「${p.value}」最多保留到 0.5 分`;
    case 'score_out_of_range': return `自评得分「${p.value}」超出范围，应在 0 至 ${p.max} 分之间`;
    case 'explanation_required': return '请填写得分说明';
    case 'evidence_required': return p.evidence ? `请提供佐证材料链接（${p.evidence}）` : '请提供佐证材料链接';
    case 'bad_link': return `链接「${p.value}」无效，请填写以 http:// 或 https:// 开头、带有效域名的完整网址`;
    // The card shows back only the first `max` characters of what was typed: say so.
    case 'too_long': return p.count !== undefined ? `内容过长（${p.count} 字），最多 ${p.max} 字；下方只保留了前 ${p.max} 字，请删改后重新提交` : `内容过长，最多 ${p.max} 字`;
    case 'too_many_links': return `链接过多，最多 ${p.max} 个`;
    case 'report_required': return `请填写自评报告（不少于 ${p.min} 字）`;
    case 'comment_required': return '退回修改时，请填写总体意见或至少一项指标的修改意见';
    case 'head_comment_required': return '退回修改时，请填写意见，说明需要填报员修改的内容';
  }
}

/** A failed cross-field check without its own message: 「a」（5）不能大于「b」（3）. */
const CHECK_OP_TEXT: Record<LedgerCheckOp, string> = { '<=': '不能大于', '<': '应小于', '>=': '不能小于', '>': '应大于', '==': '应等于' };

/** Choices and dates are picked, not typed: their missing answer says 请选择. */
const askFor = (kind: FieldKind | undefined): string => (kind === 'choice' || kind === 'yesno' || kind === 'date' ? '请选择' : '请填写');

/** A refused ledger answer, under its field. */
export function ledgerFieldErrorText(e: LedgerFieldError): string {
  return ledgerFieldErrorTextFor(e, undefined);
}

/** A refused ledger answer, worded for the field's kind (a select or date says 请选择). */
export function ledgerFieldErrorTextFor(e: LedgerFieldError, kind: FieldKind | undefined): string {
  const p = e.params ?? {};
  switch (e.code) {
    case 'required': return p.whenLabel !== undefined ? `「${p.whenLabel}」选择“${p.whenAnswer}”时，${askFor(kind)}「${e.label}」` : `${askFor(kind)}「${e.label}」`;
    case 'not_number': return `「${e.label}」应填写数字，「${p.value}」不是有效数字`;
    case 'not_integer': return `「${e.label}」应填写整数，「${p.value}」不是整数`;
    case 'below_min': return `「${e.label}」不能小于 ${p.min}`;
    case 'above_max': return `「${e.label}」不能大于 ${p.max}`;
    case 'not_an_option': return `「${e.label}」请从选项中选择（${p.options}）`;
    case 'bad_date': return `「${e.label}」的日期「${p.value}」无效，请选择日期`;
    case 'bad_link': return `链接「${p.value}」无效，请填写以 http:// 或 https:// 开头的完整网址`;
    case 'not_yes_no': return `「${e.label}」请选择“是”或“否”`;
    // The card shows back only the first `max` characters of what was typed: say so.
    case 'too_long': return p.count !== undefined ? `「${e.label}」内容过长（${p.count} 字），最多 ${p.max} 字；下方只保留了前 ${p.max} 字，请删改后重新提交` : `「${e.label}」内容过长，最多 ${p.max} 字`;
    case 'reason_required': return '退回时请填写退回原因，说明需要单位修改的内容';
    case 'check_failed': return p.message !== undefined ? String(p.message) : `「${e.label}」（${p.value}）${CHECK_OP_TEXT[p.op as LedgerCheckOp]}「${p.otherLabel}」（${p.otherValue}）`;
  }
}

export const REFUSAL_TEXT: Record<Refusal | OpenStageRefusal | LedgerRefusal | 'not_found' | 'unknown_person' | 'unknown_action' | 'bad_action_value' | 'conflict' | 'duplicate' | 'internal', string> = {
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
  ledger_closed: '该台账的填报期已结束，无法再报送',
  ledger_not_submitted: '该台账当前不是已报送状态（尚未报送或已退回），无法退回',
  not_found: '未找到该事项，可能已被删除',
  unknown_person: '无权限：未识别您的身份，请联系评估组绑定账号',
  unknown_action: '无法识别的操作，请刷新后重试',
  bad_action_value: '卡片数据不完整，请刷新后重试',
  conflict: '该事项刚被他人更新，请查看最新卡片后再操作',
  duplicate: '该操作已处理，请勿重复点击',
  internal: '系统繁忙，操作未生效，请稍后重试',
};

export const STATUS_TEXT_EN = {
  none: 'Not started',
  draft: 'Filling in',
  submitted: 'Awaiting sign-off',
  signed: 'Awaiting review',
  accepted: 'Accepted',
  returned: 'Returned',
} as const;

export const STATUS_TEXT = {
  none: '未启动',
  draft: '填报中',
  submitted: '待签发',
  signed: '待审核',
  accepted: '已通过',
  returned: '已退回',
} as const;

export const LEDGER_STATUS_TEXT = { pending: '待填报', submitted: '已报送', returned: '已退回' } as const;
export const LEDGER_STATUS_TEXT_EN = { pending: 'To fill in', submitted: 'Submitted', returned: 'Returned' } as const;

/**
 * English for the fixed sentences people see in toasts, keyed by the Chinese: platforms that
 * localise (Feishu's toast i18n) look a sentence up here; one without an entry stays Chinese.
 */
const ENGLISH: Readonly<Record<string, string>> = {
  [REFUSAL_TEXT.forbidden]: 'Not permitted: you are not the person for this item; nothing was changed',
  [REFUSAL_TEXT.stage_closed]: 'Self-evaluation is not open or has closed; it cannot be changed',
  [REFUSAL_TEXT.stale_version]: 'This card is out of date; please use the latest card',
  [REFUSAL_TEXT.already_submitted]: 'Already submitted; no need to submit again',
  [REFUSAL_TEXT.already_signed]: 'Already signed off; awaiting the review team',
  [REFUSAL_TEXT.already_accepted]: 'Already accepted; nothing more to do',
  [REFUSAL_TEXT.not_submitted]: 'Not yet submitted for sign-off',
  [REFUSAL_TEXT.not_signed]: 'Not yet signed off by the head of the unit',
  [REFUSAL_TEXT.already_open]: 'Self-evaluation has already started',
  [REFUSAL_TEXT.bad_date]: 'The deadline is not a valid date; please pick one',
  [REFUSAL_TEXT.due_in_past]: 'The deadline must be after today',
  [REFUSAL_TEXT.no_units]: 'This campaign has no units; import units first',
  [REFUSAL_TEXT.campaign_closed]: 'This campaign has ended',
  [REFUSAL_TEXT.ledger_closed]: 'The filing period of this ledger has ended; it can no longer be submitted',
  [REFUSAL_TEXT.ledger_not_submitted]: 'This ledger entry is not submitted (not yet, or already returned); it cannot be returned',
  [REFUSAL_TEXT.not_found]: 'Item not found; it may have been removed',
  [REFUSAL_TEXT.unknown_person]: 'Not permitted: we do not know you yet; ask the review team to link your account',
  [REFUSAL_TEXT.unknown_action]: 'Unknown action; please refresh and try again',
  [REFUSAL_TEXT.bad_action_value]: 'The card is incomplete; please refresh and try again',
  [REFUSAL_TEXT.conflict]: 'Someone has just updated this item; please use the latest card',
  [REFUSAL_TEXT.duplicate]: 'Already handled; no need to click again',
  [REFUSAL_TEXT.internal]: 'The system is busy and nothing was changed; please try again later',
  草稿已保存: 'Draft saved',
  '已提交，等待单位负责人签发': 'Submitted; awaiting sign-off by the head of the unit',
  '已签发，已报送评估组审核': 'Signed off; sent to the review team',
  已退回填报员修改: 'Returned to the filler for changes',
  审核通过: 'Accepted',
  已退回单位修改: 'Returned to the unit for changes',
  待办已刷新: 'Tasks refreshed',
  进度已刷新: 'Progress refreshed',
  '已受理，正在处理，请稍后查看卡片': 'Received; the card will update shortly',
  台账已报送: 'Ledger submitted',
  已打开台账: 'Ledger opened',
};

export function englishFor(chinese: string): string | undefined {
  return ENGLISH[chinese];
}
