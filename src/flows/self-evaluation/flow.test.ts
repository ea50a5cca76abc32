/** The whole 自评 flow at HTTP level through app.request(), on a temporary libSQL file. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { auditLog, indicators, scores, selfEvaluations } from '../../../db/schema';
import { loadGradingInput } from '../../store/grading.repo';
import { walk, type CardSpec } from '../../../cards/kit';
import { actionOf, createHarness, fieldErrors } from '../../test/harness';
import { auditTrail } from '../../store/audit.repo';
import { listVersions } from '../../store/self-evaluation.repo';
import { buildDeps } from '../../deps';
import { createBot } from '../../bot/router';
import { registerFlows } from '..';

type H = Awaited<ReturnType<typeof createHarness>>;

const MOBILE = { cdcFiller: '13800000001', cdcHead: '13800000002', libFiller: '13800000003', evaluator: '13800000013', leader: '13800000014' };

function inputNames(card: CardSpec): string[] {
  const names: string[] = [];
  for (const el of walk(card.elements)) if (el.type === 'input') names.push(el.name);
  return names;
}

/** A complete, valid self-evaluation form for the card's indicators (claims 8 points each). */
function validForm(card: CardSpec): Record<string, string> {
  const form: Record<string, string> = {};
  for (const name of inputNames(card)) {
    if (name.startsWith('score_')) form[name] = '8';
    else if (name.startsWith('expl_')) form[name] = '对照评分细则逐项自查，相关工作均已落实。';
    else if (name.startsWith('evid_')) form[name] = 'https://oa.example.gov.cn/files/evidence-1.pdf';
    else if (name === 'report') form[name] = '本单位严格按照核准的宗旨和业务范围开展工作，机构编制和法人登记管理规范，存在的问题已制定整改措施。';
  }
  return form;
}

async function latest(h: H, personId: number, subjectPart: string) {
  const msgs = await h.messages(personId);
  const m = [...msgs].reverse().find((x) => x.subject.includes(subjectPart));
  if (!m) throw new Error(`person ${personId} has no card about ${subjectPart}; has ${msgs.map((x) => x.subject).join(', ')}`);
  return m;
}

