/**
 * Long-connection mode (FEISHU_MODE=ws, Node only): the SDK's WSClient receives events and
 * callbacks over a WebSocket, so an office without a public URL can run lvzhi. Payloads go
 * through the same handler as the webhook (and so the same router and dedupe); the answer to
 * a card callback travels back in the frame's acknowledgement.
 */
import * as lark from '@larksuiteoapi/node-sdk';
import type { FeishuConfig } from '../../config/env';
import type { Bot } from '../../bot/router';
import type { Deps } from '../../deps';
import { handleFeishuPayload, type FeishuRouteOptions } from './routes';
import { feishuBaseUrl } from './domain';

interface Frame {
  headers: Array<{ key: string; value: string }>;
  payload: Uint8Array;
}

/** The parts of WSClient this adapter relies on (runtime members the typings keep private). */
interface WsInternals {
  handleEventData(frame: Frame): Promise<void>;
  eventDispatcher?: { invoke(data: unknown, params?: unknown): Promise<unknown> };
}

export function createFeishuLongConnection(deps: Deps, bot: Bot, cfg: FeishuConfig, opts: FeishuRouteOptions) {
  const ws = new lark.WSClient({ appId: cfg.appId, appSecret: cfg.appSecret, domain: feishuBaseUrl(cfg.domain), loggerLevel: lark.LoggerLevel.warn });
  const internals = ws as unknown as WsInternals;
  // SDK 1.74 handles only frames of type "event"; card callbacks may come as type "card"
  // (reports differ), so both are treated alike rather than silently dropped.
  const original = internals.handleEventData.bind(ws);
  internals.handleEventData = (frame) =>
    original({ ...frame, headers: frame.headers.map((h) => (h.key === 'type' && h.value === 'card' ? { key: h.key, value: 'event' } : h)) });
  // The frames carry the raw envelope; our handler parses it as the webhook does. The
  // connection itself is authenticated, so there is no signature to check per frame.
  const dispatcher = {
    invoke: async (data: unknown) => (await handleFeishuPayload(deps, bot, data, opts)) ?? undefined,
  };
  internals.eventDispatcher = dispatcher;
  return {
    ws,
    start: () => ws.start({ eventDispatcher: dispatcher as unknown as lark.EventDispatcher }),
    close: () => ws.close({ force: true }),
  };
}
