import { describe, expect, it } from 'vitest';
import type { Actor, RoleGrant } from './roles';
import {
  EVIDENCE_MAX_CHARS,
  MAX_LINKS,
  SCORE_MAX_CHARS,
  withStoredValues,
  REPORT_MAX_CHARS,
  REPORT_MIN_CHARS,
  TEXT_MAX_CHARS,
  decideSelfEvaluation,
  parseReviewForm,
  parseSelfEvaluationForm,
  scoredIndicators,
  totalClaimed,
  type Command,
  type Decision,
  type EvaluationState,
  type EvaluationStatus,
  type FieldError,
  type FormValues,
  type Indicator,
  type Refusal,
} from './self-evaluation';

const ind = (o: Partial<Indicator> & Pick<Indicator, 'id' | 'code'>): Indicator => ({
  parentCode: null,
  level: 1,
  title: `指标${o.code}`,
  maxPoints: 10,
  scoringGuide: '',
  evidence: '',
  evidenceRequired: false,
  explanationRequired: false,
  ...o,
});

/**
 * 1 (大项, 25) → 1.1 (15, explanation + evidence required), 1.2 (10, nothing required);
 * 2 is a top-level leaf (5, explanation required).
 */
const ASPECT = ind({ id: 1, code: '1', maxPoints: 25 });
const A = ind({ id: 2, code: '1.1', parentCode: '1', level: 2, maxPoints: 15, evidence: '工作台账', evidenceRequired: true, explanationRequired: true });
const B = ind({ id: 3, code: '1.2', parentCode: '1', level: 2, maxPoints: 10 });
const C = ind({ id: 4, code: '2', maxPoints: 5, explanationRequired: true });
const INDICATORS = [ASPECT, A, B, C];

const REPORT = '本单位严格按照核准的宗旨和业务范围开展工作，存在的问题已制定整改措施。';

/** A form that is complete for submission. */
const complete = (): Record<string, string | string[]> => ({
  score_2: '12.5',
  expl_2: '对照细则逐项自查',
  evid_2: 'https://oa.example.cn/a.pdf',
  score_3: '10',
  expl_3: '',
  evid_3: '',
  score_4: '0',
  expl_4: '未开展',
  evid_4: '',
  report: REPORT,
});

function errorsOf(form: FormValues, mode: 'draft' | 'submit', indicators: readonly Indicator[] = INDICATORS): FieldError[] {
  const r = parseSelfEvaluationForm(indicators, form, mode);
  if (r.ok) throw new Error(`expected errors, got ${JSON.stringify(r)}`);
  return r.errors;
}

function itemsOf(form: FormValues, mode: 'draft' | 'submit') {
  const r = parseSelfEvaluationForm(INDICATORS, form, mode);
  if (!r.ok) throw new Error(`expected success, got ${JSON.stringify(r.errors)}`);
  return r;
}

const codes = (errors: readonly FieldError[]) => errors.map((e) => `${e.field}:${e.code}`);

