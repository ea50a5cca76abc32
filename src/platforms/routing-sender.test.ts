import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { eq } from 'drizzle-orm';
import { identities, outbox } from '../../db/schema';
import { md, type CardSpec } from '../../cards/kit';
import { buildDeps, silentLogger, type Deps } from '../deps';
import { createRateLimiter } from '../outbox/rate-limit';
import { createOutboxPump, drainLanes } from '../outbox/sender';
import { enqueue } from '../store/outbox.repo';
import { createHarness } from '../test/harness';
import { createFeishuClient } from './feishu/client';
import { startMockFeishu, type MockFeishu } from './feishu/mock-server';
import { createFeishuSender } from './feishu/sender';
import { createLocalSender } from './local/sender';
import { createPlatformLanes } from './routing-sender';

type H = Awaited<ReturnType<typeof createHarness>>;
const APP = { appId: 'cli_lanes000000001', appSecret: 'lanes-secret' };
const OPEN = { perSecond: Infinity, perMinute: Infinity, perKeyPerSecond: Infinity };
const render = (spec: CardSpec) => [{ schema: '2.0', header: { title: { tag: 'plain_text', content: spec.header.title } }, body: { elements: [] } }];
const card = (t: string): CardSpec => ({ header: { title: t }, elements: [md(t)] });

describe('platform lanes', () => {
  let h: H;
  let mock: MockFeishu;
  let mockOpen = false;
  const closeMock = async () => {
    if (mockOpen) await mock.close();
    mockOpen = false;
  };
  let deps: Deps;
  let onFeishu: number[];
  let local: number;

  beforeEach(async () => {
    h = await createHarness();
    deps = buildDeps(h.db, { clock: h.now, log: silentLogger });
    onFeishu = [];
    for (const mobile of ['13800000001', '13800000002', '13800000004', '13800000005', '13800000006']) onFeishu.push((await h.personByMobile(mobile)).id);
    local = (await h.personByMobile('13800000003')).id;
    await h.db.insert(identities).values(onFeishu.map((personId) => ({ personId, platform: 'feishu' as const, externalId: `ou_${personId}` })));
    // Feishu's API takes every send and never answers (the client's timeout is far off).
    mock = await startMockFeishu({ ...APP, failNext: [{ route: 'send', network: 'hang', times: 100 }] });
    mockOpen = true;
  });
  afterEach(async () => {
    await closeMock();
    await h.close();
  });

  const lanes = () => {
    const client = createFeishuClient({ ...APP, domain: mock.url, timeoutMs: 600_000 });
    const feishu = createFeishuSender(deps, client, { render, limiter: createRateLimiter(OPEN) });
    return createPlatformLanes(deps, { local: createLocalSender(deps), feishu }, { local: 2, feishu: 4 });
  };
  const enqueueTo = (personId: number, subject: string) => enqueue(h.db, [{ dedupeKey: `lane-${subject}`, kind: 'send', personId, subject, card: card(subject) }], h.now());
  const rowOf = async (subject: string) => (await h.db.select().from(outbox).where(eq(outbox.subject, subject)))[0]!;
  const localSubjects = async () => (await h.messages(local)).map((m) => m.subject);

  it('a hung Feishu API does not hold up the simulator\'s cards: the pump drains each platform in its own lane', async () => {
    const pump = createOutboxPump(deps, lanes());
    for (const [i, p] of onFeishu.entries()) await enqueueTo(p, `to-feishu-${i}`);
    const first = pump.kick();
    // Every Feishu worker is now stuck in a send.
    await vi.waitFor(() => expect(mock.state.requestsByRoute.send).toBe(4));
    await enqueueTo(local, 'to-simulator');
    const second = pump.kick();
    await vi.waitFor(async () => expect(await localSubjects()).toContain('to-simulator'), { timeout: 5000 });
    // Delivered while the Feishu sends still hang.
    expect(mock.state.messages).toHaveLength(0);
    expect(await rowOf('to-feishu-0')).toMatchObject({ status: 'pending', attempts: 0 });
    // The hung calls fail when the connections drop: failed attempts, retried later.
    await closeMock();
    await Promise.all([first, second]);
    expect(await rowOf('to-feishu-0')).toMatchObject({ status: 'pending', attempts: 1 });
  });

  it('one drain of every lane (a Worker\'s) delivers the simulator\'s cards while Feishu hangs', async () => {
    for (const [i, p] of onFeishu.entries()) await enqueueTo(p, `to-feishu-${i}`);
    await enqueueTo(local, 'to-simulator');
    const draining = drainLanes(deps, lanes());
    await vi.waitFor(async () => expect(await localSubjects()).toContain('to-simulator'), { timeout: 5000 });
    expect(mock.state.messages).toHaveLength(0);
    await closeMock();
    // Every Feishu card failed an attempt (the hung ones, then the last against a closed port).
    expect(await draining).toEqual({ sent: 1, failed: 5 });
  });
});
