import { describe, expect, it } from 'vitest';
import schemeJson from '../db/seed/schemes/haian-legal-person.json';
import { flattenIndicators, parseSchemeFile } from '../src/domain/scheme';
import { parseReviewForm, parseSelfEvaluationForm, REPORT_MAX_CHARS, TEXT_MAX_CHARS, type FieldError, type FormValues, type Indicator, type ItemInput } from '../src/domain/self-evaluation';
import { parseAction } from './actions';
import { walk, type Button, type CardSpec, type Element, type Input, type Panel } from './kit';
import { fieldErrorText } from './messages';
import {
  buildReviewCard,
  buildSelfEvaluationCard,
  buildSelfEvaluationNoticeCard,
  buildSignCard,
  type FormFeedback,
  type SelfEvaluationView,
} from './self-evaluation.card';
import { INDICATORS, REF, view } from './self-evaluation.fixtures';

const LEAF_IDS = [2, 3, 4];

const all = (card: CardSpec): Element[] => [...walk(card.elements)];
const inputs = (card: CardSpec): Input[] => all(card).filter((e): e is Input => e.type === 'input');
const buttons = (card: CardSpec): Button[] => all(card).filter((e): e is Button => e.type === 'button');
const input = (card: CardSpec, name: string): Input => {
  const found = inputs(card).filter((i) => i.name === name);
  if (found.length !== 1) throw new Error(`expected one input ${name}, found ${found.length}`);
  return found[0] as Input;
};
/** The panel holding the given input. */
const panelOf = (card: CardSpec, name: string): Panel => {
  const p = all(card).find((e): e is Panel => e.type === 'panel' && [...walk(e.elements)].some((x) => x.type === 'input' && x.name === name));
  if (!p) throw new Error(`no panel holds ${name}`);
  return p;
};
const texts = (els: readonly Element[]): string[] =>
  [...walk(els)].flatMap((e) => (e.type === 'markdown' || e.type === 'notice' || e.type === 'text' ? [e.text] : e.type === 'fields' ? e.fields.map((f) => `${f.label}:${f.value}`) : []));

const expectNoControls = (card: CardSpec) => {
  expect(all(card).filter((e) => ['input', 'select', 'date', 'button', 'actions', 'form'].includes(e.type))).toEqual([]);
};

describe('buildSelfEvaluationCard, editable (draft, stage open)', () => {
  const card = buildSelfEvaluationCard(view());

  it('has one score, explanation and evidence input per leaf indicator, then the report, and none for the 大项', () => {
    expect(inputs(card).map((i) => i.name)).toEqual([...LEAF_IDS.flatMap((id) => [`score_${id}`, `expl_${id}`, `evid_${id}`]), 'report']);
  });

  it('keeps every input and button inside one form', () => {
    const forms = all(card).filter((e) => e.type === 'form');
    expect(forms).toHaveLength(1);
    const inForm = [...walk(forms[0]?.type === 'form' ? forms[0].elements : [])];
    expect(inForm.filter((e) => e.type === 'input')).toHaveLength(inputs(card).length);
    expect(inForm.filter((e) => e.type === 'button')).toHaveLength(buttons(card).length);
  });

  it('has 保存草稿 first and 提交签发 with a confirm, both submitting the form with {evaluationId, version, rev}', () => {
    const [save, submit, ...rest] = buttons(card);
    expect(rest).toEqual([]);
    expect(save).toMatchObject({ label: '保存草稿', submit: true, action: { id: 'self-eval.save', value: REF } });
    expect(save?.confirm).toBeUndefined();
    expect(submit).toMatchObject({ label: '提交签发', submit: true, action: { id: 'self-eval.submit', value: REF } });
    expect(submit?.confirm?.title).toBeTruthy();
    expect(submit?.confirm?.text).toBeTruthy();
    for (const b of [save, submit]) {
      if (!b?.action) throw new Error('button without action');
      expect(parseAction(b.action.id, b.action.value)).toMatchObject({ ok: true, action: { value: REF } });
    }
  });

  it('prefills the stored items and marks required fields per indicator', () => {
    expect(input(card, 'score_2').value).toBe('12.5');
    expect(input(card, 'expl_2').value).toBe('逐项自查已落实');
    expect(input(card, 'evid_2').value).toBe('https://a.example.cn/1\nhttps://b.example.cn/2');
    expect(input(card, 'score_3').value).toBe('');
    expect(input(card, 'score_4').value).toBe('5');
    expect(input(card, 'report').value).toBe('');
    expect([input(card, 'expl_2').required, input(card, 'evid_2').required]).toEqual([true, true]);
    expect([input(card, 'expl_3').required, input(card, 'evid_3').required]).toEqual([false, false]);
    expect(input(card, 'score_3').required).toBe(true);
    expect(inputs(card).every((i) => i.error === undefined)).toBe(true);
  });

  it('titles each leaf panel with its code, title and maximum, and shows the total', () => {
    expect(panelOf(card, 'score_2').title).toContain('1.1 按宗旨开展活动（满分15）');
    expect(panelOf(card, 'score_4').title).toContain('2 编制管理（满分5）');
    expect(texts(card.elements)).toContain('自评总分:17.5 / 30');
  });
});