describe('parseSelfEvaluationForm', () => {
  it('returns every leaf item in order with parsed scores, trimmed text and split links', () => {
    const r = itemsOf({ ...complete(), expl_2: '  对照细则逐项自查  ', evid_2: 'https://a.example.cn/1\nhttps://b.example.cn/2' }, 'submit');
    expect(r.report).toBe(REPORT);
    expect(r.items).toEqual([
      { indicatorId: 2, claimedScore: 12.5, explanation: '对照细则逐项自查', evidenceLinks: ['https://a.example.cn/1', 'https://b.example.cn/2'] },
      { indicatorId: 3, claimedScore: 10, explanation: '', evidenceLinks: [] },
      { indicatorId: 4, claimedScore: 0, explanation: '未开展', evidenceLinks: [] },
    ]);
  });

  it('accepts an empty draft, with every score null', () => {
    const r = itemsOf({}, 'draft');
    expect(r.report).toBe('');
    expect(r.items.map((i) => [i.indicatorId, i.claimedScore, i.explanation, i.evidenceLinks.length])).toEqual([
      [2, null, '', 0],
      [3, null, '', 0],
      [4, null, '', 0],
    ]);
  });

  it('scores only leaf indicators: a 大项 with children gets no fields and its values are ignored', () => {
    const form = { ...complete(), score_1: 'abc', expl_1: 'x'.repeat(TEXT_MAX_CHARS + 1), evid_1: 'ftp://bad' };
    const r = itemsOf(form, 'submit');
    expect(r.items.map((i) => i.indicatorId)).not.toContain(ASPECT.id);
    const empty = errorsOf({}, 'submit');
    expect(empty.some((e) => e.field.endsWith('_1') || e.indicatorCode === '1')).toBe(false);
  });

  describe('scores (indicator 1.1, max 15)', () => {
    type Row = { raw: string; mode: 'draft' | 'submit'; score?: number | null; error?: FieldError['code']; params?: FieldError['params'] };
    const rows: Row[] = [
      { raw: '0', mode: 'submit', score: 0 },
      { raw: '15', mode: 'submit', score: 15 },
      { raw: '7.5', mode: 'submit', score: 7.5 },
      { raw: '0.5', mode: 'draft', score: 0.5 },
      { raw: ' 8 ', mode: 'submit', score: 8 },
      { raw: '15.5', mode: 'submit', error: 'score_out_of_range', params: { value: '15.5', max: 15 } },
      { raw: '16', mode: 'draft', error: 'score_out_of_range', params: { value: '16', max: 15 } },
      { raw: '-1', mode: 'submit', error: 'score_out_of_range', params: { value: '-1', max: 15 } },
      { raw: '-0.5', mode: 'draft', error: 'score_out_of_range', params: { value: '-0.5', max: 15 } },
      { raw: '7.25', mode: 'submit', error: 'score_precision', params: { value: '7.25' } },
      { raw: '7.1', mode: 'draft', error: 'score_precision', params: { value: '7.1' } },
      { raw: 'abc', mode: 'submit', error: 'score_not_number', params: { value: 'abc' } },
      { raw: '1e1', mode: 'draft', error: 'score_not_number', params: { value: '1e1' } },
      { raw: '7,5', mode: 'draft', error: 'score_not_number', params: { value: '7,5' } },
      { raw: '', mode: 'draft', score: null },
      { raw: '   ', mode: 'draft', score: null },
      { raw: '', mode: 'submit', error: 'score_required' },
    ];

    it.each(rows)('$mode "$raw" → $score$error', ({ raw, mode, score, error, params }) => {
      const form = { ...complete(), score_2: raw };
      const r = parseSelfEvaluationForm(INDICATORS, form, mode);
      if (error === undefined) {
        if (!r.ok) throw new Error(JSON.stringify(r.errors));
        expect(r.items.find((i) => i.indicatorId === 2)?.claimedScore).toBe(score);
      } else {
        expect(r.ok).toBe(false);
        if (r.ok) return;
        expect(r.errors).toEqual([{ field: 'score_2', code: error, indicatorCode: '1.1', ...(params ? { params } : {}) }]);
      }
    });
  });

  describe('explanations', () => {
    it.each([
      { label: 'required, empty, submit', form: { expl_2: '' }, mode: 'submit' as const, expected: ['expl_2:explanation_required'] },
      { label: 'required, blank, submit', form: { expl_2: '   \n ' }, mode: 'submit' as const, expected: ['expl_2:explanation_required'] },
      { label: 'required, empty, draft', form: { expl_2: '' }, mode: 'draft' as const, expected: [] },
      { label: 'not required, empty, submit', form: { expl_3: '' }, mode: 'submit' as const, expected: [] },
      { label: 'top-level leaf required, empty, submit', form: { expl_4: '' }, mode: 'submit' as const, expected: ['expl_4:explanation_required'] },
      { label: 'exactly the limit', form: { expl_3: 'x'.repeat(TEXT_MAX_CHARS) }, mode: 'submit' as const, expected: [] },
      { label: 'over the limit, draft', form: { expl_3: 'x'.repeat(TEXT_MAX_CHARS + 1) }, mode: 'draft' as const, expected: ['expl_3:too_long'] },
    ])('$label → $expected', ({ form, mode, expected }) => {
      const r = parseSelfEvaluationForm(INDICATORS, { ...complete(), ...form }, mode);
      expect(r.ok ? [] : codes(r.errors)).toEqual(expected);
    });
  });

  describe('evidence links', () => {
    it.each([
      { label: 'required, empty, submit', form: { evid_2: '' }, mode: 'submit' as const, expected: ['evid_2:evidence_required'] },
      { label: 'required, empty, draft', form: { evid_2: '' }, mode: 'draft' as const, expected: [] },
      { label: 'not required, empty, submit', form: { evid_3: '' }, mode: 'submit' as const, expected: [] },
      { label: 'not required, given', form: { evid_3: 'http://localhost:8080/x' }, mode: 'submit' as const, expected: [] },
    ])('$label → $expected', ({ form, mode, expected }) => {
      const r = parseSelfEvaluationForm(INDICATORS, { ...complete(), ...form }, mode);
      expect(r.ok ? [] : codes(r.errors)).toEqual(expected);
    });

    it('names the expected evidence in evidence_required', () => {
      expect(errorsOf({ ...complete(), evid_2: '' }, 'submit')).toEqual([
        { field: 'evid_2', code: 'evidence_required', indicatorCode: '1.1', params: { evidence: '工作台账' } },
      ]);
    });

    it.each([
      ['ftp://files.example.cn/a.pdf', 'ftp://files.example.cn/a.pdf'],
      ['javascript:alert(1)', 'javascript:alert(1)'],
      ['www.x.com', 'www.x.com'],
      ['https://nodot', 'https://nodot'],
      ['http://', 'http://'],
      ['mailto:a@example.cn', 'mailto:a@example.cn'],
      ['https://ok.example.cn/1\nftp://x.example.cn', 'ftp://x.example.cn'],
    ])('%j → bad_link naming %j, in draft and submit', (raw, bad) => {
      for (const mode of ['draft', 'submit'] as const) {
        expect(errorsOf({ ...complete(), evid_3: raw }, mode)).toEqual([
          { field: 'evid_3', code: 'bad_link', indicatorCode: '1.2', params: { value: bad } },
        ]);
      }
    });

    it.each(['http://localhost:8080/a', 'https://a.example.cn/x?y=1&z=2', 'HTTPS://X.EXAMPLE.COM/p'])('accepts %s', (link) => {
      const r = itemsOf({ ...complete(), evid_3: link }, 'submit');
      expect(r.items.find((i) => i.indicatorId === 3)?.evidenceLinks).toEqual([link]);
    });

    it('splits links on newlines, commas (half and full width), 、, semicolons and spaces', () => {
      const raw = 'https://a.cn/1\nhttps://b.cn/2,https://c.cn/3、https://d.cn/4，https://e.cn/5 https://f.cn/6；https://g.cn/7\r\n\n';
      const r = itemsOf({ ...complete(), evid_3: raw }, 'submit');
      expect(r.items.find((i) => i.indicatorId === 3)?.evidenceLinks).toEqual(
        ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((h, i) => `https://${h}.cn/${i + 1}`),
      );
    });

    it('joins a multi-valued field before splitting it', () => {
      const r = itemsOf({ ...complete(), evid_3: ['https://a.cn/1', 'https://b.cn/2'] }, 'draft');
      expect(r.items.find((i) => i.indicatorId === 3)?.evidenceLinks).toEqual(['https://a.cn/1', 'https://b.cn/2']);
    });

    it(`allows ${MAX_LINKS} links and refuses one more with too_many_links`, () => {
      const links = (n: number) => Array.from({ length: n }, (_, i) => `https://x.cn/${i}`).join('\n');
      expect(itemsOf({ ...complete(), evid_3: links(MAX_LINKS) }, 'submit').items.find((i) => i.indicatorId === 3)?.evidenceLinks).toHaveLength(MAX_LINKS);
      expect(errorsOf({ ...complete(), evid_3: links(MAX_LINKS + 1) }, 'draft')).toEqual([
        { field: 'evid_3', code: 'too_many_links', indicatorCode: '1.2', params: { max: MAX_LINKS } },
      ]);
    });
  });

  describe('free text as typed', () => {
    it('strips a NUL (libSQL drops what follows it) and other controls, keeping the text after', () => {
      const r = itemsOf({ ...complete(), expl_3: '前半句\u0000后半句\u0007。', report: `${REPORT}\u0000补充说明` }, 'submit');
      expect(r.items.find((i) => i.indicatorId === 3)?.explanation).toBe('前半句后半句。');
      expect(r.report).toBe(`${REPORT}补充说明`);
    });

    it('counts characters, not UTF-16 units: an emoji is one character', () => {
      const emoji = '😀';
      expect(itemsOf({ ...complete(), expl_3: emoji.repeat(TEXT_MAX_CHARS) }, 'submit').items.find((i) => i.indicatorId === 3)?.explanation).toHaveLength(TEXT_MAX_CHARS * 2);
      expect(errorsOf({ ...complete(), expl_3: emoji.repeat(TEXT_MAX_CHARS + 1) }, 'draft')).toEqual([
        { field: 'expl_3', code: 'too_long', indicatorCode: '1.2', params: { max: TEXT_MAX_CHARS, count: TEXT_MAX_CHARS + 1 } },
      ]);
      // The report's minimum counts characters too: 20 emoji are 20 characters.
      expect(parseSelfEvaluationForm(INDICATORS, { ...complete(), report: emoji.repeat(20) }, 'submit').ok).toBe(true);
      expect(errorsOf({ ...complete(), report: emoji.repeat(10) + '字' }, 'submit').map((e) => e.code)).toEqual(['report_required']);
    });

    it('quotes a refused score in the message at most SCORE_MAX_CHARS long', () => {
      const [e] = errorsOf({ ...complete(), score_3: 'x'.repeat(1_000_000) }, 'draft');
      expect(e?.code).toBe('score_not_number');
      expect([...String(e?.params?.value)].length).toBe(SCORE_MAX_CHARS);
    });
  });

  describe('evidence links that would break a rendered link', () => {
    const ATTACK = 'https://a.b/x)**[官方文件](https://evil.example/login)';

    it('stores the attack from the outsider run as one link to a.b, its breaking characters percent-encoded', () => {
      const r = itemsOf({ ...complete(), evid_3: ATTACK }, 'submit');
      expect(r.items.find((i) => i.indicatorId === 3)?.evidenceLinks).toEqual(['https://a.b/x%29%2A%2A%5B官方文件%5D%28https://evil.example/login%29']);
    });

    it.each(['https://www.gov.cn@evil.example/x', 'https://a(b).example.cn/', 'https://[::1]/'])('refuses %s (credentials, a host that is not a name)', (raw) => {
      expect(errorsOf({ ...complete(), evid_3: raw }, 'draft')).toEqual([{ field: 'evid_3', code: 'bad_link', indicatorCode: '1.2', params: { value: raw } }]);
    });

    it('quotes a refused link in the message at most 60 characters long', () => {
      const [e] = errorsOf({ ...complete(), evid_3: `ftp://${'x'.repeat(4000)}` }, 'draft');
      expect(e?.code).toBe('bad_link');
      expect([...String(e?.params?.value)].length).toBe(60);
    });

    it(`refuses an evidence field over ${EVIDENCE_MAX_CHARS} characters before reading its links`, () => {
      const long = `https://a.example.cn/${'x'.repeat(EVIDENCE_MAX_CHARS)}`;
      expect(errorsOf({ ...complete(), evid_3: long }, 'draft')).toEqual([
        { field: 'evid_3', code: 'too_long', indicatorCode: '1.2', params: { max: EVIDENCE_MAX_CHARS, count: long.length } },
      ]);
    });
  });

  describe('report', () => {
    it.each([
      { label: `${REPORT_MIN_CHARS - 1} chars, submit`, report: '字'.repeat(REPORT_MIN_CHARS - 1), mode: 'submit' as const, expected: ['report:report_required'] },
      { label: 'blank, submit', report: ' '.repeat(REPORT_MIN_CHARS + 5), mode: 'submit' as const, expected: ['report:report_required'] },
      { label: `${REPORT_MIN_CHARS} chars, submit`, report: '字'.repeat(REPORT_MIN_CHARS), mode: 'submit' as const, expected: [] },
      { label: 'short, draft', report: '草稿', mode: 'draft' as const, expected: [] },
      { label: 'over the maximum, draft', report: '字'.repeat(REPORT_MAX_CHARS + 1), mode: 'draft' as const, expected: ['report:too_long'] },
    ])('$label → $expected', ({ report, mode, expected }) => {
      const r = parseSelfEvaluationForm(INDICATORS, { ...complete(), report }, mode);
      expect(r.ok ? [] : codes(r.errors)).toEqual(expected);
    });

    it('reports the minimum length as a parameter', () => {
      expect(errorsOf({ ...complete(), report: '太短' }, 'submit')).toEqual([{ field: 'report', code: 'report_required', params: { min: REPORT_MIN_CHARS } }]);
    });
  });

  it('collects every error at once on an empty submission', () => {
    expect(codes(errorsOf({}, 'submit')).sort()).toEqual(
      [
        'score_2:score_required', 'expl_2:explanation_required', 'evid_2:evidence_required',
        'score_3:score_required',
        'score_4:score_required', 'expl_4:explanation_required',
        'report:report_required',
      ].sort(),
    );
  });

  it('collects several invalid values in a draft, not just the first', () => {
    const errors = errorsOf({ score_2: 'abc', evid_2: 'www.x.com', score_3: '10.25', score_4: '6' }, 'draft');
    expect(codes(errors)).toEqual(['score_2:score_not_number', 'evid_2:bad_link', 'score_3:score_precision', 'score_4:score_out_of_range']);
  });
});

