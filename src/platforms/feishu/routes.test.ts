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

    it('answers at once and pushes the final card by delayed update with the callback token', async () => {
      // Rebuild the app with a budget nothing can meet.
      await mock.close();
      await h.close();
      budgetMs = 10;
      await setUp({ slowHelp: true });
      const token = mock.state.issueCallbackToken({ messageId: 'om_help' });
      const action = {
        schema: '2.0',
        header: { event_id: 'late-1', event_type: 'card.action.trigger', token: TOKEN, create_time: '1', tenant_key: 't', app_id: 'cli_routes' },
        event: { operator: { open_id: 'ou_filler' }, token, action: { tag: 'button', value: { a: 'help.show', v: {} } }, context: { open_message_id: 'om_help', open_chat_id: 'oc' } },
      };
      const res = await post(action);
      const body = (await res.json()) as { toast: { content: string }; card?: unknown };
      expect(body.toast.content).toContain('已受理');
      expect(body.card).toBeUndefined();
      await settle();
      expect(mock.state.delayedUpdates).toHaveLength(1);
      expect(mock.state.delayedUpdates[0]!.token).toBe(token);
      expect(JSON.stringify(mock.state.delayedUpdates[0]!.card)).toContain('我的待办');
    });
  });
});