describe('buildSelfEvaluationCard with FormFeedback', () => {
  const values: FormValues = {
    score_2: 'abc', expl_2: '', evid_2: ['https://ok.example.cn/1', 'www.x.com'],
    score_3: '7', expl_3: '保留我输入的内容', evid_3: '',
    score_4: '6', expl_4: '', evid_4: '',
    report: '太短',
  };
  const parsed = parseSelfEvaluationForm(INDICATORS, values, 'submit');
  const errors: FieldError[] = parsed.ok ? [] : parsed.errors;
  const card = buildSelfEvaluationCard(view(), { errors, values });

  it('puts each error on its own input, in the words of cards/messages.ts', () => {
    expect(errors).toHaveLength(6);
    const expected: Record<string, string | undefined> = {
      score_2: '自评得分「abc」不是有效数字',
      expl_2: '请填写得分说明',
      evid_2: '链接「www.x.com」无效，请填写以 http:// 或 https:// 开头、带有效域名的完整网址',
      score_3: undefined, expl_3: undefined, evid_3: undefined,
      score_4: '自评得分「6」超出范围，应在 0 至 5 分之间',
      expl_4: '请填写得分说明',
      evid_4: undefined,
      report: '请填写自评报告（不少于 20 字）',
    };
    expect(Object.fromEntries(inputs(card).map((i) => [i.name, i.error]))).toEqual(expected);
    for (const e of errors) expect(input(card, e.field).error).toBe(fieldErrorText(e));
  });

  it('echoes what was typed rather than the stored items', () => {
    expect(input(card, 'score_2').value).toBe('abc');
    expect(input(card, 'evid_2').value).toBe('https://ok.example.cn/1\nwww.x.com');
    expect(input(card, 'expl_3').value).toBe('保留我输入的内容');
    expect(input(card, 'score_4').value).toBe('6');
    expect(input(card, 'expl_4').value).toBe('');
    expect(input(card, 'report').value).toBe('太短');
  });

  it('counts the errors in a notice, flags the panels that need work, and stays editable', () => {
    expect(card.elements.some((e) => e.type === 'notice' && e.tone === 'error' && e.text.includes('有 6 处需要修改'))).toBe(true);
    expect(panelOf(card, 'score_2').title).toContain('待修改');
    expect(panelOf(card, 'score_3').title).not.toContain('待修改');
    expect(buttons(card).map((b) => b.label)).toEqual(['保存草稿', '提交签发']);
  });
});

describe('a refused megabyte', () => {
  it('is echoed cut to each field\'s maximum, cleaned of controls, so the stored card stays small', () => {
    const huge = `开头\u0000${'字'.repeat(1_000_000)}`;
    const values: FormValues = { score_2: huge, expl_2: huge, evid_2: huge, report: huge };
    const parsed = parseSelfEvaluationForm(INDICATORS, values, 'draft');
    if (parsed.ok) throw new Error('expected errors');
    const card = buildSelfEvaluationCard(view(), { errors: parsed.errors, values });
    expect([...input(card, 'expl_2').value!]).toHaveLength(TEXT_MAX_CHARS);
    expect(input(card, 'expl_2').value!.startsWith('开头字')).toBe(true);
    expect([...input(card, 'report').value!]).toHaveLength(REPORT_MAX_CHARS);
    // Everything of the card together: the report's and the other fields' maxima, and little else.
    expect(JSON.stringify(card).length).toBeLessThan(REPORT_MAX_CHARS + TEXT_MAX_CHARS + 5000 + 20 + 5000);
  });
});

