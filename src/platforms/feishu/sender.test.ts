import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { identities, messages, outbox, people } from '../../../db/schema';
import { md, type CardSpec } from '../../../cards/kit';
import { buildDeps, silentLogger } from '../../deps';
import { drainOutbox, RetryLater } from '../../outbox/sender';
import { createRateLimiter, type RateLimits } from '../../outbox/rate-limit';
import { enqueue } from '../../store/outbox.repo';
import { failedDeliveries } from '../../store/outbox-status.repo';
import { createHarness } from '../../test/harness';
import { createFeishuClient, type FeishuClient } from './client';
import { startMockFeishu, type MockFeishu, type MockOptions } from './mock-server';
import { createFeishuSender, NOT_BOUND, sendUuid } from './sender';

type H = Awaited<ReturnType<typeof createHarness>>;
const APP = { appId: 'cli_sender00000001', appSecret: 'sender-secret' };
const OU_WANG = 'ou_wang';
const OU_LI = 'ou_li';
const OPEN: RateLimits = { perSecond: Infinity, perMinute: Infinity, perKeyPerSecond: Infinity };

const render = (spec: CardSpec) => [{ schema: '2.0', header: { title: { tag: 'plain_text', content: spec.header.title } }, body: { elements: [] } }];
/** Renders into two cards (a long card split in parts). */
const renderParts = (n: number) => (spec: CardSpec) => Array.from({ length: n }, (_, i) => ({ schema: '2.0', header: { title: { tag: 'plain_text', content: `${spec.header.title} (${i + 1}/${n})` } }, body: { elements: [] } }));
const card = (t: string): CardSpec => ({ header: { title: t }, elements: [md(t)] });
const titleOf = (c: unknown) => (c as { header: { title: { content: string } } }).header.title.content;
const validateCard = (c: unknown) => {
  const x = c as { schema?: unknown; header?: { title?: { content?: unknown } } };
  const errs: string[] = [];
  if (x.schema !== '2.0') errs.push('schema must be "2.0"');
  if (typeof x.header?.title?.content !== 'string' || x.header.title.content === '') errs.push('header.title.content is required');
  return errs;
};

/** The largest number of times in any window (t − len, t]. */
function maxInWindow(times: number[], lenMs: number): number {
  const s = [...times].sort((a, b) => a - b);
  let max = 0;
  let lo = 0;
  for (let hi = 0; hi < s.length; hi++) {
    while (s[lo]! <= s[hi]! - lenMs) lo++;
    max = Math.max(max, hi - lo + 1);
  }
  return max;
}

