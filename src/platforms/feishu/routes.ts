/**
 * POST /feishu/webhook: event subscription and card callbacks on one URL. The body is read up
 * to 1 MiB and its raw bytes verified (signature or token) before anything else; events are
 * de-duplicated in the database by the bot (card actions by event_id, direct messages by
 * message_id); a card action is answered within the budget with a toast and the card
 * re-rendered as JSON 2.0; a direct message is answered through the outbox.
 */
import { Hono } from 'hono';
import type { CardSpec } from '../../../cards/kit';
import { englishFor } from '../../../cards/messages';
import type { FeishuConfig } from '../../config/env';
import type { Bot } from '../../bot/router';
import type { Reply } from '../../bot/inbound';
import type { Deps } from '../../deps';
import { readBodyLimited } from '../../http/body-limit';
import { parseFeishuBody } from './parse';
import { verifyFeishuRequest } from './verify';

export interface FeishuRouteOptions {
  readonly render: (spec: CardSpec) => unknown;
  /** Pushes a card that was ready only after the answer (delayed update with the callback token). */
  readonly delayedUpdate?: (token: string, card: unknown) => Promise<void>;
  readonly afterAction?: () => void;
}

/** The callback answer: `{toast, card: {type:'raw', data}}`, or `{}` (documented shapes). */
export function feishuCallbackAnswer(reply: Reply, render: (spec: CardSpec) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (reply.toast) {
    const en = englishFor(reply.toast.text);
    out.toast = { type: reply.toast.type, content: reply.toast.text, i18n: en ? { zh_cn: reply.toast.text, en_us: en } : { zh_cn: reply.toast.text } };
  }
  if (reply.card) out.card = { type: 'raw', data: render(reply.card) };
  return out;
}

/**
 * Handles a verified Feishu payload, whichever way it came (webhook or long connection), and
 * returns the JSON answer. Unparseable payloads return null. `arrivedAt` (deps.clock() units)
 * is when the request came in: Feishu's 3 s count from there.
 */
export async function handleFeishuPayload(deps: Deps, bot: Bot, body: unknown, opts: FeishuRouteOptions, arrivedAt = deps.clock()): Promise<Record<string, unknown> | null> {
  const parsed = parseFeishuBody(body);
  if (!parsed.ok) return null;
  const inbound = parsed.value;
  switch (inbound.kind) {
    case 'challenge':
      return { challenge: inbound.challenge };
    case 'card_action': {
      const token = inbound.callbackToken;
      const reply = await bot.handle(inbound.event, {
        arrivedAt,
        onLate: token && opts.delayedUpdate ? (late) => opts.delayedUpdate!(token, opts.render(late.card!)) : undefined,
      });
      opts.afterAction?.();
      return feishuCallbackAnswer(reply, opts.render);
    }
    case 'message':
      // Acknowledge at once; the help card goes out through the outbox. Keyed by the message,
      // so a redelivery under a new event_id is answered once.
      deps.defer(async () => {
        const eventKey = inbound.messageId ? `message:${inbound.messageId}` : inbound.eventId;
        await bot.handleMessage({ platform: 'feishu', eventKey, actorExternalId: inbound.senderOpenId, text: inbound.text });
        opts.afterAction?.();
      });
      return {};
    case 'ignored':
      return {};
  }
}

export function createFeishuRoutes(deps: Deps, bot: Bot, cfg: FeishuConfig, opts: FeishuRouteOptions): Hono {
  const app = new Hono();
  app.post('/feishu/webhook', async (c) => {
    const arrivedAt = deps.clock();
    const rawBody = await readBodyLimited(c.req.raw);
    if (!rawBody) {
      deps.log.info('feishu request refused', { reason: 'body too large' });
      return c.json({ error: 'payload too large' }, 413);
    }
    const verified = await verifyFeishuRequest({
      rawBody,
      headers: {
        timestamp: c.req.header('x-lark-request-timestamp'),
        nonce: c.req.header('x-lark-request-nonce'),
        signature: c.req.header('x-lark-signature'),
      },
      encryptKey: cfg.encryptKey,
      verificationToken: cfg.verificationToken,
      nowMs: deps.clock(),
    });
    if (!verified.ok) {
      deps.log.info('feishu request refused', { reason: verified.reason });
      return c.json({ error: verified.reason }, verified.status);
    }
    const answer = await handleFeishuPayload(deps, bot, verified.body, opts, arrivedAt);
    return answer ? c.json(answer) : c.json({ error: 'unrecognised payload' }, 400);
  });
  return app;
}