describe('evidence links in the read-only cards', () => {
  const linksMd = (card: CardSpec): string[] => texts(card.elements).filter((t) => t.startsWith('**佐证材料**'));

  it('are links whose text lvzhi writes, naming the host', () => {
    expect(linksMd(buildReviewCard(view({ status: 'signed' })))).toContain('**佐证材料**：[佐证1（a.example.cn）](https://a.example.cn/1)  [佐证2（b.example.cn）](https://b.example.cn/2)');
  });

  it('turn a stored attack (saved before links were checked) into one link to its real host', () => {
    const items = [{ indicatorId: 2, claimedScore: 1, explanation: '', evidenceLinks: ['https://a.b/x)**[官方文件](https://evil.example/login)', 'javascript:alert(1)'] }];
    const [line] = linksMd(buildReviewCard(view({ status: 'signed', items })));
    expect(line).toBe('**佐证材料**：[佐证1（a.b）](https://a.b/x%29%2A%2A%5B官方文件%5D%28https://evil.example/login%29)  佐证2（链接无效）');
  });

  it('show the report as plain text, so a link written in it is not a link', () => {
    const card = buildReviewCard(view({ status: 'signed', report: '详见[官方文件](https://evil.example/)' }));
    const report = all(card).find((e) => e.type === 'panel' && e.title === '自评报告');
    expect(report?.type === 'panel' && report.elements).toEqual([{ type: 'text', text: '详见[官方文件](https://evil.example/)' }]);
  });
});

describe('buildSelfEvaluationCard, read-only', () => {
  it.each([
    { status: 'submitted' as const, stageOpen: true, text: '第2版已提交，等待单位负责人签发。' },
    { status: 'submitted' as const, stageOpen: false, text: '第2版已提交，等待单位负责人签发。' },
    { status: 'signed' as const, stageOpen: true, text: '第2版已签发，等待评估组审核。' },
    { status: 'accepted' as const, stageOpen: true, text: '第2版已审核通过。' },
    { status: 'draft' as const, stageOpen: false, text: '自评阶段未开放或已截止，暂不能填报。' },
  ])('$status with the stage open=$stageOpen has no inputs and no action buttons', ({ status, stageOpen, text }) => {
    const card = buildSelfEvaluationCard(view({ status, stageOpen, report: '本单位自评报告正文' }));
    expectNoControls(card);
    const t = texts(card.elements);
    expect(t).toContain(text);
    expect(t).toContain('自评得分:12.5 / 15');
    expect(t).toContain('自评得分:未填');
    expect(t).toContain('本单位自评报告正文');
  });
});

describe('buildSelfEvaluationCard after a return', () => {
  it('shows each item comment on its own indicator and the overall comment on the card', () => {
    const card = buildSelfEvaluationCard(view({
      lastReturn: { by: 'evaluator', comment: '请补充佐证材料', itemComments: { '1.2': '满意度调查结果缺失' }, version: 1 },
    }));
    expect(texts(card.elements)).toContain('第1版已被评估组退回修改：请补充佐证材料');
    const returned = panelOf(card, 'score_3');
    expect(returned.title).toContain('有修改意见');
    expect(returned.elements).toContainEqual({ type: 'notice', tone: 'warning', text: '修改意见：满意度调查结果缺失' });
    for (const other of ['score_2', 'score_4']) {
      const p = panelOf(card, other);
      expect(p.title).not.toContain('有修改意见');
      expect(texts(p.elements).some((t) => t.startsWith('修改意见'))).toBe(false);
    }
  });

  it('says who returned it when there is no overall comment', () => {
    const card = buildSelfEvaluationCard(view({ lastReturn: { by: 'head', comment: '', itemComments: { '2': '核对编制数' }, version: 1 } }));
    expect(texts(card.elements)).toContain('第1版已被单位负责人退回修改，请按各指标意见修改');
    expect(panelOf(card, 'score_4').elements).toContainEqual({ type: 'notice', tone: 'warning', text: '修改意见：核对编制数' });
  });
});