describe('parseReviewForm', () => {
  it.each([
    { label: 'return with nothing', form: {}, decision: 'return' as const, errors: ['comment:comment_required'] },
    { label: 'return with blank comments', form: { comment: '   ', cmt_2: '\n' }, decision: 'return' as const, errors: ['comment:comment_required'] },
    { label: 'return with a comment on the 大项 only', form: { cmt_1: '整体偏高' }, decision: 'return' as const, errors: ['comment:comment_required'] },
    { label: 'return with an overall comment', form: { comment: '请补充佐证' }, decision: 'return' as const, errors: [] },
    { label: 'return with one item comment', form: { cmt_3: '佐证不足' }, decision: 'return' as const, errors: [] },
    { label: 'accept with nothing', form: {}, decision: 'accept' as const, errors: [] },
    { label: 'accept with an over-long comment', form: { comment: 'x'.repeat(TEXT_MAX_CHARS + 1) }, decision: 'accept' as const, errors: ['comment:too_long'] },
    { label: 'return with an over-long item comment', form: { cmt_4: 'x'.repeat(TEXT_MAX_CHARS + 1) }, decision: 'return' as const, errors: ['cmt_4:too_long', 'comment:comment_required'] },
  ])('$label → $errors', ({ form, decision, errors }) => {
    const r = parseReviewForm(INDICATORS, form, decision);
    expect(r.ok ? [] : codes(r.errors)).toEqual(errors);
  });

  it('for the unit head reads the comment alone, which a return needs', () => {
    const head = (form: FormValues, decision: 'accept' | 'return') => parseReviewForm(INDICATORS, form, decision, 'head');
    const refused = head({ cmt_3: '佐证不足' }, 'return');
    expect(refused.ok ? [] : codes(refused.errors)).toEqual(['comment:head_comment_required']);
    expect(head({ comment: '请核对得分', cmt_3: '不读' }, 'return')).toEqual({ ok: true, comment: '请核对得分', itemComments: {} });
    expect(head({}, 'accept')).toEqual({ ok: true, comment: '', itemComments: {} });
  });

  it('returns the trimmed comment and item comments keyed by indicator code', () => {
    const r = parseReviewForm(INDICATORS, { comment: ' 总体较好 ', cmt_2: ' 扣分依据不足 ', cmt_3: '', cmt_4: '请补充' }, 'return');
    expect(r).toEqual({ ok: true, comment: '总体较好', itemComments: { '1.1': '扣分依据不足', '2': '请补充' } });
  });
});

