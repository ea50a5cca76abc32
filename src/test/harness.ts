/** Test harness: the real app on a temporary libSQL file, with a fake clock and the local platform. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import type { Client } from '@libsql/client';
import { openDatabase } from '../runtime/open-db';
import { people } from '../../db/schema';
import { seedDemoIfEmpty } from '../../db/seed/demo';
import { walk, type Button, type CardSpec } from '../../cards/kit';
import { buildDeps, silentLogger } from '../deps';
import { createBot } from '../bot/router';
import { registerFlows } from '../flows';
import { createApp } from '../http/app';
import { createOutboxPump } from '../outbox/sender';
import { createLocalSender } from '../platforms/local/sender';
import type { Reply } from '../bot/inbound';

export const T0 = Date.UTC(2026, 10, 30, 1, 0, 0); // 2026-11-30 09:00 Asia/Shanghai

export async function createHarness(opts: { now?: number; wrapClient?: (client: Client) => Client } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'lvzhi-test-'));
  const { db, close } = await openDatabase({ DATABASE_URL: `file:${join(dir, 'test.db')}` }, { wrapClient: opts.wrapClient });
  let now = opts.now ?? T0;
  const deferred: Promise<unknown>[] = [];
  const deps = buildDeps(db, { clock: () => now, log: silentLogger, defer: (w) => void deferred.push(w()) });
  await seedDemoIfEmpty(db, now);
  const bot = createBot(deps);
  registerFlows(bot);
  const pump = createOutboxPump(deps, createLocalSender(deps));
  const app = createApp(deps, bot);
  await pump.kick();
  let seq = 0;

  const personByMobile = async (mobile: string) => {
    const rows = await db.select().from(people).where(eq(people.mobile, mobile));
    if (!rows[0]) throw new Error(`no person ${mobile}`);
    return rows[0];
  };

  const messages = async (personId: number): Promise<Array<{ id: number; subject: string; card: CardSpec }>> => {
    const res = await app.request(`/local/messages/${personId}`);
    return (await res.json()) as Array<{ id: number; subject: string; card: CardSpec }>;
  };

  return {
    db, app, deps,
    advance: (ms: number) => { now += ms; },
    now: () => now,
    personByMobile,
    messages,
    /** Posts an action as the simulator does and lets the outbox deliver what it enqueued. */
    async act(actorPersonId: number, action: { id: string; value: Record<string, string | number> }, form: Record<string, string> = {}, opts: { eventId?: string; messageId?: number } = {}): Promise<Reply> {
      const res = await app.request('/local/action', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ actor: `p${actorPersonId}`, eventId: opts.eventId ?? `e${++seq}`, action, form, ...(opts.messageId ? { messageId: opts.messageId } : {}) }),
      });
      if (res.status !== 200) throw new Error(`action answered ${res.status}: ${await res.text()}`);
      const reply = (await res.json()) as Reply;
      await Promise.all(deferred.splice(0));
      await pump.kick();
      return reply;
    },
    /** Lets deferred work finish and the outbox deliver (the sender loop's work). */
    async flush() {
      await Promise.all(deferred.splice(0));
      await pump.kick();
    },
    async close() {
      await Promise.all(deferred.splice(0));
      close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The buttons of a card that carry an action, by action id. */
export function buttonsOf(card: CardSpec): Map<string, Button> {
  const out = new Map<string, Button>();
  for (const el of walk(card.elements)) if (el.type === 'button' && el.action) out.set(el.action.id, el);
  return out;
}

export function actionOf(card: CardSpec, id: string) {
  const b = buttonsOf(card).get(id);
  if (!b?.action) throw new Error(`card "${card.header.title}" has no ${id} button; it has ${[...buttonsOf(card).keys()].join(', ')}`);
  return { id: b.action.id, value: { ...b.action.value } };
}

export function fieldErrors(card: CardSpec): Record<string, string> {
  const out: Record<string, string> = {};
  for (const el of walk(card.elements)) if ((el.type === 'input' || el.type === 'select' || el.type === 'date') && el.error) out[el.name] = el.error;
  return out;
}
