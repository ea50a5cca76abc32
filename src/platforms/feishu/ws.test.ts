/** Long connection: frames go through the SDK's own frame handling into our handler, answers come back in the ACK. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { identities } from '../../../db/schema';
import type { CardSpec } from '../../../cards/kit';
import { buildDeps, silentLogger } from '../../deps';
import { createBot } from '../../bot/router';
import { registerFlows } from '../../flows';
import { createHarness } from '../../test/harness';
import { createFeishuLongConnection } from './ws';

type H = Awaited<ReturnType<typeof createHarness>>;

const cfg = { appId: 'cli_test', appSecret: 'secret-secret', domain: 'http://127.0.0.1:9', mode: 'ws' as const, rate: { perSecond: 50, perMinute: 1000, perUserPerSecond: 5 } };

function frame(type: string, messageId: string, body: unknown) {
  return {
    headers: [{ key: 'type', value: type }, { key: 'message_id', value: messageId }, { key: 'sum', value: '1' }, { key: 'seq', value: '0' }, { key: 'trace_id', value: 't' }],
    payload: new TextEncoder().encode(JSON.stringify(body)),
  };
}

const cardAction = (eventId: string, openId: string) => ({
  schema: '2.0',
  header: { event_id: eventId, token: 'v', create_time: '1700000000000000', event_type: 'card.action.trigger', tenant_key: 't', app_id: 'cli_test' },
  event: { operator: { open_id: openId }, token: 'c-1', action: { tag: 'button', value: { a: 'help.show', v: {} } }, context: { open_message_id: 'om_1', open_chat_id: 'oc_1' } },
});

describe('Feishu long connection', () => {
  let h: H;
  beforeEach(async () => {
    h = await createHarness();
    const filler = await h.personByMobile('13800000001');
    await h.db.insert(identities).values({ personId: filler.id, platform: 'feishu', externalId: 'ou_filler' });
  });
  afterEach(async () => h.close());

  async function deliver(frames: ReturnType<typeof frame>[]) {
    const deps = buildDeps(h.db, { clock: h.now, log: silentLogger });
    const bot = createBot(deps);
    registerFlows(bot);
    const conn = createFeishuLongConnection(deps, bot, cfg, { render: (spec: CardSpec) => ({ rendered: spec.header.title }) });
    const acks: Array<{ code: number; data?: unknown }> = [];
    const ws = conn.ws as unknown as { sendMessage(f: { payload: Uint8Array }): void; handleEventData(f: unknown): Promise<void> };
    ws.sendMessage = (f) => {
      const ack = JSON.parse(new TextDecoder().decode(f.payload)) as { code: number; data?: string };
      acks.push({ code: ack.code, data: ack.data ? JSON.parse(Buffer.from(ack.data, 'base64').toString('utf8')) : undefined });
    };
    for (const f of frames) await ws.handleEventData(f);
    conn.close();
    return acks;
  }

  it('answers a card callback in the ACK, whether it comes as an event or a card frame', async () => {
    const acks = await deliver([frame('event', 'm1', cardAction('ev-1', 'ou_filler')), frame('card', 'm2', cardAction('ev-2', 'ou_filler'))]);
    expect(acks).toHaveLength(2);
    for (const ack of acks) {
      expect(ack.code).toBe(200);
      expect(ack.data).toMatchObject({ toast: { type: 'info', content: '待办已刷新' }, card: { type: 'raw', data: { rendered: '履职评估 · 我的待办' } } });
    }
  });

  it('handles a re-delivered event once and refuses a stranger', async () => {
    const acks = await deliver([frame('event', 'm1', cardAction('ev-1', 'ou_filler')), frame('event', 'm2', cardAction('ev-1', 'ou_filler')), frame('event', 'm3', cardAction('ev-3', 'ou_nobody'))]);
    expect(acks[1]!.data).toEqual({ toast: (acks[0]!.data as { toast: unknown }).toast });
    expect(acks[2]!.data).toMatchObject({ toast: { type: 'error', content: expect.stringContaining('无权限') } });
    expect(acks[2]!.data).not.toHaveProperty('card');
  });
});
