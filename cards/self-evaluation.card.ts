/** Cards of the self-evaluation (自评) flow: the filler's form, the head's 签发, the evaluator's review. */
import { encodeAction } from './actions';
import { actions, button, divider, fields, md, mdLink, notice, plainText, type CardSpec, type Element, type HeaderColor } from './kit';
import { fieldErrorText, STATUS_TEXT, STATUS_TEXT_EN } from './messages';
import {
  EVIDENCE_MAX_CHARS, fieldNames, REPORT_MAX_CHARS, SCORE_MAX_CHARS, scoredIndicators, TEXT_MAX_CHARS, totalClaimed,
  type EvaluationStatus, type FieldError, type FormValues, type Indicator, type ItemInput,
} from '../src/domain/self-evaluation';
import { clip, cleanText, linkHost } from '../src/domain/text';
import { shanghaiDateTime, shanghaiDateZh } from '../src/domain/time';

export interface SelfEvaluationView {
  readonly evaluationId: number;
  readonly version: number;
  readonly rev: number;
  readonly status: EvaluationStatus;
  readonly campaignName: string;
  readonly unitName: string;
  readonly dueAt: number | null;
  readonly indicators: readonly Indicator[];
  readonly items: readonly ItemInput[];
  readonly report: string;
  readonly submittedAt?: number | null;
  readonly stageOpen: boolean;
  /** Why the previous version came back, shown on the new one. */
  readonly lastReturn?: { readonly by: 'head' | 'evaluator'; readonly comment: string; readonly itemComments: Readonly<Record<string, string>>; readonly version: number } | null;
}

export interface FormFeedback {
  readonly errors: readonly FieldError[];
  /**
   * What the person typed, echoed back so a refused submit loses nothing; each field is shown
   * cleaned and cut to its maximum, so a refused megabyte is not stored in the card.
   */
  readonly values: FormValues;
}

const STATUS_COLOR: Record<EvaluationStatus, HeaderColor> = { draft: 'blue', submitted: 'orange', signed: 'purple', accepted: 'green' };

const points = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
const maxTotal = (inds: readonly Indicator[]) => scoredIndicators(inds).reduce((s, i) => s + i.maxPoints, 0);
const ref = (v: SelfEvaluationView) => ({ evaluationId: v.evaluationId, version: v.version, rev: v.rev });

const TITLE_EN: Record<string, string> = { 单位自评: 'Self-evaluation', 自评签发: 'Sign-off', 自评审核: 'Review' };

function header(title: string, v: SelfEvaluationView, color: HeaderColor): CardSpec['header'] {
  return {
    title: `${title} · ${v.unitName}`,
    titleEn: `${TITLE_EN[title] ?? title} · ${v.unitName}`,
    subtitle: v.campaignName,
    color,
    tags: [{ text: STATUS_TEXT[v.status], textEn: STATUS_TEXT_EN[v.status], color }, { text: `第${v.version}版`, textEn: `Version ${v.version}` }],
  };
}

function summaryFields(v: SelfEvaluationView): Element {
  const pairs: Array<[string, string]> = [
    ['截止时间', v.dueAt ? `${shanghaiDateZh(v.dueAt)}` : '未设定'],
    ['当前状态', `${STATUS_TEXT[v.status]}（第${v.version}版）`],
    ['自评总分', `${points(totalClaimed(v.items))} / ${points(maxTotal(v.indicators))}`],
  ];
  if (v.submittedAt) pairs.push(['提交时间', shanghaiDateTime(v.submittedAt)]);
  return fields(pairs);
}

function guideText(ind: Indicator): string {
  const lines = [`**评分细则**：${ind.scoringGuide || '（未提供）'}`];
  if (ind.evidence) lines.push(`**佐证材料**：${ind.evidence}${ind.evidenceRequired ? '（必须提供）' : ''}`);
  return lines.join('\n');
}

/** Groups leaves under their 大项 so a card reads like the paper form. */
function byAspect(indicators: readonly Indicator[]): Array<{ aspect: Indicator | null; leaves: Indicator[] }> {
  const leaves = scoredIndicators(indicators);
  const tops = indicators.filter((i) => i.parentCode === null && !leaves.includes(i));
  const groups = tops.map((aspect) => ({ aspect: aspect as Indicator | null, leaves: leaves.filter((l) => l.parentCode === aspect.code) }));
  const orphans = leaves.filter((l) => !tops.some((t) => t.code === l.parentCode));
  if (orphans.length > 0) groups.push({ aspect: null, leaves: orphans });
  return groups;
}

