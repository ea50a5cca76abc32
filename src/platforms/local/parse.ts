import { z } from 'zod';
import type { InboundEvent } from '../../bot/inbound';

/** The simulator's callback, as posted by a card form (urlencoded) or by a test (JSON). */
const ActionField = z.string().transform((s, ctx) => {
  try {
    return ActionRefSchema.parse(JSON.parse(s));
  } catch {
    ctx.addIssue({ code: 'custom', message: 'bad _action' });
    return z.NEVER;
  }
});
const ActionRefSchema = z.object({ id: z.string().min(1).max(64), value: z.record(z.string(), z.union([z.string(), z.number()])) });

export const LocalFormPostSchema = z.object({
  _action: ActionField,
  _actor: z.string().min(1).max(64),
  _nonce: z.string().min(1).max(128),
  _message: z.coerce.number().int().positive().optional(),
});

export const LocalJsonPostSchema = z.object({
  actor: z.string().min(1).max(64),
  eventId: z.string().min(1).max(128),
  messageId: z.number().int().positive().optional(),
  action: ActionRefSchema,
  form: z.record(z.string(), z.union([z.string(), z.array(z.string())])).default({}),
});

export type LocalParse = { ok: true; event: InboundEvent } | { ok: false; error: string };

export function parseLocalFormPost(body: Record<string, string | string[]>): LocalParse {
  const flat = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, Array.isArray(v) ? v[v.length - 1] : v]));
  const parsed = LocalFormPostSchema.safeParse(flat);
  if (!parsed.success) return { ok: false, error: parsed.error.issues.map((i) => i.path.join('.')).join(', ') };
  const form: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(body)) if (!k.startsWith('_')) form[k] = v;
  const p = parsed.data;
  return {
    ok: true,
    event: {
      platform: 'local',
      // One render of one card, one button, one person: a double click is the same event.
      eventKey: `${p._nonce}:${p._action.id}:${p._actor}`,
      actorExternalId: p._actor,
      actionId: p._action.id,
      value: p._action.value,
      form,
      messageId: p._message,
    },
  };
}

export function parseLocalJsonPost(body: unknown): LocalParse {
  const parsed = LocalJsonPostSchema.safeParse(body);
  if (!parsed.success) return { ok: false, error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  const p = parsed.data;
  return {
    ok: true,
    event: { platform: 'local', eventKey: p.eventId, actorExternalId: p.actor, actionId: p.action.id, value: p.action.value, form: p.form, messageId: p.messageId },
  };
}
