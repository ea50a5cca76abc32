/** POST /feishu/webhook end to end: URL check, verification, direct messages answered with the help card. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { identities } from '../../../db/schema';
import { renderFeishuCard, renderFeishuCards } from '../../../cards/render/feishu';
import { validateFeishuCard } from '../../../cards/render/feishu-validate';
import { buildDeps, silentLogger } from '../../deps';
import { createBot } from '../../bot/router';
import { registerFlows } from '../../flows';
import { handleShowHelp } from '../../flows/help/handlers';
import { createApp } from '../../http/app';
import { createOutboxPump } from '../../outbox/sender';
import { createRateLimiter } from '../../outbox/rate-limit';
import { MAX_BODY_BYTES } from '../../http/body-limit';
import { holdWriteLock } from '../../test/db-faults';
import { createHarness } from '../../test/harness';
import { createLocalSender } from '../local/sender';
import { createRoutingSender } from '../routing-sender';
import { createFeishuClient } from './client';
import { startMockFeishu, type MockFeishu } from './mock-server';
import { createFeishuSender } from './sender';
import { encryptFeishu, feishuSignature } from './verify';
import { webhookContract } from './webhook-contract';

type H = Awaited<ReturnType<typeof createHarness>>;
const KEY = 'routes-key';
const TOKEN = 'routes-token';

describe('POST /feishu/webhook', () => {
  let h: H;
  let mock: MockFeishu;
  let app: ReturnType<typeof createApp>;
  let settle: () => Promise<void>;
  let budgetMs = 2500;
  async function setUp(opts: { slowHelp?: boolean } = {}) {
    h = await createHarness();
    mock = await startMockFeishu({ appId: 'cli_routes', appSecret: 'routes-secret', validateCard: validateFeishuCard });
    const filler = await h.personByMobile('13800000001');
    await h.db.insert(identities).values({ personId: filler.id, platform: 'feishu', externalId: 'ou_filler' });
    const deferred: Promise<unknown>[] = [];
    const deps = buildDeps(h.db, { clock: h.now, log: silentLogger, replyBudgetMs: budgetMs, defer: (w) => void deferred.push(w()) });
    const bot = createBot(deps);
    if (opts.slowHelp) {
      // Only the help action, made slower than the budget.
      bot.on('help.show', async (ctx) => {
        await new Promise((r) => setTimeout(r, 50));
        return handleShowHelp(ctx);
      });
    } else registerFlows(bot);
    const client = createFeishuClient({ appId: 'cli_routes', appSecret: 'routes-secret', domain: mock.url });
    const feishu = createFeishuSender(deps, client, { render: renderFeishuCards, limiter: createRateLimiter({ perSecond: 50, perMinute: 1000, perKeyPerSecond: 5 }) });
    const pump = createOutboxPump(deps, createRoutingSender(deps, { local: createLocalSender(deps), feishu }));
    const config = { appId: 'cli_routes', appSecret: 'routes-secret', encryptKey: KEY, verificationToken: TOKEN, domain: mock.url, mode: 'webhook' as const, rate: { perSecond: 50, perMinute: 1000, perUserPerSecond: 5 } };
    app = createApp(deps, bot, { feishu: { config, render: renderFeishuCard, delayedUpdate: (token, card) => client.delayedUpdate(token, card) } });
    settle = async () => {
      while (deferred.length) await Promise.all(deferred.splice(0));
      await pump.kick();
    };
  }
  beforeEach(() => setUp());
  afterEach(async () => {
    await mock.close();
    await h.close();
  });

  async function post(payload: unknown, opts: { sign?: boolean; key?: string } = {}) {
    const raw = JSON.stringify({ encrypt: await encryptFeishu(KEY, JSON.stringify(payload)) });
    const ts = String(Math.floor(h.now() / 1000));
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (opts.sign !== false) Object.assign(headers, { 'x-lark-request-timestamp': ts, 'x-lark-request-nonce': 'n1', 'x-lark-signature': await feishuSignature(ts, 'n1', opts.key ?? KEY, raw) });
    return app.request('/feishu/webhook', { method: 'POST', body: raw, headers });
  }

  webhookContract(() => ({ post, settle, mock: () => mock, token: TOKEN, appId: 'cli_routes', openId: 'ou_filler' }));

  describe('when the answer misses the time budget', () => {
    afterEach(() => {
      budgetMs = 2500;
    });

    const helpAction = (eventId: string, token: string) => ({
      schema: '2.0',
      header: { event_id: eventId, event_type: 'card.action.trigger', token: TOKEN, create_time: '1', tenant_key: 't', app_id: 'cli_routes' },
      event: { operator: { open_id: 'ou_filler' }, token, action: { tag: 'button', value: { a: 'help.show', v: {} } }, context: { open_message_id: 'om_help', open_chat_id: 'oc' } },
    });

    it('answers at once and pushes the final card by delayed update with the callback token', async () => {
      // Rebuild the app with a budget nothing can meet.
      await mock.close();
      await h.close();
      budgetMs = 10;
      await setUp({ slowHelp: true });
      const token = mock.state.issueCallbackToken({ messageId: 'om_help' });
      const res = await post(helpAction('late-1', token));
      const body = (await res.json()) as { toast: { content: string }; card?: unknown };
      expect(body.toast.content).toContain('已受理');
      expect(body.card).toBeUndefined();
      await settle();
      expect(mock.state.delayedUpdates).toHaveLength(1);
      expect(mock.state.delayedUpdates[0]!.token).toBe(token);
      expect(JSON.stringify(mock.state.delayedUpdates[0]!.card)).toContain('我的待办');
    });

    it('answers in time while another process holds the database, then updates the card exactly once', async () => {
      await mock.close();
      await h.close();
      budgetMs = 300;
      await setUp();
      const token = mock.state.issueCallbackToken({ messageId: 'om_help' });
      // Held longer than the budget, as the attack run's second process did (3.5 s against 3 s).
      const lock = await holdWriteLock(h.db, 1200);
      const res = await post(helpAction('locked-1', token));
      expect(lock.released).toBe(false);
      const body = (await res.json()) as { toast: { content: string }; card?: unknown };
      expect(body.toast.content).toContain('已受理');
      expect(body.card).toBeUndefined();
      await settle();
      expect(lock.released).toBe(true);
      expect(mock.state.delayedUpdates.map((u) => u.token)).toEqual([token]);
      expect(JSON.stringify(mock.state.delayedUpdates[0]!.card)).toContain('我的待办');
      // Feishu's retry of the same callback is answered from the database, with no second update.
      const again = (await (await post(helpAction('locked-1', token))).json()) as { toast: { content: string } };
      expect(again.toast.content).toBe('待办已刷新');
      await settle();
      expect(mock.state.delayedUpdates).toHaveLength(1);
    });
  });

  describe('body size', () => {
    const CHUNK = 64 * 1024;
    /** A body of `total` bytes, counting what the server pulls. */
    function streamed(total: number) {
      const seen = { bytes: 0 };
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (seen.bytes >= total) return c.close();
          seen.bytes += CHUNK;
          c.enqueue(new Uint8Array(CHUNK).fill(0x41));
        },
      });
      return { body, seen };
    }
    const postStream = (body: ReadableStream<Uint8Array>, headers: Record<string, string> = {}) =>
      app.request('/feishu/webhook', { method: 'POST', body, duplex: 'half', headers: { 'content-type': 'application/json', ...headers } } as RequestInit);

    it('refuses a body declared over 1 MiB without reading it', async () => {
      const { body, seen } = streamed(4 * MAX_BODY_BYTES);
      const res = await postStream(body, { 'content-length': String(MAX_BODY_BYTES + 1) });
      expect(res.status).toBe(413);
      expect(seen.bytes).toBeLessThanOrEqual(CHUNK);
    });

    it('stops reading a body that passes 1 MiB, whatever its Content-Length says', async () => {
      for (const headers of [{}, { 'content-length': '100' }] as Array<Record<string, string>>) {
        const { body, seen } = streamed(4 * MAX_BODY_BYTES);
        const res = await postStream(body, headers);
        expect(res.status).toBe(413);
        expect(seen.bytes).toBeLessThanOrEqual(MAX_BODY_BYTES + 2 * CHUNK);
      }
    });

    it('reads a body of exactly 1 MiB (and refuses it for its signature, not its size)', async () => {
      const { body } = streamed(MAX_BODY_BYTES);
      expect((await postStream(body)).status).toBe(401);
    });
  });
});
