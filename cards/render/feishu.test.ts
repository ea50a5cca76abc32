import { describe, expect, it } from 'vitest';
import schemeJson from '../../db/seed/schemes/haian-legal-person.json';
import { flattenIndicators, parseSchemeFile } from '../../src/domain/scheme';
import type { StageName, StageState } from '../../src/domain/campaign';
import { fieldNames, parseReviewForm, parseSelfEvaluationForm, type FormValues, type Indicator } from '../../src/domain/self-evaluation';
import { encodeAction, parseAction } from '../actions';
import { buildCampaignConsoleCard, type CampaignConsoleView } from '../campaign.card';
import { actions, button, md, mdLink, notice, plainText, walk, type Button, type CardSpec, type Element, type Input } from '../kit';
import { fieldErrorText } from '../messages';
import {
  buildReviewCard,
  buildSelfEvaluationCard,
  buildSelfEvaluationNoticeCard,
  buildSignCard,
  type FormFeedback,
  type SelfEvaluationView,
} from '../self-evaluation.card';
import { FeishuCardTooLargeError, renderFeishuCard, renderFeishuCards, type FeishuCard } from './feishu';
import { FEISHU_CARD_MAX_BYTES, FEISHU_CARD_MAX_COMPONENTS, measureFeishuCard, validateFeishuCard } from './feishu-validate';
import { ind, INDICATORS, REF, view } from '../self-evaluation.fixtures';

// ---------------------------------------------------------------------------- helpers

type J = Record<string, unknown>;
interface Found { readonly node: J; readonly ancestors: readonly string[] }

const isObj = (v: unknown): v is J => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every tagged object of a card with the tags above it (free-form data skipped). */
function tagged(v: unknown, ancestors: readonly string[] = []): Found[] {
  if (Array.isArray(v)) return v.flatMap((x) => tagged(x, ancestors));
  if (!isObj(v)) return [];
  const tag = typeof v.tag === 'string' ? v.tag : null;
  const below = tag ? [...ancestors, tag] : ancestors;
  const children = Object.entries(v).filter(([k]) => k !== 'chart_spec' && k !== 'value' && k !== 'rows').flatMap(([, x]) => tagged(x, below));
  return tag ? [{ node: v, ancestors }, ...children] : children;
}

const byTag = (card: unknown, tag: string): J[] => tagged(card).filter((f) => f.node.tag === tag).map((f) => f.node);
const rootElements = (card: FeishuCard): J[] => ((card.body as J).elements as J[]);
const FIELD_TAGS = new Set(['input', 'select_static', 'multi_select_static', 'date_picker']);
const fieldsIn = (form: J): J[] => tagged(form.elements).filter((f) => FIELD_TAGS.has(f.node.tag as string)).map((f) => f.node);
const markdownTexts = (card: unknown): string[] => byTag(card, 'markdown').map((n) => n.content as string);
const callbackValues = (card: unknown): unknown[] =>
  byTag(card, 'button').flatMap((b) => ((b.behaviors as J[] | undefined) ?? []).filter((x) => x.type === 'callback').map((x) => x.value));