describe('buildSignCard', () => {
  it('for a submission offers 签发 (with confirm) and 退回修改 with {evaluationId, version, rev}, and only an overall comment', () => {
    const card = buildSignCard(view({ status: 'submitted' }));
    const [sign, back, ...rest] = buttons(card);
    expect(rest).toEqual([]);
    expect(sign).toMatchObject({ label: '签发', submit: true, action: { id: 'self-eval.sign', value: REF } });
    expect(sign?.confirm?.text).toBeTruthy();
    expect(back).toMatchObject({ label: '退回修改', submit: true, action: { id: 'self-eval.head-return', value: REF } });
    expect(inputs(card).map((i) => i.name)).toEqual(['comment']);
    expect(texts(card.elements)).toContain('自评得分:12.5 / 15');
  });

  it('asks for the one comment it offers, which a return needs, and says so when it is missing', () => {
    const comment = input(buildSignCard(view({ status: 'submitted' })), 'comment');
    expect(comment.label).toBe('意见（退回时必填）');
    expect(comment.label).not.toContain('其一');
    const parsed = parseReviewForm(INDICATORS, { comment: ' ' }, 'return', 'head');
    if (parsed.ok) throw new Error('expected errors');
    const card = buildSignCard(view({ status: 'submitted' }), { errors: parsed.errors, values: { comment: ' ' } });
    const errorNotice = card.elements.find((e) => e.type === 'notice' && e.tone === 'error');
    expect(errorNotice?.type === 'notice' && errorNotice.text).toBe('退回修改时，请填写意见，说明需要填报员修改的内容');
  });

  it.each(['draft', 'signed', 'accepted'] as const)('when %s has no buttons and no inputs', (status) => {
    expectNoControls(buildSignCard(view({ status })));
  });
});

describe('buildReviewCard', () => {
  it('for a signed evaluation has a comment input per leaf indicator, an overall comment, 审核通过 and 退回修改', () => {
    const card = buildReviewCard(view({ status: 'signed' }));
    expect(inputs(card).map((i) => i.name)).toEqual([...LEAF_IDS.map((id) => `cmt_${id}`), 'comment']);
    const [accept, back, ...rest] = buttons(card);
    expect(rest).toEqual([]);
    expect(accept).toMatchObject({ label: '审核通过', submit: true, action: { id: 'self-eval.accept', value: REF } });
    expect(back).toMatchObject({ label: '退回修改', submit: true, action: { id: 'self-eval.return', value: REF } });
    expect(accept?.confirm?.text).toBeTruthy();
    expect(back?.confirm?.text).toBeTruthy();
    expect(panelOf(card, 'cmt_3').title).toContain('1.2 满意度');
    expect(input(card, 'comment').label).toBe('总体意见（退回时，总体意见与各指标修改意见至少填一项）');
  });

  it('shows a refused return with the reason and echoes the comments', () => {
    const values: FormValues = { comment: '', cmt_2: 'x'.repeat(2001), cmt_3: '' };
    const parsed = parseReviewForm(INDICATORS, values, 'return');
    if (parsed.ok) throw new Error('expected errors');
    const card = buildReviewCard(view({ status: 'signed' }), { errors: parsed.errors, values });
    const errorNotice = card.elements.find((e) => e.type === 'notice' && e.tone === 'error');
    expect(errorNotice?.type === 'notice' && errorNotice.text).toContain('退回修改时，请填写总体意见或至少一项指标的修改意见');
    // The over-long comment comes back cut to its maximum, and the message says so.
    expect(input(card, 'cmt_2').error).toBe('内容过长（2001 字），最多 2000 字；下方只保留了前 2000 字，请删改后重新提交');
    expect(input(card, 'cmt_2').value).toBe('x'.repeat(2000));
    expect(input(card, 'cmt_3').error).toBeUndefined();
    expect(buttons(card).map((b) => b.label)).toEqual(['审核通过', '退回修改']);
  });

  it('once accepted has no buttons and no inputs', () => {
    const card = buildReviewCard(view({ status: 'accepted' }));
    expectNoControls(card);
    expect(texts(card.elements)).toContain('第2版已审核通过。');
  });

  it.each(['draft', 'submitted'] as const)('when %s has no buttons', (status) => {
    expectNoControls(buildReviewCard(view({ status })));
  });
});