const aspectTitle = (a: Indicator) => `**${a.code} ${a.title}**（${points(a.maxPoints)}分）`;

function itemOf(v: SelfEvaluationView, ind: Indicator): ItemInput | undefined {
  return v.items.find((i) => i.indicatorId === ind.id);
}

function formValue(feedback: FormFeedback | undefined, name: string, fallback: string, max: number): string {
  if (!feedback) return fallback;
  const raw = feedback.values[name];
  return clip(cleanText(Array.isArray(raw) ? raw.join('\n') : ((raw as string | undefined) ?? '')), max);
}

/** The filler's card: an editable form while a draft in an open stage, otherwise a read-only record. */
export function buildSelfEvaluationCard(v: SelfEvaluationView, feedback?: FormFeedback): CardSpec {
  const editable = v.status === 'draft' && v.stageOpen;
  const errorFor = (field: string) => {
    const e = feedback?.errors.find((x) => x.field === field);
    return e ? fieldErrorText(e) : undefined;
  };
  const elements: Element[] = [summaryFields(v)];
  if (v.lastReturn) {
    const who = v.lastReturn.by === 'head' ? '单位负责人' : '评估组';
    elements.push(notice('warning', `第${v.lastReturn.version}版已被${who}退回修改${v.lastReturn.comment ? `：${v.lastReturn.comment}` : '，请按各指标意见修改'}`));
  }
  if (feedback && feedback.errors.length > 0) {
    elements.push(notice('error', `有 ${feedback.errors.length} 处需要修改，本次未保存。请按标红提示修改后重新提交。`));
  }
  if (!editable) {
    elements.push(notice(v.status === 'accepted' ? 'success' : 'info', readOnlyNotice(v)));
    elements.push(...readOnlyItems(v, undefined));
    return { header: header('单位自评', v, STATUS_COLOR[v.status]), elements, summary: `${v.unitName}单位自评：${STATUS_TEXT[v.status]}` };
  }

  const formEls: Element[] = [md('请逐项填写自评得分、得分说明和佐证材料链接（多个链接用换行或逗号分隔；链接中的括号、引号等符号保存时自动转为百分号编码，不影响打开）。可先保存草稿，填完后提交单位负责人签发。')];
  for (const { aspect, leaves } of byAspect(v.indicators)) {
    if (aspect) formEls.push(md(aspectTitle(aspect)));
    for (const ind of leaves) {
      const item = itemOf(v, ind);
      const returned = v.lastReturn?.itemComments[ind.code];
      const hasError = [fieldNames.score(ind), fieldNames.explanation(ind), fieldNames.evidence(ind)].some((f) => errorFor(f));
      formEls.push({
        type: 'panel',
        title: `${ind.code} ${ind.title}（满分${points(ind.maxPoints)}）${returned ? ' · 有修改意见' : ''}${hasError ? ' · 待修改' : ''}`,
        expanded: true,
        elements: [
          md(guideText(ind)),
          ...(returned ? [notice('warning', `修改意见：${returned}`)] : []),
          { type: 'input', name: fieldNames.score(ind), label: `自评得分（0–${points(ind.maxPoints)}）`, labelEn: `Claimed score (0–${points(ind.maxPoints)})`, inputType: 'number', required: true, value: formValue(feedback, fieldNames.score(ind), item?.claimedScore == null ? '' : points(item.claimedScore), SCORE_MAX_CHARS), placeholder: `0–${points(ind.maxPoints)}`, maxLength: SCORE_MAX_CHARS, error: errorFor(fieldNames.score(ind)) },
          { type: 'input', name: fieldNames.explanation(ind), label: '得分说明', labelEn: 'Explanation', inputType: 'multiline', required: ind.explanationRequired, value: formValue(feedback, fieldNames.explanation(ind), item?.explanation ?? '', TEXT_MAX_CHARS), placeholder: '对照评分细则说明得分理由', maxLength: TEXT_MAX_CHARS, error: errorFor(fieldNames.explanation(ind)) },
          { type: 'input', name: fieldNames.evidence(ind), label: '佐证材料链接', labelEn: 'Evidence links', inputType: 'url', required: ind.evidenceRequired, value: formValue(feedback, fieldNames.evidence(ind), (item?.evidenceLinks ?? []).join('\n'), EVIDENCE_MAX_CHARS), placeholder: 'https://…', maxLength: EVIDENCE_MAX_CHARS, error: errorFor(fieldNames.evidence(ind)) },
        ],
      });
    }
  }
  formEls.push({ type: 'input', name: fieldNames.report, label: '自评报告', labelEn: 'Self-evaluation report', inputType: 'multiline', required: true, value: formValue(feedback, fieldNames.report, v.report, REPORT_MAX_CHARS), placeholder: '概述本单位履职情况、存在问题和改进措施（不少于20字）', maxLength: REPORT_MAX_CHARS, error: errorFor(fieldNames.report) });
  formEls.push(actions(
    button({ label: '保存草稿', labelEn: 'Save draft', style: 'default', submit: true, action: encodeAction('self-eval.save', ref(v)) }),
    button({ label: '提交签发', labelEn: 'Submit for sign-off', style: 'primary', submit: true, action: encodeAction('self-eval.submit', ref(v)), confirm: { title: '提交自评', text: '提交后将送单位负责人签发，签发前不能再修改。确定提交吗？' } }),
  ));
  elements.push({ type: 'form', name: `self_eval_${v.evaluationId}_v${v.version}`, elements: formEls });
  return { header: header('单位自评', v, STATUS_COLOR[v.status]), elements, summary: `请填报${v.unitName}单位自评` };
}