describe('decideSelfEvaluation', () => {
  const CAMPAIGN = 1;
  const UNIT = 10;
  const grant = (role: RoleGrant['role'], unitId: number | null, campaignId: number | null): RoleGrant => ({ role, unitId, campaignId });
  const actor = (...roles: RoleGrant[]): Actor => ({ personId: 99, name: '张三', roles });

  const state = (status: EvaluationStatus, o: Partial<EvaluationState> = {}): EvaluationState => ({
    id: 5, campaignId: CAMPAIGN, unitId: UNIT, status, currentVersion: 3, revision: 7, stageOpen: true, ...o,
  });
  const CARD = { version: 3, rev: 7 };

  const filler = actor(grant('filler', UNIT, CAMPAIGN));
  const head = actor(grant('unit_head', UNIT, CAMPAIGN));
  const evaluator = actor(grant('evaluator', null, CAMPAIGN));
  const rightActor: Record<Command['kind'], Actor> = { save: filler, submit: filler, sign: head, head_return: head, accept: evaluator, return: evaluator };

  const COMMANDS: Command['kind'][] = ['save', 'submit', 'sign', 'head_return', 'accept', 'return'];
  const STATUSES: EvaluationStatus[] = ['draft', 'submitted', 'signed', 'accepted'];

  /** What the right actor gets, per command and status: 'ok' or the refusal. */
  const EXPECTED: Record<Command['kind'], Record<EvaluationStatus, 'ok' | Refusal>> = {
    save: { draft: 'ok', submitted: 'already_submitted', signed: 'already_signed', accepted: 'already_accepted' },
    submit: { draft: 'ok', submitted: 'already_submitted', signed: 'already_signed', accepted: 'already_accepted' },
    sign: { draft: 'not_submitted', submitted: 'ok', signed: 'already_signed', accepted: 'already_accepted' },
    head_return: { draft: 'not_submitted', submitted: 'ok', signed: 'already_signed', accepted: 'already_accepted' },
    accept: { draft: 'not_signed', submitted: 'not_signed', signed: 'ok', accepted: 'already_accepted' },
    return: { draft: 'not_signed', submitted: 'not_signed', signed: 'ok', accepted: 'already_accepted' },
  };

  const DECISIONS: Record<Command['kind'], Decision> = {
    save: { status: 'draft', currentVersion: 3, versionStatus: 'draft', opensNextVersion: false, effects: [], auditAction: 'self_eval.save_draft' },
    submit: { status: 'submitted', currentVersion: 3, versionStatus: 'submitted', opensNextVersion: false, effects: [{ type: 'card_to_heads', card: 'sign' }], auditAction: 'self_eval.submit' },
    sign: {
      status: 'signed', currentVersion: 3, versionStatus: 'signed', opensNextVersion: false,
      effects: [{ type: 'card_to_evaluators', card: 'review' }, { type: 'card_to_fillers', card: 'signed' }], auditAction: 'self_eval.sign',
    },
    head_return: { status: 'draft', currentVersion: 4, versionStatus: 'returned', opensNextVersion: true, effects: [{ type: 'card_to_fillers', card: 'fill' }], auditAction: 'self_eval.head_return' },
    accept: {
      status: 'accepted', currentVersion: 3, versionStatus: 'accepted', opensNextVersion: false,
      effects: [{ type: 'card_to_fillers', card: 'accepted' }, { type: 'card_to_heads', card: 'accepted' }], auditAction: 'self_eval.accept',
    },
    return: { status: 'draft', currentVersion: 4, versionStatus: 'returned', opensNextVersion: true, effects: [{ type: 'card_to_fillers', card: 'fill' }], auditAction: 'self_eval.return' },
  };

  const matrix = COMMANDS.flatMap((kind) => STATUSES.map((status) => ({ kind, status, expected: EXPECTED[kind][status] })));

  it.each(matrix)('$kind on $status by the right role → $expected', ({ kind, status, expected }) => {
    const r = decideSelfEvaluation(state(status), rightActor[kind], { kind }, CARD);
    if (expected === 'ok') expect(r).toEqual({ ok: true, decision: DECISIONS[kind] });
    else expect(r).toEqual({ ok: false, refusal: expected });
  });

  const wrongActors: Array<{ who: string; actor: Actor; kinds: Command['kind'][] }> = [
    { who: 'nobody', actor: actor(), kinds: COMMANDS },
    { who: 'a leader', actor: actor(grant('leader', null, null)), kinds: COMMANDS },
    { who: 'a dept reviewer of the unit', actor: actor(grant('dept_reviewer', UNIT, CAMPAIGN)), kinds: COMMANDS },
    { who: 'the filler', actor: filler, kinds: ['sign', 'head_return', 'accept', 'return'] },
    { who: 'the head', actor: head, kinds: ['save', 'submit', 'accept', 'return'] },
    { who: 'the evaluator', actor: evaluator, kinds: ['save', 'submit', 'sign', 'head_return'] },
    { who: 'a filler of another unit', actor: actor(grant('filler', 11, CAMPAIGN)), kinds: ['save', 'submit'] },
    { who: 'a filler with no unit', actor: actor(grant('filler', null, CAMPAIGN)), kinds: ['save', 'submit'] },
    { who: 'a head of another unit', actor: actor(grant('unit_head', 11, CAMPAIGN)), kinds: ['sign', 'head_return'] },
    { who: 'a filler granted for another campaign', actor: actor(grant('filler', UNIT, 2)), kinds: ['save', 'submit'] },
    { who: 'a head granted for another campaign', actor: actor(grant('unit_head', UNIT, 2)), kinds: ['sign', 'head_return'] },
    { who: 'an evaluator granted for another campaign', actor: actor(grant('evaluator', null, 2)), kinds: ['accept', 'return'] },
  ];

  it.each(wrongActors.flatMap((w) => w.kinds.flatMap((kind) => STATUSES.map((status) => ({ ...w, kind, status })))))(
    '$kind on $status by $who → forbidden (before any state refusal)',
    ({ actor: a, kind, status }) => {
      expect(decideSelfEvaluation(state(status), a, { kind }, CARD)).toEqual({ ok: false, refusal: 'forbidden' });
      // Forbidden also wins over a stale card and a closed stage.
      expect(decideSelfEvaluation(state(status, { stageOpen: false }), a, { kind }, { version: 1, rev: 0 })).toEqual({ ok: false, refusal: 'forbidden' });
    },
  );

  it.each([
    { who: 'filler', kind: 'submit' as const, status: 'draft' as const, a: actor(grant('filler', UNIT, null)) },
    { who: 'head', kind: 'sign' as const, status: 'submitted' as const, a: actor(grant('unit_head', UNIT, null)) },
    { who: 'evaluator', kind: 'accept' as const, status: 'signed' as const, a: actor(grant('evaluator', null, null)) },
    { who: 'evaluator with a unit', kind: 'return' as const, status: 'signed' as const, a: actor(grant('evaluator', 77, CAMPAIGN)) },
    { who: 'filler among other grants', kind: 'save' as const, status: 'draft' as const, a: actor(grant('leader', null, null), grant('filler', 11, CAMPAIGN), grant('filler', UNIT, CAMPAIGN)) },
  ])('a $who grant with campaignId null or for this campaign applies ($kind)', ({ kind, status, a }) => {
    expect(decideSelfEvaluation(state(status), a, { kind }, CARD)).toEqual({ ok: true, decision: DECISIONS[kind] });
  });

  it.each(
    COMMANDS.flatMap((kind) => [
      { kind, card: { version: 2, rev: 7 } },
      { kind, card: { version: 4, rev: 7 } },
      { kind, card: { version: 3, rev: 6 } },
      { kind, card: { version: 3, rev: 8 } },
    ]),
  )('$kind from a card built on $card (state v3 rev7) → stale_version', ({ kind, card }) => {
    const status = (Object.keys(EXPECTED[kind]) as EvaluationStatus[]).find((s) => EXPECTED[kind][s] === 'ok') as EvaluationStatus;
    expect(decideSelfEvaluation(state(status), rightActor[kind], { kind }, card)).toEqual({ ok: false, refusal: 'stale_version' });
  });

  it.each([
    { kind: 'save' as const, status: 'draft' as const, expected: 'stage_closed' },
    { kind: 'submit' as const, status: 'draft' as const, expected: 'stage_closed' },
    { kind: 'sign' as const, status: 'submitted' as const, expected: 'ok' },
    { kind: 'head_return' as const, status: 'submitted' as const, expected: 'ok' },
    { kind: 'accept' as const, status: 'signed' as const, expected: 'ok' },
    { kind: 'return' as const, status: 'signed' as const, expected: 'ok' },
  ])('$kind on $status with the stage closed → $expected', ({ kind, status, expected }) => {
    const r = decideSelfEvaluation(state(status, { stageOpen: false }), rightActor[kind], { kind }, CARD);
    if (expected === 'ok') expect(r).toEqual({ ok: true, decision: DECISIONS[kind] });
    else expect(r).toEqual({ ok: false, refusal: expected });
  });

  it('a return opens the version after the current one, whatever it is', () => {
    for (const v of [1, 2, 9]) {
      const r = decideSelfEvaluation(state('signed', { currentVersion: v, revision: 0 }), evaluator, { kind: 'return' }, { version: v, rev: 0 });
      expect(r.ok && r.decision.currentVersion).toBe(v + 1);
      const h = decideSelfEvaluation(state('submitted', { currentVersion: v, revision: 0 }), head, { kind: 'head_return' }, { version: v, rev: 0 });
      expect(h.ok && h.decision.currentVersion).toBe(v + 1);
    }
  });
});

