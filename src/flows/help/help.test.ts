import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { walk, type CardSpec } from '../../../cards/kit';
import { actionOf, createHarness } from '../../test/harness';
import { reviewWindowStart } from './handlers';

type H = Awaited<ReturnType<typeof createHarness>>;

const text = (card: CardSpec) => JSON.stringify(card);

describe('direct messages and the help card', () => {
  let h: H;
  let ids: { filler: number; head: number; evaluator: number; leader: number; otherFiller: number };
  beforeEach(async () => {
    h = await createHarness();
    const id = async (m: string) => (await h.personByMobile(m)).id;
    ids = { filler: await id('13800000001'), head: await id('13800000002'), evaluator: await id('13800000013'), leader: await id('13800000014'), otherFiller: await id('13800000003') };
  });
  afterEach(async () => h.close());

  async function message(personId: number, nonce: string) {
    const res = await h.app.request('/local/message', { method: 'POST', body: new URLSearchParams({ _actor: `p${personId}`, _nonce: nonce, text: '待办' }) });
    expect(res.status).toBe(303);
    await h.act(ids.leader, { id: 'help.show', value: {} }); // lets the outbox deliver
    const help = (await h.messages(personId)).filter((m) => m.subject === 'help');
    return help[help.length - 1]!;
  }

  it('lists what each person has to do now, and opens it from the card', async () => {
    const evaluatorHelp = await message(ids.evaluator, 'n1');
    expect(text(evaluatorHelp.card)).toContain('启动单位自评');
    // Before the 自评 stage opens, the filler's only tasks are the demo's two ledgers (台账) of this month.
    expect((await message(ids.filler, 'n2')).card.header.tags?.[0]?.text).toBe('2 项待办');

    const consoleCard = (await h.messages(ids.evaluator)).find((m) => m.subject.includes('console'))!.card;
    await h.act(ids.evaluator, actionOf(consoleCard, 'campaign.open-self-eval'), { due: '2026-12-31' });

    const fillerHelp = await message(ids.filler, 'n3');
    expect(text(fillerHelp.card)).toContain('填报自评');
    expect(text(fillerHelp.card)).toContain('县疾病预防控制中心');
    const open = actionOf(fillerHelp.card, 'self-eval.open');
    const opened = await h.act(ids.filler, open, {}, { messageId: fillerHelp.id });
    expect(opened.card?.header.title).toBe('单位自评 · 县疾病预防控制中心');
    expect([...walk(opened.card!.elements)].some((e) => e.type === 'form')).toBe(true);

    // Someone else's evaluation does not open for them.
    const stranger = await h.act(ids.otherFiller, open, {});
    expect(stranger.toast?.text).toContain('无权限');
    expect(stranger.card).toBeUndefined();

    const leaderHelp = await message(ids.leader, 'n4');
    expect(text(leaderHelp.card)).toContain('查看评估进度');
    expect(text(leaderHelp.card)).not.toContain('填报自评');
  });

  it('answers each message once, however often it is delivered', async () => {
    await message(ids.filler, 'same');
    await message(ids.filler, 'same');
    expect((await h.messages(ids.filler)).filter((m) => m.subject === 'help')).toHaveLength(1);
  });

  it('submitting from a card opened via 我的待办 also closes the original form card', async () => {
    const consoleCard = (await h.messages(ids.evaluator)).find((m) => m.subject.includes('console'))!.card;
    await h.act(ids.evaluator, actionOf(consoleCard, 'campaign.open-self-eval'), { due: '2026-12-31' });
    const original = (await h.messages(ids.filler)).find((m) => m.subject.endsWith(':fill'))!;
    const help = await message(ids.filler, 'n-open');
    const opened = await h.act(ids.filler, actionOf(help.card, 'self-eval.open'), {}, { messageId: help.id });
    const form: Record<string, string> = {};
    for (const el of walk(opened.card!.elements)) {
      if (el.type !== 'input') continue;
      form[el.name] = el.name.startsWith('score_') ? '5' : el.name.startsWith('evid_') ? 'https://oa.example.gov.cn/a.pdf' : '本项工作已经按照要求全部完成，相关材料齐全可查。';
    }
    const submitted = await h.act(ids.filler, actionOf(opened.card!, 'self-eval.submit'), form, { messageId: help.id });
    expect(submitted.toast?.text).toContain('已提交');
    const after = (await h.messages(ids.filler)).find((m) => m.id === original.id)!;
    expect([...walk(after.card.elements)].some((e) => e.type === 'form')).toBe(false);
    expect(text(after.card)).toContain('待签发');
  });
});

describe('the window of 待查阅的台账', () => {
  const at = (iso: string) => Date.parse(iso);
  it('starts at midnight of the 10th working day back, today counting when it is one (holidays and 调休 as the calendar has them)', () => {
    expect(reviewWindowStart(at('2026-11-30T09:00:00+08:00'))).toBe(at('2026-11-17T00:00:00+08:00')); // a Monday
    expect(reviewWindowStart(at('2026-12-05T09:00:00+08:00'))).toBe(at('2026-11-23T00:00:00+08:00')); // a Saturday: from Friday back
    expect(reviewWindowStart(at('2026-12-06T23:59:59+08:00'))).toBe(at('2026-11-23T00:00:00+08:00'));
    // 8 October 2026: 国庆 1–7 October and 中秋 25 September off, Sunday 20 September worked.
    expect(reviewWindowStart(at('2026-10-08T10:00:00+08:00'))).toBe(at('2026-09-18T00:00:00+08:00'));
  });
});
