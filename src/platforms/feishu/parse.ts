/**
 * Turns a verified (decrypted) Feishu body into what the app acts on. Schemas are loose:
 * Feishu adds fields over time and 2.0 callbacks carry many we do not need.
 */
import { z } from 'zod';
import type { InboundEvent } from '../../bot/inbound';

export type FeishuInbound =
  | { kind: 'challenge'; challenge: string }
  | {
      kind: 'card_action';
      eventId: string;
      event: InboundEvent;
      /** The delayed-update token (`c-…`, 30 min, 2 uses). */
      callbackToken: string | null;
      openMessageId: string | null;
      openChatId: string | null;
      tenantKey: string | null;
    }
  | {
      kind: 'message';
      eventId: string;
      /** The message itself: a redelivery may carry a new event_id with the same message_id. */
      messageId: string | null;
      senderOpenId: string;
      chatId: string;
      chatType: string;
      messageType: string;
      text: string | null;
    }
  | { kind: 'ignored'; eventId: string | null; eventType: string };

export type FeishuParse = { ok: true; value: FeishuInbound } | { ok: false; error: string };

const UrlVerification = z.looseObject({ type: z.literal('url_verification'), challenge: z.string() });

const V2Envelope = z.looseObject({
  schema: z.literal('2.0'),
  header: z.looseObject({ event_id: z.string().min(1), event_type: z.string().min(1), tenant_key: z.string().optional() }),
  event: z.unknown(),
});

const V1Envelope = z.looseObject({ type: z.literal('event_callback'), uuid: z.string().optional(), event: z.looseObject({ type: z.string() }) });

const CardActionEvent = z.looseObject({
  operator: z.looseObject({ open_id: z.string().min(1), tenant_key: z.string().optional() }),
  token: z.string().optional(),
  action: z.looseObject({
    value: z.unknown().optional(),
    name: z.string().optional(),
    form_value: z.record(z.string(), z.unknown()).nullish(),
    input_value: z.unknown().optional(),
    option: z.unknown().optional(),
    options: z.unknown().optional(),
  }),
  context: z.looseObject({ open_message_id: z.string().optional(), open_chat_id: z.string().optional() }).optional(),
});

/** What our card buttons put in `behaviors[].value`: `{ a: <action id>, v: { …value } }`. */
const OurActionValue = z.looseObject({ a: z.string().min(1).max(64), v: z.unknown().optional() });

const MessageEvent = z.looseObject({
  sender: z.looseObject({ sender_id: z.looseObject({ open_id: z.string().min(1) }) }),
  message: z.looseObject({ message_id: z.string().min(1).optional(), chat_id: z.string(), chat_type: z.string(), message_type: z.string(), content: z.string() }),
});

const issues = (e: z.ZodError): string => e.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');

/** Form values are strings or string lists; other scalars become strings, objects and nulls are dropped. */
function formField(v: unknown): string | string[] | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.flatMap((x) => (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean' ? [String(x)] : []));
  return undefined;
}

function collectForm(action: z.infer<typeof CardActionEvent>['action']): Record<string, string | string[]> {
  const form: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(action.form_value ?? {})) {
    const f = formField(v);
    if (f !== undefined) form[k] = f;
  }
  // An input or select outside a form reports its value on the action itself, keyed by its name.
  if (action.name && !Object.hasOwn(form, action.name)) {
    const lone = formField(action.input_value ?? action.option ?? action.options);
    if (lone !== undefined) form[action.name] = lone;
  }
  return form;
}

/**
 * `v` is passed on unchecked: the router validates it per action (bad_action_value). Not our
 * `{a, v}` shape at all (an old card, a tampered value): actionId '' so the router answers
 * 无法识别的操作 with a toast instead of the click failing silently.
 */
function actionOf(value: unknown): { actionId: string; value: unknown } {
  const ours = OurActionValue.safeParse(value);
  return ours.success ? { actionId: ours.data.a, value: ours.data.v ?? {} } : { actionId: '', value: value ?? null };
}

function parseCardAction(eventId: string, headerTenant: string | undefined, raw: unknown): FeishuParse {
  const parsed = CardActionEvent.safeParse(raw);
  if (!parsed.success) return { ok: false, error: `card.action.trigger: ${issues(parsed.error)}` };
  const e = parsed.data;
  const { actionId, value } = actionOf(e.action.value);
  return {
    ok: true,
    value: {
      kind: 'card_action',
      eventId,
      event: { platform: 'feishu', eventKey: eventId, actorExternalId: e.operator.open_id, actionId, value, form: collectForm(e.action) },
      callbackToken: e.token ?? null,
      openMessageId: e.context?.open_message_id ?? null,
      openChatId: e.context?.open_chat_id ?? null,
      tenantKey: headerTenant ?? e.operator.tenant_key ?? null,
    },
  };
}

function textOf(messageType: string, content: string): string | null {
  if (messageType !== 'text') return null;
  try {
    const c: unknown = JSON.parse(content);
    return typeof c === 'object' && c !== null && 'text' in c && typeof c.text === 'string' ? c.text : null;
  } catch {
    return null;
  }
}

function parseMessage(eventId: string, raw: unknown): FeishuParse {
  const parsed = MessageEvent.safeParse(raw);
  if (!parsed.success) return { ok: false, error: `im.message.receive_v1: ${issues(parsed.error)}` };
  const { sender, message: m } = parsed.data;
  return {
    ok: true,
    value: {
      kind: 'message',
      eventId,
      messageId: m.message_id ?? null,
      senderOpenId: sender.sender_id.open_id,
      chatId: m.chat_id,
      chatType: m.chat_type,
      messageType: m.message_type,
      text: textOf(m.message_type, m.content),
    },
  };
}

export function parseFeishuBody(body: unknown): FeishuParse {
  // Checked first: the URL check may also carry a 2.0 header (the Go SDK's own test body does).
  const challenge = UrlVerification.safeParse(body);
  if (challenge.success) return { ok: true, value: { kind: 'challenge', challenge: challenge.data.challenge } };

  const v2 = V2Envelope.safeParse(body);
  if (v2.success) {
    const { header, event } = v2.data;
    if (header.event_type === 'card.action.trigger') return parseCardAction(header.event_id, header.tenant_key, event);
    if (header.event_type === 'im.message.receive_v1') return parseMessage(header.event_id, event);
    return { ok: true, value: { kind: 'ignored', eventId: header.event_id, eventType: header.event_type } };
  }

  const v1 = V1Envelope.safeParse(body);
  if (v1.success) return { ok: true, value: { kind: 'ignored', eventId: v1.data.uuid ?? null, eventType: v1.data.event.type } };

  return { ok: false, error: 'not a Feishu event, callback or url_verification' };
}
