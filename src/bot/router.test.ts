import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { inboundEvents } from '../../db/schema';
import { buildDeps, silentLogger } from '../deps';
import { createHarness } from '../test/harness';
import { createBot } from './router';
import type { InboundEvent } from './inbound';

type H = Awaited<ReturnType<typeof createHarness>>;

describe('bot router', () => {
  let h: H;
  let actor: string;
  beforeEach(async () => {
    h = await createHarness();
    actor = `p${(await h.personByMobile('13800000013')).id}`;
  });
  afterEach(async () => h.close());

  const event = (key: string, over: Partial<InboundEvent> = {}): InboundEvent => ({
    platform: 'local', eventKey: key, actorExternalId: actor, actionId: 'campaign.progress', value: { campaignId: 1 }, form: {}, ...over,
  });

  it('answers within the budget when a handler is slow, and the work still completes once', async () => {
    const deferred: Promise<unknown>[] = [];
    const deps = buildDeps(h.db, { clock: h.now, log: silentLogger, replyBudgetMs: 30, defer: (w) => void deferred.push(w()) });
    const bot = createBot(deps);
    let runs = 0;
    bot.on('campaign.progress', async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 200));
      return { toast: { type: 'success', text: '完成' }, card: { header: { title: '最终卡片' }, elements: [] } };
    });
    const late: string[] = [];
    const started = Date.now();
    const first = await bot.handle(event('slow-1'), { onLate: async (r) => void late.push(r.card!.header.title) });
    expect(Date.now() - started).toBeLessThan(190);
    expect(first.toast?.text).toContain('已受理');
    await Promise.all(deferred);
    expect(runs).toBe(1);
    expect(late).toEqual(['最终卡片']);
    // A re-delivery now gets the real answer, without running the handler again.
    expect((await bot.handle(event('slow-1'))).toast).toEqual({ type: 'success', text: '完成' });
    expect(runs).toBe(1);
  });

  it('does not call onLate when the answer came in time', async () => {
    const deferred: Promise<unknown>[] = [];
    const bot = createBot(buildDeps(h.db, { clock: h.now, log: silentLogger, defer: (w) => void deferred.push(w()) }));
    bot.on('campaign.progress', async () => ({ toast: { type: 'info', text: '快' }, card: { header: { title: '卡' }, elements: [] } }));
    let lateCalls = 0;
    expect((await bot.handle(event('fast'), { onLate: async () => void lateCalls++ })).toast?.text).toBe('快');
    await Promise.all(deferred);
    expect(lateCalls).toBe(0);
  });

  it('turns a failing handler into a toast and frees the event for a retry', async () => {
    const deps = buildDeps(h.db, { clock: h.now, log: silentLogger });
    const bot = createBot(deps);
    let fail = true;
    bot.on('campaign.progress', async () => {
      if (fail) throw new Error('boom');
      return { toast: { type: 'info', text: '好了' } };
    });
    expect((await bot.handle(event('flaky'))).toast).toEqual({ type: 'error', text: '系统繁忙，操作未生效，请稍后重试' });
    expect(await h.db.select().from(inboundEvents).where(eq(inboundEvents.eventKey, 'local:flaky'))).toHaveLength(0);
    fail = false;
    expect((await bot.handle(event('flaky'))).toast?.text).toBe('好了');
  });

  it('refuses unknown people, unknown actions and bad values before any handler runs', async () => {
    const bot = createBot(buildDeps(h.db, { clock: h.now, log: silentLogger }));
    let runs = 0;
    bot.on('campaign.progress', async () => { runs++; return {}; });
    expect((await bot.handle(event('u1', { actorExternalId: 'p999999' }))).toast?.text).toContain('未识别您的身份');
    expect((await bot.handle(event('u2', { actionId: 'grades.approve' }))).toast?.text).toContain('无法识别的操作');
    expect((await bot.handle(event('u3', { value: { campaignId: 'abc' } }))).toast?.text).toContain('卡片数据不完整');
    expect(runs).toBe(0);
    expect(() => bot.on('campaign.progress', async () => ({}))).toThrow(/registered twice/);
  });
});
