import { and, asc, desc, eq, exists, gt, inArray, lte, notExists, notInArray, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/sqlite-core';
import { identities, messages, outbox } from '../../db/schema';
import type { CardSpec } from '../../cards/kit';
import type { Statement } from './batch';
import type { Executor } from './db';
import { prepared } from './prepared';

export interface OutboundMessage {
  /** Unique per intended delivery: enqueuing the same key twice sends once. */
  dedupeKey: string;
  kind: 'send' | 'update';
  personId: number;
  subject: string;
  card: CardSpec;
  /** 加急: after sending, the platform also buzzes the person (in-app, or by SMS / phone where configured). */
  urgent?: 'app' | 'sms' | 'phone';
}

/** What an outbox row carries. */
export interface OutboxPayload {
  card: CardSpec;
  urgent?: 'app' | 'sms' | 'phone';
}

export async function enqueue(db: Executor, msgs: readonly OutboundMessage[], now: number): Promise<void> {
  const statement = enqueueStatement(db, msgs, now);
  if (statement) await statement;
}

/** The insert of queued messages, for a write batch; null when there are none. */
export function enqueueStatement(db: Executor, msgs: readonly OutboundMessage[], now: number): Statement | null {
  if (msgs.length === 0) return null;
  return db
    .insert(outbox)
    .values(msgs.map((m) => ({ dedupeKey: m.dedupeKey, kind: m.kind, personId: m.personId, subject: m.subject, payload: (m.urgent ? { card: m.card, urgent: m.urgent } : { card: m.card }) satisfies OutboxPayload, nextAttemptAt: now, createdAt: now })))
    .onConflictDoNothing({ target: outbox.dedupeKey });
}

export type OutboxRow = typeof outbox.$inferSelect;

type Platform = (typeof identities.$inferSelect)['platform'];

/**
 * Which people's rows a drain takes, by the platform they are on: those with an account on
 * `on`, or those with none on any of `notOn` (the simulator's lane). One lane per platform
 * lets a hung platform API hold up only its own people's cards.
 */
export type PlatformFilter = { readonly on: Platform } | { readonly notOn: readonly Platform[] };

/**
 * Pending rows due at `now`, oldest first. A person's cards go in the order they were queued:
 * while one of theirs waits for a retry (a failed attempt's backoff, or a platform's "retry
 * later"), the others wait too, so an update never overtakes the send it updates. (The waiting
 * card is their earliest pending one, as the drain sends a person's cards in order.)
 */
export async function dueOutbox(db: Executor, now: number, limit: number, only?: PlatformFilter): Promise<OutboxRow[]> {
  const key = only ? `dueOutbox:${'on' in only ? `on:${only.on}` : `notOn:${[...only.notOn].sort().join(',')}`}` : 'dueOutbox';
  const query = prepared(db, key, (d) => {
    // Uncorrelated, so it runs once per query: a fan-out has thousands of due rows to look at.
    const waiting = alias(outbox, 'waiting');
    const held = d.select({ personId: waiting.personId }).from(waiting).where(and(eq(waiting.status, 'pending'), gt(waiting.nextAttemptAt, sql.placeholder('now'))));
    const conditions: SQL[] = [eq(outbox.status, 'pending'), lte(outbox.nextAttemptAt, sql.placeholder('now')), notInArray(outbox.personId, held)];
    if (only) {
      const platforms = 'on' in only ? [only.on] : [...only.notOn];
      const account = d.select({ one: sql`1` }).from(identities).where(and(eq(identities.personId, outbox.personId), inArray(identities.platform, platforms)));
      conditions.push('on' in only ? exists(account) : notExists(account));
    }
    return d.select().from(outbox).where(and(...conditions)).orderBy(asc(outbox.id)).limit(sql.placeholder('limit')).prepare();
  });
  return query.all({ now, limit });
}

export async function markSent(db: Executor, id: number, now: number): Promise<void> {
  await db.update(outbox).set({ status: 'sent', sentAt: now, attempts: 0 }).where(eq(outbox.id, id));
}

/** The wait after the n-th failed attempt: 2 s, 4 s, 8 s, … doubling each time, at most 10 minutes. */
export const retryDelayMs = (attempts: number): number => Math.min(10 * 60_000, 1000 * 2 ** attempts);

/** Counts a failed attempt: the row is tried again after retryDelayMs, or marked failed after `maxAttempts`. */
export async function markAttemptFailed(db: Executor, row: OutboxRow, error: string, now: number, maxAttempts: number): Promise<void> {
  const attempts = row.attempts + 1;
  const backoff = retryDelayMs(attempts);
  await db
    .update(outbox)
    .set({ attempts, lastError: error.slice(0, 500), status: attempts >= maxAttempts ? 'failed' : 'pending', nextAttemptAt: now + backoff })
    .where(eq(outbox.id, row.id));
}

export async function outboxCounts(db: Executor) {
  const rows = await db.select({ status: outbox.status }).from(outbox);
  return {
    pending: rows.filter((r) => r.status === 'pending').length,
    sent: rows.filter((r) => r.status === 'sent').length,
    failed: rows.filter((r) => r.status === 'failed').length,
  };
}

// Messages as delivered to people (the local simulator's chat, and the record of what was sent).

export type MessageRow = typeof messages.$inferSelect;

/** Records a delivered card once per outbox row, whatever the number of attempts. */
export async function recordDelivered(
  db: Executor,
  m: { platform: string; personId: number; subject: string; outboxId: number; card: CardSpec; externalId?: string },
  now: number,
): Promise<void> {
  await db
    .insert(messages)
    .values({ platform: m.platform, personId: m.personId, subject: m.subject, outboxId: m.outboxId, externalId: m.externalId ?? null, card: m.card, createdAt: now, updatedAt: now })
    .onConflictDoNothing({ target: messages.outboxId });
}

export async function latestMessage(db: Executor, platform: string, personId: number, subject: string): Promise<MessageRow | null> {
  const rows = await db
    .select()
    .from(messages)
    .where(and(eq(messages.platform, platform), eq(messages.personId, personId), eq(messages.subject, subject)))
    .orderBy(desc(messages.id))
    .limit(1);
  return rows[0] ?? null;
}

export async function getMessage(db: Executor, id: number): Promise<MessageRow | null> {
  const rows = await db.select().from(messages).where(eq(messages.id, id)).limit(1);
  return rows[0] ?? null;
}

export async function replaceMessageCard(db: Executor, id: number, card: CardSpec, now: number): Promise<void> {
  await db.update(messages).set({ card, updatedAt: now }).where(eq(messages.id, id));
}

export async function messagesOf(db: Executor, platform: string, personId: number): Promise<MessageRow[]> {
  return db.select().from(messages).where(and(eq(messages.platform, platform), eq(messages.personId, personId))).orderBy(asc(messages.id));
}

/** Which of these dedupe keys are already in the outbox. */
export async function existingDedupeKeys(db: Executor, keys: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < keys.length; i += 500) {
    const rows = await db.select({ k: outbox.dedupeKey }).from(outbox).where(inArray(outbox.dedupeKey, keys.slice(i, i + 500)));
    for (const r of rows) found.add(r.k);
  }
  return found;
}