function readOnlyNotice(v: SelfEvaluationView): string {
  switch (v.status) {
    case 'draft': return '自评阶段未开放或已截止，暂不能填报。';
    case 'submitted': return `第${v.version}版已提交，等待单位负责人签发。`;
    case 'signed': return `第${v.version}版已签发，等待评估组审核。`;
    case 'accepted': return `第${v.version}版已审核通过。`;
  }
}

/** Scores, explanations and evidence as text, optionally with comment inputs for a reviewer. */
function readOnlyItems(v: SelfEvaluationView, commentInputs: FormFeedback | 'empty' | undefined): Element[] {
  const out: Element[] = [];
  for (const { aspect, leaves } of byAspect(v.indicators)) {
    if (aspect) out.push(md(aspectTitle(aspect)));
    for (const ind of leaves) {
      const item = itemOf(v, ind);
      const links = item?.evidenceLinks ?? [];
      const body: Element[] = [
        fields([
          ['自评得分', item?.claimedScore == null ? '未填' : `${points(item.claimedScore)} / ${points(ind.maxPoints)}`],
          ['得分说明', item?.explanation || '未填'],
        ]),
        md(links.length > 0 ? `**佐证材料**：${links.map(evidenceLink).join('  ')}` : '**佐证材料**：未提供'),
        md(guideText(ind)),
      ];
      if (commentInputs) {
        const name = fieldNames.comment(ind);
        const err = commentInputs === 'empty' ? undefined : commentInputs.errors.find((e) => e.field === name);
        body.push({ type: 'input', name, label: '修改意见（需要修改时填写）', labelEn: 'Comment (when a change is needed)', inputType: 'multiline', value: commentInputs === 'empty' ? '' : formValue(commentInputs, name, '', TEXT_MAX_CHARS), maxLength: TEXT_MAX_CHARS, error: err ? fieldErrorText(err) : undefined });
      }
      out.push({ type: 'panel', title: `${ind.code} ${ind.title} · ${item?.claimedScore == null ? '未填' : points(item.claimedScore)}/${points(ind.maxPoints)}`, expanded: commentInputs !== undefined, elements: body });
    }
  }
  // The filler's own words: plain text, so no link or emphasis of theirs reaches the reviewers.
  out.push({ type: 'panel', title: '自评报告', expanded: false, elements: [v.report ? plainText(v.report) : md('（未填写）')] });
  return out;
}

/** "佐证1（oa.example.gov.cn）": the text is lvzhi's, naming the host the link really goes to. */
function evidenceLink(url: string, i: number): string {
  const host = linkHost(url);
  return host === null ? `佐证${i + 1}（链接无效）` : mdLink(`佐证${i + 1}（${host}）`, url);
}