describe('totalClaimed', () => {
  it.each([
    { items: [], total: 0 },
    { items: [{ claimedScore: null }, { claimedScore: null }], total: 0 },
    { items: [{ claimedScore: 7.5 }, { claimedScore: null }, { claimedScore: 2.5 }, { claimedScore: 10 }], total: 20 },
    { items: [{ claimedScore: 0 }, { claimedScore: 0.5 }], total: 0.5 },
  ])('$items → $total', ({ items, total }) => {
    expect(totalClaimed(items)).toBe(total);
  });
});

describe('scoredIndicators', () => {
  it('keeps only leaves, in their order', () => {
    expect(scoredIndicators(INDICATORS).map((i) => i.code)).toEqual(['1.1', '1.2', '2']);
  });

  it('drops every level that has children in a three-level tree', () => {
    const tree = [
      ind({ id: 1, code: '1' }),
      ind({ id: 2, code: '1.1', parentCode: '1', level: 2 }),
      ind({ id: 3, code: '1.1.1', parentCode: '1.1', level: 3 }),
      ind({ id: 4, code: '1.1.2', parentCode: '1.1', level: 3 }),
      ind({ id: 5, code: '1.2', parentCode: '1', level: 2 }),
    ];
    expect(scoredIndicators(tree).map((i) => i.code)).toEqual(['1.1.1', '1.1.2', '1.2']);
  });

  it('keeps a flat list whole and an empty list empty', () => {
    const flat = [ind({ id: 1, code: 'a' }), ind({ id: 2, code: 'b' })];
    expect(scoredIndicators(flat)).toEqual(flat);
    expect(scoredIndicators([])).toEqual([]);
  });
});

