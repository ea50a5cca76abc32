import { and, asc, desc, eq, inArray, lte, sql } from 'drizzle-orm';
import { messages, outbox } from '../../db/schema';
import type { CardSpec } from '../../cards/kit';
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
  if (msgs.length === 0) return;
  await db
    .insert(outbox)
    .values(msgs.map((m) => ({ dedupeKey: m.dedupeKey, kind: m.kind, personId: m.personId, subject: m.subject, payload: (m.urgent ? { card: m.card, urgent: m.urgent } : { card: m.card }) satisfies OutboxPayload, nextAttemptAt: now, createdAt: now })))
    .onConflictDoNothing({ target: outbox.dedupeKey });
}

export type OutboxRow = typeof outbox.$inferSelect;

export async function dueOutbox(db: Executor, now: number, limit: number): Promise<OutboxRow[]> {
  const query = prepared(db, 'dueOutbox', (d) =>
    d.select().from(outbox).where(and(eq(outbox.status, 'pending'), lte(outbox.nextAttemptAt, sql.placeholder('now')))).orderBy(asc(outbox.id)).limit(sql.placeholder('limit')).prepare(),
  );
  return query.all({ now, limit });
}

export async function markSent(db: Executor, id: number, now: number): Promise<void> {
  await db.update(outbox).set({ status: 'sent', sentAt: now, attempts: 0 }).where(eq(outbox.id, id));
}

export async function markAttemptFailed(db: Executor, row: OutboxRow, error: string, now: number, maxAttempts: number): Promise<void> {
  const attempts = row.attempts + 1;
  const backoff = Math.min(60_000 * 10, 1000 * 2 ** attempts);
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