describe('once accepted', () => {
  it.each([
    ['filler', buildSelfEvaluationCard],
    ['sign', buildSignCard],
    ['review', buildReviewCard],
  ] as const)('the %s card has no buttons', (_name, build) => {
    expect(buttons(build(view({ status: 'accepted' })))).toEqual([]);
  });

  it('the notice cards have no buttons', () => {
    for (const kind of ['signed', 'accepted'] as const) expect(buttons(buildSelfEvaluationNoticeCard(view({ status: 'accepted' }), kind))).toEqual([]);
  });
});

describe('card size with the shipped 9-indicator scheme', () => {
  const parsed = parseSchemeFile(schemeJson, 'haian-legal-person.json');
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  const indicators: Indicator[] = flattenIndicators(parsed.scheme).map((r, i) => ({
    id: i + 1, code: r.code, parentCode: r.parentCode, level: r.level, title: r.title, maxPoints: r.maxPoints,
    scoringGuide: r.scoringGuide, evidence: r.evidence, evidenceRequired: r.evidenceRequired, explanationRequired: r.explanationRequired,
  }));
  const leaves = indicators.filter((i) => !indicators.some((c) => c.parentCode === i.code));

  const filled: ItemInput[] = leaves.map((l) => ({
    indicatorId: l.id,
    claimedScore: l.maxPoints - 0.5,
    explanation: '对照评分细则逐项自查，相关工作均已落实，具体情况见佐证材料。'.repeat(3),
    evidenceLinks: [1, 2, 3].map((n) => `https://oa.example.gov.cn/files/${l.code}/evidence-${n}.pdf`),
  }));
  const report = '本单位严格按照核准的宗旨和业务范围开展工作，机构编制和法人登记管理规范，存在的问题已制定整改措施。'.repeat(10);
  const big = (o: Partial<SelfEvaluationView>) => view({ indicators, items: filled, report, ...o });

  // A refused submission with an error on every field of every leaf, echoing bad values.
  const badValues: Record<string, string> = { report: '短' };
  for (const l of leaves) Object.assign(badValues, { [`score_${l.id}`]: '7.25', [`expl_${l.id}`]: '', [`evid_${l.id}`]: 'www.example.cn/x' });
  const badParsed = parseSelfEvaluationForm(indicators, badValues, 'submit');
  const badFeedback: FormFeedback = { errors: badParsed.ok ? [] : badParsed.errors, values: badValues };
  const reviewValues: Record<string, string> = { comment: '' };
  for (const l of leaves) reviewValues[`cmt_${l.id}`] = '请补充近三年的原始台账并说明扣分依据。';

  const cards: Array<[string, CardSpec]> = [
    ['empty fill', buildSelfEvaluationCard(view({ indicators, items: [] }))],
    ['filled fill after a return', buildSelfEvaluationCard(big({ lastReturn: { by: 'evaluator', comment: '请补充', itemComments: Object.fromEntries(leaves.map((l) => [l.code, '请补充佐证'])), version: 1 } }))],
    ['fill with an error on every field', buildSelfEvaluationCard(big({}), badFeedback)],
    ['read-only submitted', buildSelfEvaluationCard(big({ status: 'submitted', submittedAt: Date.parse('2026-12-01T02:00:00Z') }))],
    ['sign', buildSignCard(big({ status: 'submitted' }))],
    ['review', buildReviewCard(big({ status: 'signed' }))],
    ['review with echoed comments', buildReviewCard(big({ status: 'signed' }), { errors: [], values: reviewValues })],
    ['review accepted', buildReviewCard(big({ status: 'accepted' }))],
    ['notice', buildSelfEvaluationNoticeCard(big({ status: 'accepted' }), 'accepted')],
  ];

  it('the scheme has 9 scored indicators and the error fixture errs on all of them', () => {
    expect(leaves).toHaveLength(9);
    expect(badFeedback.errors.length).toBeGreaterThanOrEqual(9 * 3);
  });

  it.each(cards)('%s stays within 200 elements and 30000 JSON characters', (_name, card) => {
    const count = [...walk(card.elements)].length;
    expect(count).toBeGreaterThan(1);
    expect(count).toBeLessThanOrEqual(200);
    expect(JSON.stringify(card).length).toBeLessThan(30000);
  });

  it('the editable card has 27 item inputs plus the report for the scheme', () => {
    const card = cards[0]?.[1];
    if (!card) throw new Error('no card');
    expect(inputs(card)).toHaveLength(9 * 3 + 1);
  });
});