function decisionCard(
  title: string,
  v: SelfEvaluationView,
  opts: {
    pending: boolean; pendingText: string; doneText: string; perIndicatorComments: boolean;
    comment: { label: string; labelEn: string; placeholder: string };
    approve: ReturnType<typeof button>; reject: ReturnType<typeof button>;
  },
  feedback?: FormFeedback,
): CardSpec {
  const elements: Element[] = [summaryFields(v)];
  if (!opts.pending) {
    elements.push(notice(v.status === 'accepted' ? 'success' : 'info', opts.doneText), ...readOnlyItems(v, undefined));
    return { header: header(title, v, STATUS_COLOR[v.status]), elements, summary: `${v.unitName}：${opts.doneText}` };
  }
  elements.push(notice('info', opts.pendingText));
  if (feedback && feedback.errors.length > 0) elements.push(notice('error', feedback.errors.map(fieldErrorText).join('；')));
  const formEls: Element[] = [
    ...readOnlyItems(v, opts.perIndicatorComments ? (feedback ?? 'empty') : undefined),
    divider(),
    { type: 'input', name: fieldNames.overallComment, ...opts.comment, inputType: 'multiline', value: formValue(feedback, fieldNames.overallComment, '', TEXT_MAX_CHARS), maxLength: TEXT_MAX_CHARS },
    actions(opts.approve, opts.reject),
  ];
  elements.push({ type: 'form', name: `${title === '自评签发' ? 'sign' : 'review'}_${v.evaluationId}_v${v.version}`, elements: formEls });
  return { header: header(title, v, opts.pending ? 'orange' : STATUS_COLOR[v.status]), elements, summary: `${v.unitName}：${opts.pendingText}` };
}

/** The unit head's card: read the submission and 签发, or send it back. */
export function buildSignCard(v: SelfEvaluationView, feedback?: FormFeedback): CardSpec {
  return decisionCard('自评签发', v, {
    pending: v.status === 'submitted',
    pendingText: `填报员已提交第${v.version}版自评，请审阅后签发（签发即对自评内容负责）。`,
    doneText: v.status === 'draft' ? `第${v.version - 1}版已退回填报员修改。` : `第${v.version}版已签发。`,
    perIndicatorComments: false,
    // The head's card has this one field: a return needs it.
    comment: { label: '意见（退回时必填）', labelEn: 'Comment (required to return)', placeholder: '退回时请写明需要填报员修改的内容' },
    approve: button({ label: '签发', labelEn: 'Sign', style: 'primary', submit: true, action: encodeAction('self-eval.sign', ref(v)), confirm: { title: '签发自评', text: '签发后将报送评估组审核。确定签发吗？' } }),
    reject: button({ label: '退回修改', labelEn: 'Return for changes', style: 'danger', submit: true, action: encodeAction('self-eval.head-return', ref(v)), confirm: { title: '退回修改', text: '将退回填报员修改，填报员修改后需重新提交签发。确定退回吗？' } }),
  }, feedback);
}

/** The evaluator's card: check each indicator against its guide and evidence; accept or return with comments. */
export function buildReviewCard(v: SelfEvaluationView, feedback?: FormFeedback): CardSpec {
  return decisionCard('自评审核', v, {
    pending: v.status === 'signed',
    pendingText: `第${v.version}版已由单位负责人签发，请对照评分细则和佐证材料审核。`,
    doneText: v.status === 'accepted' ? `第${v.version}版已审核通过。` : `第${v.version - 1}版已退回单位修改。`,
    perIndicatorComments: true,
    comment: { label: '总体意见（退回时，总体意见与各指标修改意见至少填一项）', labelEn: 'Overall comment (to return, give it or a comment on an indicator)', placeholder: '总体评价或需要单位修改的内容' },
    approve: button({ label: '审核通过', labelEn: 'Accept', style: 'primary', submit: true, action: encodeAction('self-eval.accept', ref(v)), confirm: { title: '审核通过', text: '通过后自评结果将锁定。确定通过吗？' } }),
    reject: button({ label: '退回修改', labelEn: 'Return for changes', style: 'danger', submit: true, action: encodeAction('self-eval.return', ref(v)), confirm: { title: '退回修改', text: '将按所填意见退回单位重新填报。确定退回吗？' } }),
  }, feedback);
}

/** A short notice to the filler or head (签发 done, accepted). */
export function buildSelfEvaluationNoticeCard(v: SelfEvaluationView, kind: 'signed' | 'accepted'): CardSpec {
  const text = kind === 'signed' ? `${v.unitName}第${v.version}版自评已由单位负责人签发，已报送评估组审核。` : `${v.unitName}第${v.version}版自评已由评估组审核通过。`;
  return {
    header: header('单位自评', v, kind === 'accepted' ? 'green' : 'purple'),
    elements: [notice(kind === 'accepted' ? 'success' : 'info', text), summaryFields(v)],
    summary: text,
  };
}