describe('feishu sender', () => {
  let h: H;
  let mock: MockFeishu;
  let client: FeishuClient;
  let wang: number;
  let li: number;
  let noFeishu: number;

  const startMock = async (o: MockOptions = {}) => {
    mock = await startMockFeishu({ ...APP, validateCard, ...o });
    client = createFeishuClient({ ...APP, domain: mock.url, timeoutMs: 3000 });
  };
  const deps = () => buildDeps(h.db, { clock: h.now, log: silentLogger });
  const sender = (o: { limits?: RateLimits; render?: (spec: CardSpec) => unknown[] } = {}) =>
    createFeishuSender(h.deps, client, { render: o.render ?? render, limiter: createRateLimiter(o.limits ?? OPEN) });
  const rowsOf = (subjectPrefix: string) => h.db.select().from(outbox).then((rs) => rs.filter((r) => r.subject.startsWith(subjectPrefix)));
  const feishuMessages = () => h.db.select().from(messages).where(eq(messages.platform, 'feishu'));
  const send = (personId: number, subject: string, title = subject, key = `k-${subject}`) =>
    enqueue(h.db, [{ dedupeKey: key, kind: 'send', personId, subject, card: card(title) }], h.now());

  beforeEach(async () => {
    h = await createHarness();
    wang = (await h.personByMobile('13800000001')).id;
    li = (await h.personByMobile('13800000002')).id;
    noFeishu = (await h.personByMobile('13800000003')).id;
    await h.db.insert(identities).values([
      { personId: wang, platform: 'feishu', externalId: OU_WANG },
      { personId: li, platform: 'feishu', externalId: OU_LI },
    ]);
    await startMock();
  });
  afterEach(async () => {
    await mock.close();
    await h.close();
  });

  it('delivers each row once to the person\'s open_id and records the Feishu message id', async () => {
    for (let i = 0; i < 3; i++) await send(wang, `d-w${i}`);
    for (let i = 0; i < 2; i++) await send(li, `d-l${i}`);
    expect(await drainOutbox(deps(), sender())).toEqual({ sent: 5, failed: 0 });
    expect(mock.state.perReceiver).toEqual(new Map([[OU_WANG, 3], [OU_LI, 2]]));
    expect(mock.state.messages.map((m) => titleOf(m.card)).sort()).toEqual(['d-l0', 'd-l1', 'd-w0', 'd-w1', 'd-w2']);
    const rows = await rowsOf('d-');
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
    const recorded = await feishuMessages();
    expect(recorded).toHaveLength(5);
    for (const r of rows) {
      const m = mock.state.messages.find((x) => x.uuid === sendUuid(r, 0))!;
      expect(m.receive_id).toBe(r.personId === wang ? OU_WANG : OU_LI);
      expect(recorded.find((x) => x.outboxId === r.id)!.externalId).toBe(m.message_id);
      expect(sendUuid(r, 0).length).toBeLessThanOrEqual(50);
    }
    // Nothing left to do: a second drain sends nothing.
    expect(await drainOutbox(deps(), sender())).toEqual({ sent: 0, failed: 0 });
    expect(mock.state.messages).toHaveLength(5);
  });

  it('an urgent row is sent and then buzzed (加急) to the same person; a refused buzz still delivers the card', async () => {
    await enqueue(h.db, [{ dedupeKey: 'k-urgent', kind: 'send', personId: wang, subject: 'u-1', card: card('今天截止'), urgent: 'app' }], h.now());
    await send(li, 'u-2');
    expect(await drainOutbox(deps(), sender())).toEqual({ sent: 2, failed: 0 });
    const sent = mock.state.messages.find((m) => titleOf(m.card) === '今天截止')!;
    expect(mock.state.urgents).toMatchObject([{ message_id: sent.message_id, kind: 'app', user_ids: [OU_WANG] }]);
    // The mock refuses urgent calls now: the card is still delivered and marked sent.
    mock.state.failNext({ route: 'urgent', status: 400, code: 230001, msg: 'no permission' });
    await enqueue(h.db, [{ dedupeKey: 'k-urgent-2', kind: 'send', personId: li, subject: 'u-3', card: card('逾期'), urgent: 'app' }], h.now());
    expect(await drainOutbox(deps(), sender())).toEqual({ sent: 1, failed: 0 });
    expect(mock.state.messages.some((m) => titleOf(m.card) === '逾期')).toBe(true);
    expect(mock.state.urgents).toHaveLength(1);
  });

  it('delivering the same row twice (a crash before it was marked sent) sends one message', async () => {
    await send(wang, 'twice');
    const [row] = await rowsOf('twice');
    const s = sender();
    await s.deliver({ row: row!, card: card('twice') }, h.now());
    await s.deliver({ row: row!, card: card('twice') }, h.now());
    await drainOutbox(deps(), s);
    expect(mock.state.messages).toHaveLength(1);
    expect(mock.state.perReceiver.get(OU_WANG)).toBe(1);
    expect(await feishuMessages()).toHaveLength(1);
  });

  it('a crash between the send and recording it: the retry reuses the uuid and Feishu returns the same message', async () => {
    await send(wang, 'crash');
    const [row] = await rowsOf('crash');
    // The process sent the card, then died before writing anything down.
    const first = await client.sendCard(OU_WANG, render(card('crash'))[0], sendUuid(row!, 0));
    expect(await drainOutbox(deps(), sender())).toEqual({ sent: 1, failed: 0 });
    expect(mock.state.messages).toHaveLength(1);
    expect(mock.state.dedupeHits).toBe(1);
    expect(mock.state.requestsByRoute.send).toBe(2);
    expect((await feishuMessages())[0]!.externalId).toBe(first.messageId);
  });

  it('a lost answer is a failed attempt; the retry with the same uuid delivers nothing twice', async () => {
    await send(li, 'lost');
    mock.state.failNext({ route: 'send', status: 502, afterHandling: true });
    expect(await drainOutbox(deps(), sender())).toEqual({ sent: 0, failed: 1 });
    const [pending] = await rowsOf('lost');
    expect(pending).toMatchObject({ status: 'pending', attempts: 1 });
    expect(pending!.lastError).toContain('transient');
    h.advance(60_000);
    expect(await drainOutbox(deps(), sender())).toEqual({ sent: 1, failed: 0 });
    expect(mock.state.messages).toHaveLength(1);
    expect(mock.state.messages[0]!.uuid).toBe(sendUuid(pending!, 0));
    expect(mock.state.dedupeHits).toBe(1);
    expect((await feishuMessages())[0]!.externalId).toBe(mock.state.messages[0]!.message_id);
  });

  it('with the limiter at the mock\'s limits, no call is refused and no window is exceeded on the receiving side', { timeout: 20_000 }, async () => {
    const limits = { perSecond: 6, perMinute: 120, perUserPerSecond: 3 };
    // The limiter and the mock share one fake clock; the sender's sleeps move it forward.
    let t = Date.UTC(2026, 9, 9, 1);
    const now = () => t;
    const sleep = async (ms: number) => void (t = Math.max(t, now() + ms));
    await mock.close();
    await startMock({ rateLimits: limits, now });
    // First one person alone (the per-user limit binds), then both (the app limit binds).
    for (let i = 0; i < 6; i++) await send(wang, `l-a${String(i).padStart(2, '0')}`);
    for (let i = 0; i < 8; i++) await send(i % 2 ? li : wang, `l-b${String(i).padStart(2, '0')}`);
    const started = now();
    const limiter = createRateLimiter({ perSecond: limits.perSecond, perMinute: limits.perMinute, perKeyPerSecond: limits.perUserPerSecond });
    const res = await drainOutbox(deps(), createFeishuSender(h.deps, client, { render, limiter, now, sleep }));
    const took = now() - started;
    expect(res).toEqual({ sent: 14, failed: 0 });
    expect(mock.state.rateLimited).toBe(0);
    expect(mock.state.perReceiver).toEqual(new Map([[OU_WANG, 10], [OU_LI, 4]]));
    const at = mock.state.messages.map((m) => m.created);
    expect(maxInWindow(at, 1000)).toBeLessThanOrEqual(limits.perSecond);
    for (const ou of [OU_WANG, OU_LI]) expect(maxInWindow(mock.state.messages.filter((m) => m.receive_id === ou).map((m) => m.created), 1000)).toBeLessThanOrEqual(limits.perUserPerSecond);
    // Ten cards to one person at 3 per second take at least 3 seconds.
    expect(took).toBeGreaterThanOrEqual(3000);
  });

  it('a wait that ran late counts from when the call really went out: the next window is not crowded', async () => {
    await mock.close();
    await startMock({ rateLimits: { perSecond: 2, perMinute: Infinity, perUserPerSecond: Infinity }, now: h.now });
    // The first wait overshoots by 300 ms (a busy event loop); the others are punctual.
    let late = 300;
    const sleep = async (ms: number) => {
      h.advance(ms + late);
      late = 0;
    };
    for (let i = 0; i < 5; i++) await send(wang, `late-${i}`);
    const limiter = createRateLimiter({ perSecond: 2, perMinute: Infinity, perKeyPerSecond: Infinity });
    expect(await drainOutbox(deps(), createFeishuSender(h.deps, client, { render, limiter, now: h.now, sleep, unrecordedAtStart: 0 }))).toEqual({ sent: 5, failed: 0 });
    expect(mock.state.rateLimited).toBe(0);
    expect(maxInWindow(mock.state.messages.map((m) => m.created), 1000)).toBeLessThanOrEqual(2);
  });

  it('a wait that ends early (a timer on a busy event loop) is waited out: no call goes before its slot', async () => {
    await mock.close();
    await startMock({ rateLimits: { perSecond: 1, perMinute: Infinity, perUserPerSecond: Infinity }, now: h.now });
    // Every sleep wakes after half the time asked for.
    const sleep = async (ms: number) => h.advance(Math.ceil(ms / 2));
    for (let i = 0; i < 3; i++) await send(wang, `early-${i}`);
    const limiter = createRateLimiter({ perSecond: 1, perMinute: Infinity, perKeyPerSecond: Infinity });
    expect(await drainOutbox(deps(), createFeishuSender(h.deps, client, { render, limiter, now: h.now, sleep, unrecordedAtStart: 0 }))).toEqual({ sent: 3, failed: 0 });
    expect(mock.state.rateLimited).toBe(0);
    const at = mock.state.messages.map((m) => m.created);
    expect([at[1]! - at[0]!, at[2]! - at[1]!]).toEqual([1000, 1000]);
  });

  it('a sender started right after another one died counts what that one sent: no burst into Feishu\'s full window', async () => {
    // The mock and both senders share the test's clock; sleeping moves it on.
    await mock.close();
    await startMock({ rateLimits: { perSecond: 4, perMinute: Infinity, perUserPerSecond: Infinity }, now: h.now });
    const sleep = async (ms: number) => h.advance(ms);
    const limits: RateLimits = { perSecond: 4, perMinute: Infinity, perKeyPerSecond: Infinity };
    const people8 = (await h.db.select({ id: people.id }).from(people)).map((p) => p.id).slice(0, 8);
    const mapped = new Set((await h.db.select().from(identities).where(eq(identities.platform, 'feishu'))).map((i) => i.personId));
    await h.db.insert(identities).values(people8.filter((id) => !mapped.has(id)).map((id) => ({ personId: id, platform: 'feishu' as const, externalId: `ou_p${id}` })));
    for (const id of people8.slice(0, 3)) await send(id, `before-${id}`);
    const first = createFeishuSender(h.deps, client, { render, limiter: createRateLimiter(limits), now: h.now, sleep, unrecordedAtStart: 0 });
    expect(await drainOutbox(deps(), first)).toEqual({ sent: 3, failed: 0 });
    const diedAt = h.now();
    // Its last call reached Feishu, but the process died before writing it down.
    await client.sendCard(OU_WANG, render(card('in flight'))[0], 'unrecorded-1');
    h.advance(300);
    for (const id of people8.slice(3)) await send(id, `after-${id}`);
    const next = createFeishuSender(h.deps, client, { render, limiter: createRateLimiter(limits), now: h.now, sleep, unrecordedAtStart: 1 });
    expect(await drainOutbox(deps(), next)).toEqual({ sent: 5, failed: 0 });
    expect(mock.state.rateLimited).toBe(0);
    const later = mock.state.messages.filter((m) => titleOf(m.card).startsWith('after-'));
    expect(later).toHaveLength(5);
    expect(Math.min(...later.map((m) => m.created))).toBeGreaterThanOrEqual(diedAt + 1000);
    expect(maxInWindow(mock.state.messages.map((m) => m.created), 1000)).toBeLessThanOrEqual(4);
  });

  it('a 429 pauses every send of the app until its reset: queued cards wait instead of knocking on the closed window', async () => {
    // The app's real quota (4/s) is below what the limiter allows; the mock and the sender share the test's clock.
    await mock.close();
    await startMock({ rateLimits: { perSecond: 4, perMinute: Infinity, perUserPerSecond: Infinity }, now: h.now });
    const mapped = new Set((await h.db.select().from(identities).where(eq(identities.platform, 'feishu'))).map((i) => i.personId));
    const everyone = (await h.db.select({ id: people.id }).from(people)).map((p) => p.id);
    await h.db.insert(identities).values(everyone.filter((id) => !mapped.has(id)).map((id) => ({ personId: id, platform: 'feishu' as const, externalId: `ou_p${id}` })));
    for (const id of everyone) await send(id, `app-${id}`);
    const n = everyone.length;
    expect(n).toBeGreaterThanOrEqual(12);
    // One limiter shared by every sender (each drain builds its own, as a Worker does per request).
    const limiter = createRateLimiter(OPEN);
    const concurrency = 2;
    let passes = 0;
    while ((await rowsOf('app-')).some((r) => r.status === 'pending') && passes < 3 * n) {
      const res = await drainOutbox(deps(), createFeishuSender(h.deps, client, { render, limiter, now: h.now }), { concurrency });
      expect(res.failed).toBe(0);
      passes++;
      // Refused cards are put off to the reset, not counted as attempts.
      for (const r of (await rowsOf('app-')).filter((x) => x.status === 'pending')) {
        expect(r.attempts).toBe(0);
        expect(r.nextAttemptAt).toBeLessThanOrEqual(h.now() + 1000);
      }
      h.advance(1000);
    }
    expect(passes).toBe(Math.ceil(n / 4));
    expect([...mock.state.perReceiver.values()]).toEqual(everyone.map(() => 1));
    // Each window costs at most the calls already in flight when the 429 came back (one per worker).
    expect(mock.state.rateLimited).toBeLessThanOrEqual(concurrency * (passes - 1));
    expect(mock.state.requestsByRoute.send).toBeLessThanOrEqual(n + concurrency * (passes - 1));
  });

  it('a per-user limit (230020) pauses only that person; the others\' cards go on', async () => {
    await mock.close();
    await startMock({ rateLimits: { perSecond: Infinity, perMinute: Infinity, perUserPerSecond: 2 }, now: h.now });
    for (let i = 0; i < 4; i++) await send(wang, `pu-w${i}`);
    for (let i = 0; i < 2; i++) await send(li, `pu-l${i}`);
    const limiter = createRateLimiter(OPEN);
    const feishu = createFeishuSender(h.deps, client, { render, limiter, now: h.now });
    expect(await drainOutbox(deps(), feishu)).toEqual({ sent: 4, failed: 0 });
    expect(mock.state.requestsByRoute.send).toBe(5);
    expect(mock.state.perReceiver).toEqual(new Map([[OU_WANG, 2], [OU_LI, 2]]));
    const [refused] = await rowsOf('pu-w2');
    expect(refused).toMatchObject({ status: 'pending', attempts: 0, nextAttemptAt: h.now() + 1000 });
    expect(refused!.lastError).toMatch(/^retry later: .*rate_limited 230020/);
    // Wang stays paused for every sender sharing the limiter: no request is made for him.
    const [w3] = await rowsOf('pu-w3');
    const other = createFeishuSender(h.deps, client, { render, limiter, now: h.now });
    await expect(other.deliver({ row: w3!, card: card('pu-w3') }, h.now())).rejects.toBeInstanceOf(RetryLater);
    expect(mock.state.requestsByRoute.send).toBe(5);
    // After the pause his cards go, in order.
    await send(li, 'pu-l2');
    h.advance(1000);
    expect(await drainOutbox(deps(), feishu)).toEqual({ sent: 3, failed: 0 });
    expect(mock.state.messages.filter((m) => m.receive_id === OU_WANG).map((m) => titleOf(m.card))).toEqual(['pu-w0', 'pu-w1', 'pu-w2', 'pu-w3']);
    expect(mock.state.requestsByRoute.send).toBe(8);
  });

  it('a person without a Feishu identity, or outside the app\'s availability, fails at once and is listed', async () => {
    await send(noFeishu, 'f-unbound');
    mock.state.outsideAvailability.add(OU_LI);
    await send(li, 'f-outside');
    await send(wang, 'f-ok');
    expect(await drainOutbox(deps(), sender())).toEqual({ sent: 1, failed: 2 });
    const rows = await rowsOf('f-');
    expect(rows.find((r) => r.subject === 'f-unbound')).toMatchObject({ status: 'failed', attempts: 1, lastError: NOT_BOUND });
    const outside = rows.find((r) => r.subject === 'f-outside')!;
    expect(outside).toMatchObject({ status: 'failed', attempts: 1 });
    expect(outside.lastError).toContain('230013');
    const listed = await failedDeliveries(h.db, 10);
    expect(listed.map((f) => [f.subject, f.personId])).toEqual([
      ['f-outside', li],
      ['f-unbound', noFeishu],
    ]);
    expect(listed[1]!.personName).toBe('张雅琴');
    expect(mock.state.messages.map((m) => m.receive_id)).toEqual([OU_WANG]);
  });

  it('an update PATCHes the latest message on its subject; without one it does nothing', async () => {
    await enqueue(h.db, [{ dedupeKey: 'u-none', kind: 'update', personId: wang, subject: 'u-other', card: card('无卡片') }], h.now());
    await send(wang, 'u-s', '第一版', 'u-1');
    await send(wang, 'u-s', '第二张', 'u-2');
    await send(li, 'u-s', '别人的', 'u-3');
    expect(await drainOutbox(deps(), sender())).toEqual({ sent: 4, failed: 0 });
    await enqueue(h.db, [{ dedupeKey: 'u-upd', kind: 'update', personId: wang, subject: 'u-s', card: card('更新后') }], h.now());
    expect(await drainOutbox(deps(), sender())).toEqual({ sent: 1, failed: 0 });
    const latest = mock.state.messages.find((m) => titleOf(m.card) === '第二张')!;
    expect(mock.state.patches.map((p) => [p.message_id, titleOf(p.card)])).toEqual([[latest.message_id, '更新后']]);
    expect(titleOf(latest.current)).toBe('更新后');
    const recorded = (await feishuMessages()).find((m) => m.externalId === latest.message_id)!;
    expect((recorded.card as CardSpec).header.title).toBe('更新后');
    expect(mock.state.messages).toHaveLength(3);
  });

  it('a card rendered in parts is sent as several messages, and an update patches each part (and adds new ones)', async () => {
    await send(li, 'p-s', '长卡片');
    expect(await drainOutbox(deps(), sender({ render: renderParts(2) }))).toEqual({ sent: 1, failed: 0 });
    expect(mock.state.messages.map((m) => titleOf(m.card))).toEqual(['长卡片 (1/2)', '长卡片 (2/2)']);
    const [row] = await rowsOf('p-s');
    expect(mock.state.messages.map((m) => m.uuid)).toEqual([sendUuid(row!, 0), sendUuid(row!, 1)]);
    const [rec] = await feishuMessages();
    expect(rec!.externalId).toBe(mock.state.messages.map((m) => m.message_id).join(','));

    await enqueue(h.db, [{ dedupeKey: 'p-upd', kind: 'update', personId: li, subject: 'p-s', card: card('更长') }], h.now());
    expect(await drainOutbox(deps(), sender({ render: renderParts(3) }))).toEqual({ sent: 1, failed: 0 });
    expect(mock.state.patches.map((p) => [p.message_id, titleOf(p.card)])).toEqual([
      [mock.state.messages[0]!.message_id, '更长 (1/3)'],
      [mock.state.messages[1]!.message_id, '更长 (2/3)'],
    ]);
    expect(mock.state.messages.map((m) => titleOf(m.card))).toEqual(['长卡片 (1/2)', '长卡片 (2/2)', '更长 (3/3)']);
    const [rec2] = await feishuMessages();
    expect(rec2!.externalId).toBe(mock.state.messages.map((m) => m.message_id).join(','));
  });

  it('a card the renderer cannot express, or Feishu refuses, fails at once with the reason', async () => {
    await send(wang, 'r-bad', '坏卡');
    const throwing = () => {
      throw new Error('table has too many columns');
    };
    expect(await drainOutbox(deps(), sender({ render: throwing }))).toEqual({ sent: 0, failed: 1 });
    const [bad] = await rowsOf('r-bad');
    expect(bad).toMatchObject({ status: 'failed' });
    expect(bad!.lastError).toContain('table has too many columns');

    await send(wang, 'r-refused', '');
    expect(await drainOutbox(deps(), sender())).toEqual({ sent: 0, failed: 1 });
    const [refused] = await rowsOf('r-refused');
    expect(refused).toMatchObject({ status: 'failed', attempts: 1 });
    expect(refused!.lastError).toContain('230099');
    expect(mock.state.messages).toHaveLength(0);
  });
});