const specButtons = (spec: CardSpec): Button[] => [...walk(spec.elements)].filter((e): e is Button => e.type === 'button');
const specInputs = (spec: CardSpec): Input[] => [...walk(spec.elements)].filter((e): e is Input => e.type === 'input');
/** Undoes the &#N; and &nbsp; escapes of plain text in markdown (&nbsp; only stands for a blank). */
const decode = (s: string): string => s.replace(/&#(\d+);|&nbsp;/g, (_, n?: string) => (n === undefined ? ' ' : String.fromCharCode(Number(n))));

// ---------------------------------------------------------------------------- fixtures

const badValues: FormValues = {
  score_2: 'abc', expl_2: '', evid_2: ['https://ok.example.cn/1', 'www.x.com'],
  score_3: '7', expl_3: '保留我输入的内容', evid_3: '', score_4: '6', expl_4: '', evid_4: '', report: '太短',
};
const badParsed = parseSelfEvaluationForm(INDICATORS, badValues, 'submit');
const badFeedback: FormFeedback = { errors: badParsed.ok ? [] : badParsed.errors, values: badValues };
const reviewParsed = parseReviewForm(INDICATORS, { comment: '' }, 'return');
const reviewFeedback: FormFeedback = { errors: reviewParsed.ok ? [] : reviewParsed.errors, values: { comment: '', cmt_3: '请补充调查问卷' } };

const ORDER: StageName[] = ['notice', 'self_evaluation', 'on_site', 'rating', 'report', 'rectification', 'grading'];
const stages = (selfEval: 'pending' | 'open'): StageState[] =>
  ORDER.map((stage, i) => ({
    stage,
    status: i === 0 ? (selfEval === 'pending' ? 'open' : 'closed') : i === 1 ? selfEval : 'pending',
    dueAt: i === 1 && selfEval === 'open' ? Date.parse('2026-05-31T15:59:59.999Z') : null,
  }));
const campaign = (o: Partial<CampaignConsoleView> = {}): CampaignConsoleView => ({
  campaignId: 7, name: '2026年度事业单位法人履职评估', schemeName: '事业单位法人履职评估', stages: stages('pending'),
  progress: [
    { unitName: '县疾病预防控制中心', groupName: '卫健组', status: null, version: null },
    { unitName: '县图书馆', groupName: '文教组', status: 'draft', version: 1 },
    { unitName: '县人民医院', groupName: '卫健组', status: 'submitted', version: 1 },
    { unitName: '县博物馆', groupName: '文教组', status: 'accepted', version: 3 },
  ],
  audience: 'evaluator', now: Date.parse('2026-05-10T02:00:00Z'), ...o,
});

/** The shipped scheme, filled generously (as in self-evaluation.card.test.ts). */
const scheme = parseSchemeFile(schemeJson, 'haian-legal-person.json');
if (!scheme.ok) throw new Error(scheme.errors.join('\n'));
const SCHEME: Indicator[] = flattenIndicators(scheme.scheme).map((r, i) => ({
  id: i + 1, code: r.code, parentCode: r.parentCode, level: r.level, title: r.title, maxPoints: r.maxPoints,
  scoringGuide: r.scoringGuide, evidence: r.evidence, evidenceRequired: r.evidenceRequired, explanationRequired: r.explanationRequired,
}));
const SCHEME_LEAVES = SCHEME.filter((i) => !SCHEME.some((c) => c.parentCode === i.code));
const schemeView = (o: Partial<SelfEvaluationView> = {}): SelfEvaluationView => view({
  indicators: SCHEME,
  items: SCHEME_LEAVES.map((l) => ({
    indicatorId: l.id, claimedScore: l.maxPoints - 0.5, explanation: '对照评分细则逐项自查，相关工作均已落实，具体情况见佐证材料。'.repeat(3),
    evidenceLinks: [1, 2, 3].map((n) => `https://oa.example.gov.cn/files/${l.code}/evidence-${n}.pdf`),
  })),
  report: '本单位严格按照核准的宗旨和业务范围开展工作，机构编制和法人登记管理规范，存在的问题已制定整改措施。'.repeat(10),
  ...o,
});

/** 6 大项 × 10 小项, the way src/domain/self-evaluation.ts models indicators. */
function manyIndicators(): Indicator[] {
  const out: Indicator[] = [];
  let id = 1;
  for (let a = 1; a <= 6; a += 1) {
    out.push(ind({ id: id++, code: `${a}`, title: `第${a}大项`, maxPoints: 50 }));
    for (let l = 1; l <= 10; l += 1) {
      out.push(ind({
        id: id++, code: `${a}.${l}`, parentCode: `${a}`, level: 2, title: `第${a}.${l}项 依法依规开展业务活动情况`, maxPoints: 5,
        scoringGuide: '未按规定开展的扣1分；材料不全的扣0.5分，扣完为止。', evidence: l % 2 === 0 ? '会议纪要、工作台账' : '',
        evidenceRequired: l % 2 === 0, explanationRequired: l % 3 === 0,
      }));
    }
  }
  return out;
}

const ALL_CARDS: Array<[string, CardSpec]> = [
  ['self-evaluation draft', buildSelfEvaluationCard(view())],
  ['self-evaluation draft with errors', buildSelfEvaluationCard(view(), badFeedback)],
  ['self-evaluation after a return', buildSelfEvaluationCard(view({ lastReturn: { by: 'evaluator', comment: '请补充佐证材料', itemComments: { '1.2': '满意度调查结果缺失' }, version: 1 } }))],
  ['self-evaluation read-only (submitted)', buildSelfEvaluationCard(view({ status: 'submitted', submittedAt: Date.parse('2026-12-01T02:00:00Z') }))],
  ['self-evaluation read-only (stage closed)', buildSelfEvaluationCard(view({ stageOpen: false }))],
  ['sign pending', buildSignCard(view({ status: 'submitted' }))],
  ['sign done', buildSignCard(view({ status: 'signed' }))],
  ['review pending', buildReviewCard(view({ status: 'signed' }))],
  ['review with errors', buildReviewCard(view({ status: 'signed' }), reviewFeedback)],
  ['review accepted', buildReviewCard(view({ status: 'accepted' }))],
  ['notice signed', buildSelfEvaluationNoticeCard(view({ status: 'signed' }), 'signed')],
  ['notice accepted', buildSelfEvaluationNoticeCard(view({ status: 'accepted' }), 'accepted')],
  ['campaign evaluator, self-evaluation pending', buildCampaignConsoleCard(campaign())],
  ['campaign leader, self-evaluation pending', buildCampaignConsoleCard(campaign({ audience: 'leader' }))],
  ['campaign evaluator, self-evaluation open', buildCampaignConsoleCard(campaign({ stages: stages('open') }))],
  ['campaign with an error', buildCampaignConsoleCard(campaign({ error: '截止日期必须晚于今天' }))],
  ['scheme: empty fill', buildSelfEvaluationCard(view({ indicators: SCHEME, items: [] }))],
  ['scheme: fill with an error on every field', buildSelfEvaluationCard(schemeView(), {
    errors: (() => {
      const values: Record<string, string> = { report: '短' };
      for (const l of SCHEME_LEAVES) Object.assign(values, { [`score_${l.id}`]: '7.25', [`expl_${l.id}`]: '', [`evid_${l.id}`]: 'www.example.cn/x' });
      const parsed = parseSelfEvaluationForm(SCHEME, values, 'submit');
      return parsed.ok ? [] : parsed.errors;
    })(),
    values: {},
  })],
  ['scheme: sign', buildSignCard(schemeView({ status: 'submitted' }))],
  ['scheme: review', buildReviewCard(schemeView({ status: 'signed' }))],
];

// ---------------------------------------------------------------------------- every card

describe('renderFeishuCards on every card builder', () => {
  it.each(ALL_CARDS)('%s renders valid Feishu cards', (_name, spec) => {
    const cards = renderFeishuCards(spec);
    expect(cards.length).toBeGreaterThanOrEqual(1);
    for (const card of cards) {
      expect(validateFeishuCard(card)).toEqual([]);
      expect(card.schema).toBe('2.0');
      expect(card.config).toMatchObject({ update_multi: true, summary: { content: spec.summary } });
      const m = measureFeishuCard(card);
      expect(m.bytes).toBeLessThanOrEqual(FEISHU_CARD_MAX_BYTES);
      expect(m.components).toBeLessThanOrEqual(FEISHU_CARD_MAX_COMPONENTS);
    }
    expect(renderFeishuCard(spec)).toEqual(cards[0]);
  });

  it.each(ALL_CARDS)('%s: callback values are {a, v} and parse as actions', (_name, spec) => {
    const values = renderFeishuCards(spec).flatMap(callbackValues);
    const expected = specButtons(spec).filter((b) => b.action).map((b) => ({ a: b.action?.id, v: b.action?.value }));
    if (renderFeishuCards(spec).length === 1) expect(values).toEqual(expected);
    for (const v of values) {
      expect(Object.keys(v as J).sort()).toEqual(['a', 'v']);
      const { a, v: value } = v as { a: string; v: unknown };
      expect(parseAction(a, value)).toMatchObject({ ok: true });
    }
  });

  it.each(ALL_CARDS)('%s: every form is at the root, with named, submitting buttons', (_name, spec) => {
    for (const card of renderFeishuCards(spec)) {
      for (const f of tagged(card).filter((x) => x.node.tag === 'form')) expect(f.ancestors).toEqual([]);
      for (const form of byTag(card, 'form')) {
        const buttons = byTag(form.elements, 'button');
        expect(buttons.length).toBeGreaterThan(0);
        for (const b of buttons) expect(b).toMatchObject({ form_action_type: 'submit', name: expect.stringMatching(/^btn_\d+$/) });
        const names = [...buttons, ...fieldsIn(form)].map((n) => n.name);
        expect(new Set(names).size).toBe(names.length);
      }
    }
  });
});

// ---------------------------------------------------------------------------- the editable card

describe('the self-evaluation form in Feishu', () => {
  const spec = buildSelfEvaluationCard(view(), badFeedback);
  const [card, ...more] = renderFeishuCards(spec);
  if (!card) throw new Error('no card');
  const form = byTag(card, 'form')[0] as J;
  const inputs = byTag(card, 'input');

  it('is one card with one form holding every input, each with its name and default_value', () => {
    expect(more).toEqual([]);
    expect(badFeedback.errors).toHaveLength(6);
    expect(byTag(card, 'form')).toHaveLength(1);
    expect(fieldsIn(form).map((i) => i.name)).toEqual(specInputs(spec).map((i) => i.name));
    for (const i of specInputs(spec)) {
      const node = inputs.find((n) => n.name === i.name);
      expect(node).toMatchObject({ name: i.name, default_value: i.value ?? '', required: false, label: { tag: 'plain_text' } });
    }
    // The refused values are echoed back, not the stored ones.
    expect(inputs.find((n) => n.name === 'score_2')?.default_value).toBe('abc');
    expect(inputs.find((n) => n.name === 'evid_2')?.default_value).toBe('https://ok.example.cn/1\nwww.x.com');
    expect(inputs.find((n) => n.name === 'expl_3')?.default_value).toBe('保留我输入的内容');
  });

  it('never marks a field required on the client, and uses multiline_text for long text', () => {
    expect(inputs.every((n) => n.required === false)).toBe(true);
    expect(inputs.find((n) => n.name === 'expl_2')).toMatchObject({ input_type: 'multiline_text', max_length: 1000 });
    expect(inputs.find((n) => n.name === 'report')).toMatchObject({ input_type: 'multiline_text', max_length: 1000 });
    expect(inputs.find((n) => n.name === 'score_2')?.input_type).toBeUndefined();
    expect(inputs.find((n) => n.name === 'expl_2')?.label).toEqual({ tag: 'plain_text', content: '得分说明 *', i18n_content: { zh_cn: '得分说明 *', en_us: 'Explanation *' } });
  });

  it('puts each error in red right after its input', () => {
    for (const e of badFeedback.errors) {
      const parent = tagged(card).find((f) => Array.isArray(f.node.elements) && (f.node.elements as J[]).some((x) => x.name === e.field))?.node;
      const siblings = (parent?.elements ?? []) as J[];
      const at = siblings.findIndex((x) => x.name === e.field);
      const next = siblings[at + 1];
      expect(next?.tag).toBe('markdown');
      expect(next?.content).toMatch(/^<font color='red'>.*<\/font>$/);
      expect(decode(String(next?.content))).toContain(fieldErrorText(e));
    }
    expect(markdownTexts(card).filter((t) => t.startsWith("<font color='red'>"))).toHaveLength(badFeedback.errors.length + 1);
  });

  it('keeps the indicator panels inside the form (panels may nest in a 2.0 form)', () => {
    const panels = tagged(card).filter((f) => f.node.tag === 'collapsible_panel');
    expect(panels).toHaveLength(3);
    for (const p of panels) expect(p.ancestors).toEqual(['form']);
    expect(panels[0]?.node).toMatchObject({ expanded: true, header: { title: { tag: 'plain_text', content: expect.stringContaining('1.1 按宗旨开展活动（满分15）') } } });
  });

  it('renders 保存草稿 and 提交签发 as submit buttons with the action, style and confirm', () => {
    const [save, submit, ...rest] = byTag(form.elements, 'button');
    expect(rest).toEqual([]);
    expect(save).toMatchObject({ text: { tag: 'plain_text', content: '保存草稿' }, type: 'default', behaviors: [{ type: 'callback', value: { a: 'self-eval.save', v: REF } }] });
    expect(save?.confirm).toBeUndefined();
    expect(submit).toMatchObject({
      type: 'primary_filled',
      behaviors: [{ type: 'callback', value: { a: 'self-eval.submit', v: REF } }],
      confirm: { title: { tag: 'plain_text', content: '提交自评' }, text: { tag: 'plain_text', content: expect.stringContaining('签发前不能再修改') } },
    });
    expect(save?.name).not.toBe(submit?.name);
  });

  it('writes fields as one markdown and notices in colour', () => {
    expect(markdownTexts(card)[0]).toBe('**截止时间**：2026年12月31日\n**当前状态**：填报中（第2版）\n**自评总分**：17.5 / 30');
    expect(markdownTexts(card)).toContain("<font color='red'>❌ 有 6 处需要修改，本次未保存。请按标红提示修改后重新提交。</font>");
  });
});

describe('the header', () => {
  it('maps title, subtitle, colour and at most three tags', () => {
    const card = renderFeishuCard({
      header: { title: '标题', subtitle: '副标题', color: 'grey', tags: [{ text: 'a' }, { text: 'b', color: 'red' }, { text: 'c', color: 'purple' }, { text: 'd' }] },
      elements: [],
    });
    expect(card.header).toEqual({
      title: { tag: 'plain_text', content: '标题' },
      subtitle: { tag: 'plain_text', content: '副标题' },
      template: 'grey',
      text_tag_list: [
        { tag: 'text_tag', text: { tag: 'plain_text', content: 'a' }, color: 'neutral' },
        { tag: 'text_tag', text: { tag: 'plain_text', content: 'b' }, color: 'red' },
        { tag: 'text_tag', text: { tag: 'plain_text', content: 'c' }, color: 'purple' },
      ],
    });
    expect(card.config).toEqual({ update_multi: true });
  });
});

// ---------------------------------------------------------------------------- splitting

describe('a self-evaluation with 60 indicators', () => {
  const indicators = manyIndicators();
  const leaves = indicators.filter((i) => i.parentCode !== null);
  const spec = buildSelfEvaluationCard(view({
    indicators,
    items: leaves.map((l) => ({ indicatorId: l.id, claimedScore: 4.5, explanation: `第${l.code}项已按要求落实。`, evidenceLinks: [`https://oa.example.gov.cn/${l.code}.pdf`] })),
    report: '本单位全面履行职责。'.repeat(10),
  }));
  const cards = renderFeishuCards(spec);
  const expectedNames = specInputs(spec).map((i) => i.name);

  it('has 60 leaves and 181 inputs in the spec', () => {
    expect(leaves).toHaveLength(60);
    expect(expectedNames).toHaveLength(60 * 3 + 1);
  });

  it('splits into several cards that are each valid', () => {
    expect(cards.length).toBeGreaterThan(1);
    for (const card of cards) expect(validateFeishuCard(card)).toEqual([]);
    cards.forEach((card, i) => {
      const suffix = `（${i + 1}/${cards.length}）`;
      expect((card.header as J).title).toEqual({ tag: 'plain_text', content: `单位自评 · 县疾病预防控制中心${suffix}`, i18n_content: { zh_cn: `单位自评 · 县疾病预防控制中心${suffix}`, en_us: `Self-evaluation · 县疾病预防控制中心${suffix}` } });
    });
  });

  it('puts every field name in exactly one card’s form, in order', () => {
    const names = cards.flatMap((card) => byTag(card, 'form').flatMap((f) => fieldsIn(f).map((n) => n.name)));
    expect(names).toEqual(expectedNames);
    for (const card of cards) expect(byTag(card, 'form')).toHaveLength(1);
  });

  it('never cuts an indicator’s group: its three inputs share a panel and a card', () => {
    for (const leaf of leaves) {
      const holder = cards.filter((card) => byTag(card, 'input').some((n) => n.name === `score_${leaf.id}`));
      expect(holder).toHaveLength(1);
      const panel = byTag(holder[0], 'collapsible_panel').find((p) => byTag(p.elements, 'input').some((n) => n.name === `score_${leaf.id}`));
      expect(byTag(panel?.elements, 'input').map((n) => n.name)).toEqual([`score_${leaf.id}`, `expl_${leaf.id}`, `evid_${leaf.id}`]);
    }
  });

  it('gives every card’s form the same submit buttons', () => {
    const strip = (b: J): J => ({ text: b.text, type: b.type, behaviors: b.behaviors, confirm: b.confirm, form_action_type: b.form_action_type, name: b.name });
    const first = byTag(byTag(cards[0], 'form'), 'button').map(strip);
    expect(first.map((b) => (b.text as J).content)).toEqual(['保存草稿', '提交签发']);
    for (const card of cards) expect(byTag(byTag(card, 'form'), 'button').map(strip)).toEqual(first);
  });

  it('keeps the summary fields in the first card only', () => {
    expect(markdownTexts(cards[0])[0]).toContain('**自评总分**');
    for (const card of cards.slice(1)) expect(rootElements(card).map((e) => e.tag)).toEqual(['form']);
  });
});

describe('splitting read-only and review cards', () => {
  const indicators = manyIndicators();
  const leaves = indicators.filter((i) => i.parentCode !== null);
  const items = leaves.map((l) => ({ indicatorId: l.id, claimedScore: 4, explanation: '已落实。'.repeat(20), evidenceLinks: [`https://oa.example.gov.cn/${l.code}.pdf`] }));
  const report = Array.from({ length: 400 }, (_, i) => `第${i + 1}段：本单位严格按照核准的宗旨和业务范围开展工作。`).join('\n');

  it('spreads 60 read-only panels and a long report over valid cards, losing no text', () => {
    const spec = buildSelfEvaluationCard(view({ status: 'submitted', indicators, items, report }));
    const cards = renderFeishuCards(spec);
    expect(cards.length).toBeGreaterThan(1);
    for (const card of cards) expect(validateFeishuCard(card)).toEqual([]);
    const titles = cards.flatMap((c) => byTag(c, 'collapsible_panel').map((p) => ((p.header as J).title as J).content));
    expect(titles.filter((t) => typeof t === 'string' && / · 4\/5$/.test(t))).toHaveLength(60);
    // The report was cut at line breaks into continued panels; joined back it is whole.
    const reportPanels = cards.flatMap((c) => byTag(c, 'collapsible_panel')).filter((p) => String(((p.header as J).title as J).content).startsWith('自评报告'));
    expect(reportPanels.length).toBeGreaterThan(1);
    expect(String(((reportPanels[1]?.header as J).title as J).content)).toBe('自评报告（续）');
    const text = reportPanels.flatMap((p) => byTag(p.elements, 'markdown').map((m) => m.content as string)).join('\n');
    expect(text.split('\n')).toHaveLength(400);
    expect(text).toContain('第400段：本单位严格按照核准的宗旨和业务范围开展工作。');
  });

  it('splits a 60-indicator review form keeping one comment input per indicator', () => {
    const spec = buildReviewCard(view({ status: 'signed', indicators, items, report: '报告' }));
    const cards = renderFeishuCards(spec);
    expect(cards.length).toBeGreaterThan(1);
    for (const card of cards) expect(validateFeishuCard(card)).toEqual([]);
    const names = cards.flatMap((card) => byTag(card, 'form').flatMap((f) => fieldsIn(f).map((n) => n.name)));
    expect(names).toEqual([...leaves.map((l) => fieldNames.comment(l)), fieldNames.overallComment]);
    for (const card of cards) {
      expect(byTag(byTag(card, 'form'), 'button').map((b) => (b.text as J).content)).toEqual(['审核通过', '退回修改']);
    }
  });

  it('throws FeishuCardTooLargeError when one input alone exceeds a card', () => {
    const spec: CardSpec = {
      header: { title: '超长' },
      elements: [{
        type: 'form', name: 'f', elements: [
          { type: 'input', name: 'x', label: 'x', value: '很'.repeat(12000) },
          actions(button({ label: '保存', submit: true, action: encodeAction('self-eval.save', REF) })),
        ],
      }],
    };
    expect(() => renderFeishuCards(spec)).toThrow(FeishuCardTooLargeError);
  });

  it('refuses a spec that breaks a rule splitting cannot fix (a repeated field name)', () => {
    const spec: CardSpec = {
      header: { title: '重名' },
      elements: [{
        type: 'form', name: 'f', elements: [
          { type: 'input', name: 'x', label: 'a' }, { type: 'input', name: 'x', label: 'b' },
          button({ label: '保存', submit: true, action: encodeAction('self-eval.save', REF) }),
        ],
      }],
    };
    expect(() => renderFeishuCards(spec)).toThrow(/"x" is already used/);
  });
});

// ---------------------------------------------------------------------------- element mapping

describe('element mapping', () => {
  const one = (...elements: Element[]): FeishuCard => renderFeishuCard({ header: { title: 'T' }, elements });
  const save = (): Button => button({ label: '保存', submit: true, action: encodeAction('self-eval.save', REF) });

  it('renders a root table as a table, and as text lines inside a form, panel or columns', () => {
    const table: Element = { type: 'table', columns: [{ key: 'u', label: '单位' }, { key: 'n', label: '版本', align: 'right' }], rows: [{ u: '县图书馆', n: 2 }, { u: '县博物馆', n: 3 }], pageSize: 20 };
    const root = one(table);
    expect(rootElements(root)[0]).toEqual({
      tag: 'table', page_size: 10,
      columns: [{ name: 'u', display_name: '单位', data_type: 'text' }, { name: 'n', display_name: '版本', data_type: 'number', horizontal_align: 'right' }],
      rows: [{ u: '县图书馆', n: 2 }, { u: '县博物馆', n: 3 }],
    });
    for (const card of [
      one({ type: 'form', name: 'f', elements: [table, save()] }),
      one({ type: 'panel', title: 'p', elements: [table] }),
      one({ type: 'columns', columns: [{ elements: [table] }] }),
    ]) {
      expect(validateFeishuCard(card)).toEqual([]);
      expect(byTag(card, 'table')).toEqual([]);
      expect(markdownTexts(card)).toContain('- 单位：县图书馆 · 版本：2\n- 单位：县博物馆 · 版本：3');
    }
  });

  it('renders at most five tables per card and the rest as text', () => {
    const table: Element = { type: 'table', columns: [{ key: 'k', label: 'K' }], rows: [{ k: 'v' }] };
    const card = one(table, table, table, table, table, table, table);
    expect(validateFeishuCard(card)).toEqual([]);
    expect(byTag(card, 'table')).toHaveLength(5);
    expect(markdownTexts(card)).toEqual(['- K：v', '- K：v']);
  });

  it('renders bar and pie charts as plain VChart JSON, and charts in a form as text', () => {
    const bar = one({ type: 'chart', kind: 'bar', title: '进度', series: [{ name: '单位数', data: [{ label: '填报中', value: 2 }, { label: '已通过', value: Number.NaN }] }] });
    expect(byTag(bar, 'chart')[0]?.chart_spec).toEqual({
      type: 'bar', title: { text: '进度' }, data: [{ id: 'data', values: [{ label: '填报中', value: 2, series: '单位数' }, { label: '已通过', value: 0, series: '单位数' }] }],
      xField: 'label', yField: 'value',
    });
    const pie = one({ type: 'chart', kind: 'pie', series: [{ name: 's', data: [{ label: 'a', value: 1 }] }] });
    expect(byTag(pie, 'chart')[0]?.chart_spec).toMatchObject({ type: 'pie', valueField: 'value', categoryField: 'label', data: [{ id: 'data', values: [{ label: 'a', value: 1 }] }] });
    const multi = one({ type: 'chart', kind: 'bar', series: [{ name: 'x', data: [{ label: 'a', value: 1 }] }, { name: 'y', data: [{ label: 'a', value: 2 }] }] });
    expect(byTag(multi, 'chart')[0]?.chart_spec).toMatchObject({ xField: ['label', 'series'], seriesField: 'series' });
    const inForm = one({ type: 'form', name: 'f', elements: [{ type: 'chart', kind: 'bar', title: '进度', series: [{ name: 's', data: [{ label: 'a', value: 1 }] }] }, save()] });
    expect(validateFeishuCard(inForm)).toEqual([]);
    expect(byTag(inForm, 'chart')).toEqual([]);
    expect(markdownTexts(inForm)).toContain('**进度**\n- a：1');
  });

  it('renders selects and date pickers with a label line, multi-selects only inside forms', () => {
    const select = { type: 'select', name: 's', label: '组别', options: [{ value: 'a', label: '甲' }, { value: 'b', label: '乙' }], value: 'b', required: true } as const;
    const multi = { ...select, name: 'm', multiple: true, value: 'a,b,zz' } as const;
    const card = one({ type: 'form', name: 'f', elements: [select, multi, { type: 'date', name: 'd', label: '截止', value: '2026-05-24', error: '请选择日期' }, save()] });
    expect(validateFeishuCard(card)).toEqual([]);
    const els = (rootElements(card)[0]?.elements ?? []) as J[];
    expect(els.map((e) => e.tag)).toEqual(['markdown', 'select_static', 'markdown', 'multi_select_static', 'markdown', 'date_picker', 'markdown', 'button']);
    expect(els[0]).toEqual({ tag: 'markdown', content: '组别 &#42;' });
    expect(els[1]).toMatchObject({ name: 's', initial_option: 'b', required: false, options: [{ text: { tag: 'plain_text', content: '甲' }, value: 'a' }, { text: { tag: 'plain_text', content: '乙' }, value: 'b' }] });
    expect(els[3]).toMatchObject({ name: 'm', selected_values: ['a', 'b'] });
    expect(els[5]).toMatchObject({ name: 'd', initial_date: '2026-05-24', required: false });
    expect(els[6]?.content).toBe("<font color='red'>请选择日期</font>");
    const outside = one(multi);
    expect(validateFeishuCard(outside)).toEqual([]);
    expect(byTag(outside, 'select_static')[0]).not.toHaveProperty('required');
  });

  it('maps button styles, links and inert buttons', () => {
    const card = one(actions(
      button({ label: 'A', style: 'primary', action: encodeAction('campaign.progress', { campaignId: 1 }) }),
      button({ label: 'B', style: 'danger', url: 'https://example.cn/x', action: encodeAction('campaign.progress', { campaignId: 1 }) }),
      button({ label: 'C', url: 'javascript:alert(1)' }),
      button({ label: 'D', disabled: true, action: encodeAction('campaign.progress', { campaignId: 1 }) }),
    ));
    expect(validateFeishuCard(card)).toEqual([]);
    const [a, b, c, d] = byTag(card, 'button');
    expect(a).toMatchObject({ type: 'primary_filled' });
    expect(b?.behaviors).toEqual([{ type: 'callback', value: { a: 'campaign.progress', v: { campaignId: 1 } } }, { type: 'open_url', default_url: 'https://example.cn/x' }]);
    expect(b?.type).toBe('danger');
    expect(c).toMatchObject({ disabled: true });
    expect(c).not.toHaveProperty('behaviors');
    expect(d).toMatchObject({ disabled: true, behaviors: [{ type: 'callback' }] });
    expect(rootElements(card)[0]).toMatchObject({ tag: 'column_set', flex_mode: 'flow', columns: [{ tag: 'column', width: 'auto' }, {}, {}, {}] });
  });

  it('turns a link-only button inside a form into a markdown link, and hoists a form out of a panel', () => {
    const card = one({ type: 'panel', title: '外层', elements: [{ type: 'form', name: 'inner', elements: [button({ label: '说明', url: 'https://example.cn/doc' }), save()] }] });
    expect(validateFeishuCard(card)).toEqual([]);
    expect(rootElements(card)[0]).toMatchObject({ tag: 'form', name: 'inner', elements: [{ tag: 'collapsible_panel' }] });
    expect(markdownTexts(card)).toContain('[说明](https://example.cn/doc)');
  });

  it('gives generated button names that avoid field names', () => {
    const card = one({ type: 'form', name: 'f', elements: [{ type: 'input', name: 'btn_1', label: 'x' }, save()] });
    expect(validateFeishuCard(card)).toEqual([]);
    expect(byTag(card, 'button')[0]?.name).toBe('btn_2');
  });
});

// ---------------------------------------------------------------------------- escaping

describe('escaping', () => {
  const one = (...elements: Element[]): FeishuCard => renderFeishuCard({ header: { title: 'T' }, elements });

  it('passes markdown special text as content, never as JSON structure', () => {
    const evil = `"}]},{"tag":"button","text":{"tag":"plain_text","content":"x"}}],"a":"\\`;
    const card = one(md(evil), notice('info', evil), { type: 'fields', fields: [{ label: evil, value: evil }] });
    const parsed = JSON.parse(JSON.stringify(card)) as FeishuCard;
    expect(rootElements(parsed).map((e) => e.tag)).toEqual(['markdown', 'markdown', 'markdown']);
    expect(byTag(parsed, 'button')).toEqual([]);
    expect(validateFeishuCard(parsed)).toEqual([]);
    expect(decode(markdownTexts(parsed)[0] ?? '')).toBe(evil);
  });

  it('keeps our markdown subset and neutralises the rest of Feishu markdown', () => {
    const card = one(md('**粗体** [链接](https://example.cn/a_b) <at id=all></at> :OK: # 标题\n- 列表项\n1. 不是列表\n[坏链接](javascript:x)'));
    const content = markdownTexts(card)[0] ?? '';
    expect(content).toContain('**粗体**');
    expect(content).toContain('[链接](https://example.cn/a_b)');
    expect(content).toContain('\n\n- 列表项\n\n1&#46; 不是列表');
    expect(content).not.toMatch(/<at|:OK:|# |\[坏链接\]\(/);
    expect(content).toContain('&#60;at id&#61;all&#62;&#60;/at&#62;');
  });

  it('escapes & so that text which looks like an entity shows as typed', () => {
    const text = 'AT&T &#42;不是星号&#42; &lt;b&gt; &nbsp;';
    const card = one({ type: 'fields', fields: [{ label: '说明', value: text }] }, notice('info', text), plainText(text), md(text));
    const contents = markdownTexts(card);
    expect(contents).toHaveLength(4);
    for (const content of contents) {
      expect(content).toContain('AT&#38;T &#38;&#35;42;不是星号&#38;&#35;42; &#38;lt;b&#38;gt; &#38;nbsp;');
      // Every & in the content starts one of our own escapes.
      expect(content.replace(/&#\d+;|&nbsp;/g, '')).not.toContain('&');
    }
    expect(decode(contents[2] ?? '')).toBe(text);
  });

  it('writes leading blanks as &nbsp; so a line never becomes an indented code block or nested list', () => {
    const text = '    缩进四格的说明\n\t制表符开头\n  - 不是列表\n正文';
    const card = one({ type: 'fields', fields: [{ label: '说明', value: text }] }, notice('info', text), plainText(text), md(text));
    const contents = markdownTexts(card);
    expect(contents).toHaveLength(4);
    for (const content of contents) {
      expect(content).not.toMatch(/^[ \t]/m);
      expect(content).not.toMatch(/>[ \t]/); // nor right after a <font> tag
      expect(content).toContain('&nbsp;&nbsp;&nbsp;&nbsp;缩进四格的说明');
      expect(content).toContain('&nbsp;&nbsp;&nbsp;&nbsp;制表符开头');
      expect(content).toContain('&nbsp;&nbsp;&#45; 不是列表');
    }
    expect(contents[2]).toBe('&nbsp;&nbsp;&nbsp;&nbsp;缩进四格的说明\n&nbsp;&nbsp;&nbsp;&nbsp;制表符开头\n&nbsp;&nbsp;&#45; 不是列表\n正文');
  });

  it('renders plain text as fully escaped markdown, and the attack link as one link whose text lvzhi wrote', () => {
    const card = one(plainText('详见[官方文件](https://evil.example/) **急**'), md(`**佐证材料**：${mdLink('佐证1（a.b）', 'https://a.b/x)**[官方文件](https://evil.example/login)')}`));
    const [report, links] = markdownTexts(card);
    expect(report).toBe('详见&#91;官方文件&#93;&#40;https&#58;//evil.example/&#41; &#42;&#42;急&#42;&#42;');
    expect(links).toBe('**佐证材料**：[佐证1（a.b）](https://a.b/x%29%2A%2A%5B官方文件%5D%28https://evil.example/login%29)');
    expect(links?.match(/\]\(/g)).toHaveLength(1);
  });

  it('escapes user text in fields, notices and table fallbacks', () => {
    const text = '<at id=all></at> **不加粗** [x](https://e.cn)';
    const card = one({ type: 'fields', fields: [{ label: '说明', value: text }] }, notice('error', text), { type: 'panel', title: text, elements: [{ type: 'table', columns: [{ key: 'k', label: 'K' }], rows: [{ k: text }] }] });
    for (const content of markdownTexts(card)) {
      expect(content).not.toContain('<at');
      expect(content).not.toContain('**不加粗**');
      expect(content).not.toContain('[x](');
    }
    // Plain-text slots (panel titles) carry the text unchanged.
    expect((((byTag(card, 'collapsible_panel')[0]?.header as J).title as J).content)).toBe(text);
  });
});

// ---------------------------------------------------------------------------- the validator

describe('validateFeishuCard', () => {
  const base = (): FeishuCard => JSON.parse(JSON.stringify(renderFeishuCard(buildSelfEvaluationCard(view())))) as FeishuCard;
  const form = (card: FeishuCard): J => rootElements(card).find((e) => e.tag === 'form') as J;

  it('accepts the rendered card and reports an injected unknown property with its path', () => {
    const card = base();
    expect(validateFeishuCard(card)).toEqual([]);
    ((form(card).elements as J[])[2] as J).colour = 'red';
    expect(validateFeishuCard(card)).toEqual(['$.body.elements[1].elements[2].colour: unknown property "colour"']);
  });

  it('reports unknown properties at the root, in config, header, text objects and behaviours', () => {
    const card = base() as J;
    card.elements = [];
    (card.config as J).wide_mode = true;
    (card.header as J).background = 'blue';
    ((card.header as J).title as J).bold = true;
    const button = byTag(card, 'button')[0] as J;
    ((button.behaviors as J[])[0] as J).url = 'https://x';
    expect(validateFeishuCard(card)).toEqual(expect.arrayContaining([
      '$.elements: unknown property "elements"',
      '$.config.wide_mode: unknown property "wide_mode"',
      '$.header.background: unknown property "background"',
      '$.header.title.bold: unknown property "bold"',
      expect.stringMatching(/behaviors\[0\]\.url: unknown property "url"$/),
    ]));
  });

  it('reports unknown tags, misplaced tags and a missing schema', () => {
    const card = base();
    delete card.schema;
    rootElements(card).push({ tag: 'note', elements: [] }, { tag: 'plain_text', content: 'x' }, { tag: 'column', elements: [] });
    expect(validateFeishuCard(card)).toEqual([
      '$.schema: must be "2.0", got nothing',
      '$.body.elements[2].tag: unknown tag "note"',
      expect.stringMatching(/^\$\.body\.elements\[3\]\.tag: "plain_text" is not allowed here/),
      expect.stringMatching(/^\$\.body\.elements\[4\]\.tag: "column" is not allowed here/),
    ]);
  });

  it('enforces the form rules', () => {
    const card = base();
    const els = form(card).elements as J[];
    const [first, second] = byTag(els, 'input');
    if (!first || !second) throw new Error('fixture');
    second.name = first.name;
    els[els.length - 1] = { tag: 'hr' }; // the row of submit buttons
    els.push({ tag: 'table', columns: [], rows: [] }, { tag: 'form', name: 'inner', elements: [] }, { tag: 'chart', chart_spec: {} });
    expect(validateFeishuCard(card)).toEqual(expect.arrayContaining([
      expect.stringMatching(/\.name: "score_2" is already used at/),
      expect.stringMatching(/^\$\.body\.elements\[1\]\.elements\[\d+\]: table is only allowed at the body root \(found inside form\)$/),
      expect.stringMatching(/^\$\.body\.elements\[1\]\.elements\[\d+\]: form is only allowed at the body root \(found inside form\)$/),
      expect.stringMatching(/: chart is not allowed inside a form$/),
      '$.body.elements[1]: a form needs at least one button with form_action_type "submit"',
    ]));
  });

  it('enforces names and form_action_type on fields and buttons in a form', () => {
    const card = base();
    const inputs = byTag(form(card), 'input');
    delete inputs[0]?.name;
    const buttons = byTag(form(card), 'button');
    delete buttons[0]?.form_action_type;
    expect(validateFeishuCard(card)).toEqual(expect.arrayContaining([
      expect.stringMatching(/\.name: input inside a form needs a non-empty name$/),
      expect.stringMatching(/: a button inside a form needs form_action_type$/),
    ]));
  });

  it('keeps forms out of panels and columns, tables at the root, and at most five tables', () => {
    const table = { tag: 'table', columns: [{ name: 'a', data_type: 'text' }], rows: [] };
    const card: FeishuCard = {
      schema: '2.0',
      body: {
        elements: [
          { tag: 'collapsible_panel', header: { title: { tag: 'plain_text', content: 'p' } }, elements: [{ tag: 'form', name: 'f', elements: [] }] },
          { tag: 'column_set', columns: [{ tag: 'column', elements: [table] }] },
          table, table, table, table, table, table,
        ],
      },
    };
    const errors = validateFeishuCard(card);
    expect(errors).toContain('$.body.elements[0].elements[0]: form is only allowed at the body root (found inside collapsible_panel)');
    expect(errors).toContain('$.body.elements[1].columns[0].elements[0]: table is only allowed at the body root (found inside column_set > column)');
    expect(errors).toContain('$.body.elements[7]: a card holds at most 5 tables');
  });

  it('checks element_id, update_multi, behaviours, limits and JSON-ness', () => {
    const card = base();
    (card.config as J).update_multi = false;
    const els = rootElements(card);
    els.push(
      { tag: 'hr', element_id: '1bad' },
      { tag: 'hr', element_id: 'ok_id' },
      { tag: 'hr', element_id: 'ok_id' },
      { tag: 'button', text: { tag: 'plain_text', content: 'x' }, behaviors: [{ type: 'form_submit' }, { type: 'open_url' }, { type: 'callback', value: { a: 1 } }] },
      { tag: 'chart', chart_spec: { fn: () => 1 } as unknown as J },
    );
    expect(validateFeishuCard(card)).toEqual([
      '$.config.update_multi: false is not one of true',
      '$.body.elements[2].element_id: "1bad" must start with a letter and hold at most 20 letters, digits or underscores',
      '$.body.elements[4].element_id: "ok_id" is already used at $.body.elements[3]',
      '$.body.elements[5].behaviors[0].type: unknown behaviour type "form_submit" (expected "callback" or "open_url")',
      '$.body.elements[5].behaviors[1].default_url: required property is missing',
      '$.body.elements[6].chart_spec.fn: function is not a JSON value',
    ]);
  });

  it('reports cards over 200 components or 30 KB', () => {
    const many = base();
    rootElements(many).push(...Array.from({ length: 200 }, () => ({ tag: 'hr' })));
    expect(validateFeishuCard(many)).toEqual([expect.stringMatching(/^\$: \d+ components, at most 200 allowed$/)]);
    const heavy = base();
    rootElements(heavy).push({ tag: 'markdown', content: '字'.repeat(10240) });
    expect(validateFeishuCard(heavy)).toEqual([expect.stringMatching(/^\$: \d+ bytes of JSON, at most 30720 allowed$/)]);
    expect(measureFeishuCard({ tag: 'a', x: { tag: 'b' }, chart_spec: { tag: 'c' } })).toMatchObject({ components: 2 });
  });

  it('checks documented value ranges', () => {
    const card = base();
    const input = byTag(form(card), 'input')[0] as J;
    input.max_length = 2000;
    input.input_type = 'number';
    const els = rootElements(card);
    els.push(
      { tag: 'column_set', columns: [{ tag: 'column', width: 'weighted', weight: 6, elements: [] }] },
      { tag: 'table', page_size: 20, columns: [], rows: [] },
      { tag: 'date_picker', initial_date: '2026/05/24' },
      { tag: 'select_static', options: [{ text: { tag: 'plain_text', content: 'a' }, value: 'v' }, { text: { tag: 'plain_text', content: 'b' }, value: 'v' }] },
      { tag: 'multi_select_static', options: [] },
      { tag: 'button', text: { tag: 'plain_text', content: '长'.repeat(101) } },
    );
    expect(validateFeishuCard(card)).toEqual(expect.arrayContaining([
      expect.stringMatching(/\.max_length: expected an integer in \[1, 1000\], got 2000$/),
      expect.stringMatching(/\.input_type: "number" is not one of/),
      '$.body.elements[2].columns[0].weight: expected an integer in [1, 5], got 6',
      '$.body.elements[3].page_size: expected an integer in [1, 10], got 20',
      '$.body.elements[4].initial_date: expected a yyyy-MM-dd date, got "2026/05/24"',
      '$.body.elements[5].options[1].value: "v" repeats another option',
      '$.body.elements[6]: multi_select_static is only allowed inside a form',
      '$.body.elements[7].text.content: at most 100 characters',
    ]));
  });
});

describe('English beside Chinese (en_us i18n)', () => {
  it('localises what the builder gave English for, declares both locales, and stays valid', () => {
    const spec: CardSpec = {
      header: { title: '单位自评 · 甲单位', titleEn: 'Self-evaluation · 甲单位', tags: [{ text: '填报中', textEn: 'Filling in' }] },
      elements: [
        { type: 'markdown', text: '请填写', textEn: 'Please fill in' },
        { type: 'notice', tone: 'warning', text: '已退回', textEn: 'Returned' },
        { type: 'form', name: 'f', elements: [{ type: 'input', name: 'x', label: '得分', labelEn: 'Score' }, { type: 'button', label: '提交', labelEn: 'Submit', submit: true, action: { id: 'self-eval.submit', value: { evaluationId: 1, version: 1, rev: 0 } } }] },
      ],
    };
    const card = renderFeishuCard(spec) as J;
    expect(validateFeishuCard(card)).toEqual([]);
    expect((card.config as J).locales).toEqual(['zh_cn', 'en_us']);
    const text = JSON.stringify(card);
    for (const en of ['Self-evaluation · 甲单位', 'Filling in', 'Please fill in', 'Returned', 'Score', 'Submit']) expect(text).toMatch(new RegExp(`"en_us":"[^"]*${en}`));
  });

  it('adds no locales to a card without English', () => {
    const card = renderFeishuCard({ header: { title: '只有中文' }, elements: [{ type: 'markdown', text: '正文' }] }) as J;
    expect((card.config as J).locales).toBeUndefined();
    expect(JSON.stringify(card)).not.toContain('i18n_content');
  });
});
