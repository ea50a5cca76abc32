import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { campaigns, identities, inboundEvents, outbox } from '../../db/schema';
import { buildDeps, silentLogger } from '../deps';
import { holdWriteLock, readOnlyDb } from '../test/db-faults';
import { createHarness } from '../test/harness';
import { createBot, type ActionHandler } from './router';
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
    // The handler finishes only when released: the answer below comes while it is still running.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    bot.on('campaign.progress', async () => {
      runs++;
      await gate;
      return { toast: { type: 'success', text: '完成' }, card: { header: { title: '最终卡片' }, elements: [] } };
    });
    const late: string[] = [];
    const first = await bot.handle(event('slow-1'), { onLate: async (r) => void late.push(r.card!.header.title) });
    expect(first.toast?.text).toContain('已受理');
    expect(late).toEqual([]);
    release();
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
  it('counts the budget from the request\'s arrival, not from when the bot was called', async () => {
    const deferred: Promise<unknown>[] = [];
    // A budget no test would wait for: only the arrival time can make this answer early.
    const deps = buildDeps(h.db, { clock: h.now, log: silentLogger, replyBudgetMs: 60_000, defer: (w) => void deferred.push(w()) });
    const bot = createBot(deps);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    bot.on('campaign.progress', async () => {
      await gate;
      return { toast: { type: 'success', text: '完成' } };
    });
    const reply = await bot.handle(event('arrived-early'), { arrivedAt: h.now() - 60_000 });
    expect(reply.toast?.text).toContain('已受理');
    release();
    await Promise.all(deferred);
  });

  it('answers within the budget while another connection holds the write lock, and runs the action once it is free', async () => {
    const deferred: Promise<unknown>[] = [];
    const bot = createBot(buildDeps(h.db, { clock: h.now, log: silentLogger, replyBudgetMs: 100, defer: (w) => void deferred.push(w()) }));
    let runs = 0;
    bot.on('campaign.progress', async () => {
      runs++;
      return { toast: { type: 'success', text: '完成' }, card: { header: { title: '最终卡片' }, elements: [] } };
    });
    const lock = await holdWriteLock(h.db);
    const late: Array<{ title: string; lockReleased: boolean }> = [];
    const reply = await bot.handle(event('locked'), { onLate: async (r) => void late.push({ title: r.card!.header.title, lockReleased: lock.released }) });
    // Answered while the lock is held: the claim waits without blocking the budget's timer.
    expect(reply.toast?.text).toContain('已受理');
    expect(runs).toBe(0);
    await lock.release();
    await Promise.all(deferred);
    expect(runs).toBe(1);
    expect(late).toEqual([{ title: '最终卡片', lockReleased: true }]);
  });

  it('sends a late card through the outbox, once, when the platform cannot update the card', async () => {
    const deferred: Promise<unknown>[] = [];
    const bot = createBot(buildDeps(h.db, { clock: h.now, log: silentLogger, replyBudgetMs: 5, defer: (w) => void deferred.push(w()) }));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    bot.on('campaign.progress', async () => {
      await gate;
      return { toast: { type: 'success', text: '完成' }, card: { header: { title: '最终卡片' }, elements: [] } };
    });
    const failingUpdate = async () => {
      throw new Error('token used up');
    };
    for (const [key, onLate] of [['late-a', undefined], ['late-b', failingUpdate]] as const) {
      expect((await bot.handle(event(key), { onLate })).toast?.text).toContain('已受理');
    }
    release();
    await Promise.all(deferred);
    expect((await bot.handle(event('late-a'))).toast?.text).toBe('完成');
    await Promise.all(deferred);
    const rows = await h.db.select().from(outbox).where(eq(outbox.subject, 'late-reply'));
    expect(rows.map((r) => [r.dedupeKey, r.personId, (r.payload as { card: { header: { title: string } } }).card.header.title]).sort()).toEqual([
      ['late:local:late-a', Number(actor.slice(1)), '最终卡片'],
      ['late:local:late-b', Number(actor.slice(1)), '最终卡片'],
    ]);
  });

  it("runs a handler's preload with the claim and hands it the results; a duplicate runs nothing", async () => {
    const bot = createBot(buildDeps(h.db, { clock: h.now, log: silentLogger }));
    const seen: unknown[] = [];
    const handler: ActionHandler<'campaign.progress'> = Object.assign(
      async (ctx: Parameters<ActionHandler<'campaign.progress'>>[0]) => {
        seen.push(ctx.preloaded);
        return { toast: { type: 'info' as const, text: '好' } };
      },
      { preload: (db: typeof h.db, value: { campaignId: number }) => [db.select({ name: campaigns.name }).from(campaigns).where(eq(campaigns.id, value.campaignId))] },
    );
    bot.on('campaign.progress', handler);
    expect((await bot.handle(event('pre-1'))).toast?.text).toBe('好');
    expect((await bot.handle(event('pre-1'))).toast?.text).toBe('好');
    expect(seen).toEqual([[[{ name: expect.any(String) }]]]);
  });

  it('keeps the same event key from two platforms apart', async () => {
    const bot = createBot(buildDeps(h.db, { clock: h.now, log: silentLogger }));
    await h.db.insert(identities).values({ personId: Number(actor.slice(1)), platform: 'feishu', externalId: 'ou_same' });
    const runs: string[] = [];
    bot.on('campaign.progress', async (ctx) => {
      runs.push(ctx.event.platform);
      return { toast: { type: 'info', text: '好' } };
    });
    expect((await bot.handle(event('shared-key'))).toast?.text).toBe('好');
    expect((await bot.handle(event('shared-key', { platform: 'feishu', actorExternalId: 'ou_same' }))).toast?.text).toBe('好');
    expect(runs).toEqual(['local', 'feishu']);
  });

  it('runs the message handler once for a duplicate direct message', async () => {
    const bot = createBot(buildDeps(h.db, { clock: h.now, log: silentLogger }));
    const texts: Array<string | null> = [];
    bot.onMessage(async ({ message }) => void texts.push(message.text));
    const message = { platform: 'local' as const, eventKey: 'msg-dup', actorExternalId: actor, text: '我的待办' };
    expect(await bot.handleMessage(message)).toBe(true);
    expect(await bot.handleMessage(message)).toBe(false);
    expect(texts).toEqual(['我的待办']);
  });

  it('answers with a Chinese toast, not an error, when the database refuses writes', async () => {
    const ro = await readOnlyDb(h.db);
    try {
      const bot = createBot(buildDeps(ro.db, { clock: h.now, log: silentLogger }));
      let runs = 0;
      bot.on('campaign.progress', async () => {
        runs++;
        return {};
      });
      expect(await bot.handle(event('read-only'))).toEqual({ toast: { type: 'error', text: '系统繁忙，操作未生效，请稍后重试' } });
      expect(runs).toBe(0);
    } finally {
      ro.client.close();
    }
  });
});