describe('self-evaluation flow over HTTP', () => {
  let h: H;
  let ids: Record<keyof typeof MOBILE, number>;

  beforeEach(async () => {
    h = await createHarness();
    ids = Object.fromEntries(await Promise.all(Object.entries(MOBILE).map(async ([k, m]) => [k, (await h.personByMobile(m)).id]))) as typeof ids;
  });
  afterEach(async () => h.close());

  async function openStage() {
    const consoleCard = (await latest(h, ids.evaluator, 'console')).card;
    return h.act(ids.evaluator, actionOf(consoleCard, 'campaign.open-self-eval'), { due: '2026-12-31' });
  }

  it('opens the stage only for the evaluator and with a future deadline', async () => {
    const consoleMsg = await latest(h, ids.evaluator, 'console');
    const open = actionOf(consoleMsg.card, 'campaign.open-self-eval');

    const byFiller = await h.act(ids.cdcFiller, open, { due: '2026-12-31' });
    expect(byFiller.toast).toEqual({ type: 'error', text: expect.stringContaining('无权限') });
    const past = await h.act(ids.evaluator, open, { due: '2026-11-01' });
    expect(past.toast?.text).toContain('截止日期必须晚于今天');
    const bad = await h.act(ids.evaluator, open, { due: '2026-02-30' });
    expect(bad.toast?.text).toContain('截止日期格式不正确');
    expect(await h.messages(ids.cdcFiller)).toHaveLength(0);

    const ok = await h.act(ids.evaluator, open, { due: '2026-12-31' }, { messageId: consoleMsg.id });
    expect(ok.toast).toEqual({ type: 'success', text: expect.stringContaining('6 个单位') });
    const fill = await latest(h, ids.cdcFiller, ':fill');
    expect(fill.card.header.title).toBe('单位自评 · 县疾病预防控制中心');
    expect(inputNames(fill.card).filter((n) => n.startsWith('score_'))).toHaveLength(9);
    // The evaluator's console now shows progress instead of the start form.
    const refreshed = (await latest(h, ids.evaluator, 'console')).card;
    expect([...walk(refreshed.elements)].some((e) => e.type === 'table')).toBe(true);

    const again = await h.act(ids.evaluator, open, { due: '2026-12-31' });
    expect(again.toast?.text).toContain('无需重复启动');
    expect((await h.messages(ids.cdcFiller)).filter((m) => m.subject.includes(':fill'))).toHaveLength(1);
  });

  it('runs submit → 签发 → return → version 2 → accept, keeping every version', async () => {
    await openStage();
    const fill1 = await latest(h, ids.cdcFiller, ':fill');
    const form = validForm(fill1.card);
    const scoreFields = Object.keys(form).filter((k) => k.startsWith('score_'));
    const [firstScore, secondScore] = scoreFields as [string, string];

    // Save a partial draft: what is filled is kept, the rest may stay empty.
    const save = await h.act(ids.cdcFiller, actionOf(fill1.card, 'self-eval.save'), { [firstScore]: '12', report: '草稿' }, { messageId: fill1.id });
    expect(save.toast?.type).toBe('success');
    const afterSave = await latest(h, ids.cdcFiller, ':fill');
    expect(afterSave.id).toBe(fill1.id); // the same message, updated in place
    const saved = [...walk(afterSave.card.elements)].find((e) => e.type === 'input' && e.name === firstScore);
    expect(saved).toMatchObject({ value: '12' });

    // Submit the whole form from the refreshed card.
    const submit = await h.act(ids.cdcFiller, actionOf(afterSave.card, 'self-eval.submit'), form, { messageId: fill1.id });
    expect(submit.toast).toEqual({ type: 'success', text: '已提交，等待单位负责人签发' });
    expect(buttonsCount(submit.card!)).toBe(0);

    const sign = await latest(h, ids.cdcHead, ':sign');
    const signed = await h.act(ids.cdcHead, actionOf(sign.card, 'self-eval.sign'), {}, { messageId: sign.id });
    expect(signed.toast?.text).toContain('已签发');
    const filler = await h.messages(ids.cdcFiller);
    expect(filler.some((m) => m.subject.endsWith(':notice') && JSON.stringify(m.card).includes('已由单位负责人签发'))).toBe(true);

    // The evaluator returns it with a comment on one indicator.
    const review = await latest(h, ids.evaluator, ':review');
    const indicatorId = firstScore.slice('score_'.length);
    const returned = await h.act(ids.evaluator, actionOf(review.card, 'self-eval.return'), { [`cmt_${indicatorId}`]: '佐证材料与业务台账不一致，请补充' }, { messageId: review.id });
    expect(returned.toast?.text).toContain('已退回单位修改');

    const fill2 = await latest(h, ids.cdcFiller, ':v2:fill');
    expect(fill2.id).not.toBe(fill1.id);
    expect(fill2.card.header.tags?.map((t) => t.text)).toContain('第2版');
    expect(JSON.stringify(fill2.card)).toContain('佐证材料与业务台账不一致，请补充');
    // Version 2 starts from version 1's answers.
    const prefilled = [...walk(fill2.card.elements)].find((e) => e.type === 'input' && e.name === secondScore);
    expect(prefilled).toMatchObject({ value: '8' });

    const resubmit = await h.act(ids.cdcFiller, actionOf(fill2.card, 'self-eval.submit'), { ...form, [firstScore]: '10' }, { messageId: fill2.id });
    expect(resubmit.toast?.type).toBe('success');
    const sign2 = await latest(h, ids.cdcHead, ':v2:sign');
    await h.act(ids.cdcHead, actionOf(sign2.card, 'self-eval.sign'), {});
    const review2 = await latest(h, ids.evaluator, ':v2:review');
    const accepted = await h.act(ids.evaluator, actionOf(review2.card, 'self-eval.accept'), { comment: '符合要求' }, { messageId: review2.id });
    expect(accepted.toast).toEqual({ type: 'success', text: '审核通过' });

    const [ev] = await h.db.select().from(selfEvaluations).where(eq(selfEvaluations.id, Number(actionOf(fill1.card, 'self-eval.submit').value.evaluationId)));
    expect(ev).toMatchObject({ status: 'accepted', currentVersion: 2 });
    const versions = await listVersions(h.db, ev!.id);
    expect(versions.map((v) => [v.version, v.status])).toEqual([[1, 'returned'], [2, 'accepted']]);
    expect(versions[0]!.items.find((i) => String(i.indicatorId) === indicatorId)?.claimedScore).toBe(8);
    expect(versions[1]!.items.find((i) => String(i.indicatorId) === indicatorId)?.claimedScore).toBe(10);

    // The accepted version's claimed scores are now the scheme's 单位自评 (self) rater group's
    // scores, on the leaves that group rates, and the engine reads them.
    const selfScores = await h.db.select().from(scores).where(and(eq(scores.unitId, ev!.unitId), eq(scores.raterGroup, 'self')));
    const leafCode = (await h.db.select({ code: indicators.code }).from(indicators).where(eq(indicators.id, Number(indicatorId))))[0]!.code;
    expect(selfScores.find((r) => r.indicatorCode === leafCode)?.score).toBe(10);
    expect(selfScores.every((r) => r.raterKey === `s${ev!.id}` && r.enteredBy === ids.evaluator)).toBe(true);
    const graded = await loadGradingInput(h.db, ev!.campaignId);
    expect(graded!.input.units.find((u) => u.unitId === ev!.unitId)!.scores.self?.[leafCode]).toEqual([10]);

    const trail = await auditTrail(h.db, 'self_evaluation', ev!.id);
    expect(trail.map((t) => t.action)).toEqual([
      'self_eval.save_draft', 'self_eval.submit', 'self_eval.sign', 'self_eval.return', 'self_eval.submit', 'self_eval.sign', 'scores.from_self_evaluation', 'self_eval.accept',
    ]);
    expect(trail.every((t) => t.actorId !== null)).toBe(true);
    await expect(h.db.update(auditLog).set({ action: 'tampered' })).rejects.toThrow();
  });

  it('refuses bad input with messages on the card and stores nothing', async () => {
    await openStage();
    const fill = await latest(h, ids.cdcFiller, ':fill');
    const form = validForm(fill.card);
    const [s1, s2] = Object.keys(form).filter((k) => k.startsWith('score_')) as [string, string];
    const e1 = s1.replace('score_', 'expl_');
    const v2 = s2.replace('score_', 'evid_');
    const bad = { ...form, [s1]: '16', [s2]: 'abc', [e1]: '', [v2]: 'ftp://files/x.pdf' };

    const reply = await h.act(ids.cdcFiller, actionOf(fill.card, 'self-eval.submit'), bad, { messageId: fill.id });
    expect(reply.toast?.type).toBe('error');
    const errors = fieldErrors(reply.card!);
    expect(errors[s1]).toBe('自评得分「16」超出范围，应在 0 至 15 分之间');
    expect(errors[s2]).toBe('自评得分「abc」不是有效数字');
    expect(errors[e1]).toBe('请填写得分说明');
    expect(errors[v2]).toContain('链接「ftp://files/x.pdf」无效');
    // What was typed is echoed back, so nothing is lost.
    expect([...walk(reply.card!.elements)].find((e) => e.type === 'input' && e.name === s1)).toMatchObject({ value: '16' });

    const [ev] = await h.db.select().from(selfEvaluations).where(eq(selfEvaluations.id, Number(actionOf(fill.card, 'self-eval.submit').value.evaluationId)));
    expect(ev).toMatchObject({ status: 'draft', revision: 0 });
    const [v1] = await listVersions(h.db, ev!.id);
    expect(v1!.items).toHaveLength(0);
    expect(await auditTrail(h.db, 'self_evaluation', ev!.id)).toHaveLength(0);
    expect((await h.messages(ids.cdcHead)).length).toBe(0);
  });

  it('keeps the text after a NUL, and stores a refused megabyte\'s card cut to the field\'s maximum', async () => {
    await openStage();
    const fill = await latest(h, ids.cdcFiller, ':fill');
    const expl = Object.keys(validForm(fill.card)).find((k) => k.startsWith('expl_'))!;
    const evaluationId = Number(actionOf(fill.card, 'self-eval.save').value.evaluationId);

    // libSQL would drop everything after a U+0000: it is stripped when the form is read.
    const saved = await h.act(ids.cdcFiller, actionOf(fill.card, 'self-eval.save'), { [expl]: '前半句\u0000后半句😀' }, { messageId: fill.id });
    expect(saved.toast?.type).toBe('success');
    const [v1] = await listVersions(h.db, evaluationId);
    expect(v1!.items.find((i) => `expl_${i.indicatorId}` === expl)?.explanation).toBe('前半句后半句😀');

    // A refused megabyte comes back in the card, and into messages.card, cut to 2,000 characters.
    const afterSave = await latest(h, ids.cdcFiller, ':fill');
    const refused = await h.act(ids.cdcFiller, actionOf(afterSave.card, 'self-eval.save'), { [expl]: 'x'.repeat(1_000_000) }, { messageId: fill.id });
    expect(refused.toast?.type).toBe('error');
    expect(fieldErrors(refused.card!)[expl]).toContain('最多 2000 字');
    const stored = await latest(h, ids.cdcFiller, ':fill');
    expect(stored.id).toBe(fill.id);
    expect([...walk(stored.card.elements)].find((e) => e.type === 'input' && e.name === expl)).toMatchObject({ value: 'x'.repeat(2000) });
    expect(JSON.stringify(stored.card).length).toBeLessThan(50_000);
    const [still] = await listVersions(h.db, evaluationId);
    expect(still!.items.find((i) => `expl_${i.indicatorId}` === expl)?.explanation).toBe('前半句后半句😀');
  });

  it('asks the unit head for the one comment the 签发 card offers before a return', async () => {
    await openStage();
    const fill = await latest(h, ids.cdcFiller, ':fill');
    await h.act(ids.cdcFiller, actionOf(fill.card, 'self-eval.submit'), validForm(fill.card));
    const sign = await latest(h, ids.cdcHead, ':sign');
    const back = actionOf(sign.card, 'self-eval.head-return');
    const refused = await h.act(ids.cdcHead, back, { comment: '  ' }, { messageId: sign.id });
    expect(refused.toast?.type).toBe('error');
    expect(JSON.stringify(refused.card)).toContain('退回修改时，请填写意见，说明需要填报员修改的内容');
    const returned = await h.act(ids.cdcHead, back, { comment: '请核对第一项得分' }, { messageId: sign.id });
    expect(returned.toast).toEqual({ type: 'success', text: '已退回填报员修改' });
    expect(JSON.stringify((await latest(h, ids.cdcFiller, ':v2:fill')).card)).toContain('第1版已被单位负责人退回修改：请核对第一项得分');
  });

  it('answers 无权限 to anyone but the unit filler and the campaign evaluator, and changes nothing', async () => {
    await openStage();
    const fill = await latest(h, ids.cdcFiller, ':fill');
    const form = validForm(fill.card);
    const submit = actionOf(fill.card, 'self-eval.submit');
    for (const who of [ids.libFiller, ids.cdcHead, ids.evaluator, ids.leader]) {
      const r = await h.act(who, submit, form, { messageId: fill.id });
      expect(r.toast).toEqual({ type: 'error', text: expect.stringContaining('无权限') });
      expect(r.card).toBeUndefined();
    }
    const unknown = await h.act(99999, submit, form);
    expect(unknown.toast?.text).toContain('无权限');
    // The forwarded clicks did not touch the owner's card either.
    expect((await latest(h, ids.cdcFiller, ':fill')).card).toEqual(fill.card);

    await h.act(ids.cdcFiller, submit, form);
    const sign = await latest(h, ids.cdcHead, ':sign');
    await h.act(ids.cdcHead, actionOf(sign.card, 'self-eval.sign'), {});
    const review = await latest(h, ids.evaluator, ':review');
    for (const who of [ids.leader, ids.cdcHead, ids.cdcFiller]) {
      const r = await h.act(who, actionOf(review.card, 'self-eval.accept'), {});
      expect(r.toast?.text).toContain('无权限');
    }
    const [ev] = await h.db.select().from(selfEvaluations).where(eq(selfEvaluations.id, Number(submit.value.evaluationId)));
    expect(ev?.status).toBe('signed');
  });

  it('submits once on a double click, whether the platform repeats the event or the person clicks twice', async () => {
    await openStage();
    const fill = await latest(h, ids.cdcFiller, ':fill');
    const form = validForm(fill.card);
    const submit = actionOf(fill.card, 'self-eval.submit');

    const first = await h.act(ids.cdcFiller, submit, form, { eventId: 'click-1' });
    const replay = await h.act(ids.cdcFiller, submit, form, { eventId: 'click-1' });
    expect(replay).toEqual({ toast: first.toast });
    const second = await h.act(ids.cdcFiller, submit, form, { eventId: 'click-2' });
    expect(second.toast).toEqual({ type: 'warning', text: '已提交，无需重复提交' });

    const [ev] = await h.db.select().from(selfEvaluations).where(eq(selfEvaluations.id, Number(submit.value.evaluationId)));
    expect(ev).toMatchObject({ status: 'submitted', revision: 1 });
    expect((await auditTrail(h.db, 'self_evaluation', ev!.id)).map((t) => t.action)).toEqual(['self_eval.submit']);
    expect((await h.messages(ids.cdcHead)).filter((m) => m.subject.includes(':sign'))).toHaveLength(1);

    // Two clicks racing (not one after the other) also submit once.
    const libFiller = ids.libFiller;
    const libFill = await latest(h, libFiller, ':fill');
    const libSubmit = actionOf(libFill.card, 'self-eval.submit');
    const replies = await Promise.all([h.act(libFiller, libSubmit, validForm(libFill.card)), h.act(libFiller, libSubmit, validForm(libFill.card))]);
    expect(replies.map((r) => r.toast), JSON.stringify(replies.map((r) => r.toast))).toContainEqual({ type: "success", text: "已提交，等待单位负责人签发" });
    expect(replies.filter((r) => r.toast?.type === "success")).toHaveLength(1);
    const [libEv] = await h.db.select().from(selfEvaluations).where(eq(selfEvaluations.id, Number(libSubmit.value.evaluationId)));
    expect(libEv?.revision).toBe(1);
  });

  it('answers health checks with a real database round trip', async () => {
    const res = await h.app.request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });
});