describe('withStoredValues (a form that arrives in parts)', () => {
  const inds: Indicator[] = [
    { id: 1, code: '1', parentCode: null, level: 1, title: '大项', maxPoints: 20, scoringGuide: '', evidence: '', evidenceRequired: false, explanationRequired: true },
    { id: 2, code: '1.1', parentCode: '1', level: 2, title: 'a', maxPoints: 10, scoringGuide: '', evidence: '', evidenceRequired: false, explanationRequired: true },
    { id: 3, code: '1.2', parentCode: '1', level: 2, title: 'b', maxPoints: 10, scoringGuide: '', evidence: '', evidenceRequired: false, explanationRequired: true },
  ];
  const stored = { items: [{ indicatorId: 3, claimedScore: 7.5, explanation: '已说明', evidenceLinks: ['https://a.example.cn/1', 'https://a.example.cn/2'] }], report: '旧报告' };

  it('fills only the fields that are absent, keeping what was sent, even when empty', () => {
    const merged = withStoredValues(inds, { score_2: '9', expl_2: '', evid_3: '' }, stored);
    expect(merged).toMatchObject({ score_2: '9', expl_2: '', score_3: '7.5', expl_3: '已说明', evid_3: '', report: '旧报告' });
    expect(merged.score_1).toBeUndefined();
  });

  it('lets a part of the form be submitted when the other part is already stored', () => {
    const full = { items: [...stored.items], report: '本单位自评报告内容已经按照要求完整填写完毕。' };
    const merged = withStoredValues(inds, { score_2: '9', expl_2: '说明', evid_2: '' }, full);
    const r = parseSelfEvaluationForm(inds, merged, 'submit');
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.items.map((i) => i.claimedScore)).toEqual([9, 7.5]);
  });
});
