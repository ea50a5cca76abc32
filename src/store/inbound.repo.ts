import { eq, sql } from 'drizzle-orm';
import { inboundEvents } from '../../db/schema';
import type { Executor } from './db';
import { prepared } from './prepared';

/**
 * Claims an inbound event key. Returns null when this is the first delivery, or the reply
 * stored for the first one (which may still be null while it is being handled).
 */
export async function claimEvent(db: Executor, key: string, platform: string, now: number): Promise<{ first: true } | { first: false; reply: unknown }> {
  const claim = prepared(db, 'claim', (d) =>
    d.insert(inboundEvents).values({ eventKey: sql.placeholder('key'), platform: sql.placeholder('platform'), receivedAt: sql.placeholder('now') }).onConflictDoNothing().returning({ k: inboundEvents.eventKey }).prepare(),
  );
  const inserted = await claim.all({ key, platform, now });
  if (inserted.length > 0) return { first: true };
  const rows = await db.select({ reply: inboundEvents.reply }).from(inboundEvents).where(eq(inboundEvents.eventKey, key)).limit(1);
  return { first: false, reply: rows[0]?.reply ?? null };
}

export async function storeReply(db: Executor, key: string, reply: unknown): Promise<void> {
  const store = prepared(db, 'storeReply', (d) => d.update(inboundEvents).set({ reply: sql.placeholder('reply') }).where(eq(inboundEvents.eventKey, sql.placeholder('key'))).prepare());
  await store.run({ reply, key });
}

/** Frees a key whose handling failed unexpectedly, so the platform's retry is handled. */
export async function releaseEvent(db: Executor, key: string): Promise<void> {
  await db.delete(inboundEvents).where(eq(inboundEvents.eventKey, key));
}