function buttonsCount(card: CardSpec): number {
  return [...walk(card.elements)].filter((e) => e.type === 'button' && e.action).length;
}

describe('simulator callback endpoint', () => {
  it('refuses a post from another origin and a malformed body, changing nothing', async () => {
    const h = await createHarness();
    try {
      const evaluator = await h.personByMobile(MOBILE.evaluator);
      const consoleCard = (await h.messages(evaluator.id))[0]!.card;
      const open = actionOf(consoleCard, 'campaign.open-self-eval');
      const body = new URLSearchParams({ _action: JSON.stringify(open), _actor: `p${evaluator.id}`, _nonce: 'n1', due: '2026-12-31' });
      const cross = await h.app.request('/local/action', { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example.com', host: 'localhost' } });
      expect(cross.status).toBe(403);
      const garbage = await h.app.request('/local/action', { method: 'POST', body: '{"actor":1}', headers: { 'content-type': 'application/json' } });
      expect(garbage.status).toBe(400);
      const badAction = await h.app.request('/local/action', { method: 'POST', body: new URLSearchParams({ _action: 'not json', _actor: 'p1', _nonce: 'n2' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(badAction.status).toBe(400);
      expect(await h.messages((await h.personByMobile(MOBILE.cdcFiller)).id)).toHaveLength(0);

      // The same post from the page itself works and redirects back to the chat with a toast.
      const same = await h.app.request('/local/action', { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost', host: 'localhost' } });
      expect(same.status).toBe(303);
      expect(decodeURIComponent(same.headers.get('location') ?? '')).toContain('单位自评已启动');
    } finally {
      await h.close();
    }
  });
});

describe('after a status change', () => {
  it('keeps the change, its audit and its cards when the consoles cannot be refreshed, and says so in the log', async () => {
    // Interactive transactions fail while `broken` is set: after a submit, only the consoles' refresh uses one.
    let broken = false;
    const h = await createHarness({
      wrapClient: (c) => new Proxy(c, {
        get: (target, prop, receiver) => (prop === 'transaction' && broken ? () => Promise.reject(new Error('database gone')) : Reflect.get(target, prop, receiver)),
      }),
    });
    try {
      const evaluator = await h.personByMobile(MOBILE.evaluator);
      const filler = await h.personByMobile(MOBILE.cdcFiller);
      await h.act(evaluator.id, actionOf((await h.messages(evaluator.id))[0]!.card, 'campaign.open-self-eval'), { due: '2026-12-31' });
      const fill = (await h.messages(filler.id)).find((m) => m.subject.endsWith(':fill'))!;
      const logged: string[] = [];
      const bot = createBot(buildDeps(h.db, { clock: h.now, log: { info: () => {}, error: (msg) => void logged.push(msg) } }));
      registerFlows(bot);
      const submit = actionOf(fill.card, 'self-eval.submit');
      broken = true;
      const reply = await bot.handle({ platform: 'local', eventKey: 'submit-1', actorExternalId: `p${filler.id}`, actionId: submit.id, value: submit.value, form: validForm(fill.card) });
      broken = false;
      expect(reply.toast).toEqual({ type: 'success', text: '已提交，等待单位负责人签发' });
      expect(logged).toEqual(['progress consoles not refreshed']);
      const [ev] = await h.db.select().from(selfEvaluations).where(eq(selfEvaluations.id, Number(submit.value.evaluationId)));
      expect(ev).toMatchObject({ status: 'submitted', revision: 1 });
      expect((await auditTrail(h.db, 'self_evaluation', ev!.id)).map((t) => t.action)).toEqual(['self_eval.submit']);
      await h.flush();
      expect((await h.messages((await h.personByMobile(MOBILE.cdcHead)).id)).filter((m) => m.subject.includes(':sign'))).toHaveLength(1);
      // The redelivery gets the answer stored with the change, not a failure.
      expect((await bot.handle({ platform: 'local', eventKey: 'submit-1', actorExternalId: `p${filler.id}`, actionId: submit.id, value: submit.value, form: {} })).toast?.type).toBe('success');
    } finally {
      await h.close();
    }
  });
});
