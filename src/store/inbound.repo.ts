import { eq } from 'drizzle-orm';
import { inboundEvents } from '../../db/schema';
import type { Executor } from './db';

/**
 * Claims an inbound event key. Returns null when this is the first delivery, or the reply
 * stored for the first one (which may still be null while it is being handled).
 */
export async function claimEvent(db: Executor, key: string, platform: string, now: number): Promise<{ first: true } | { first: false; reply: unknown }> {
  const inserted = await db.insert(inboundEvents).values({ eventKey: key, platform, receivedAt: now }).onConflictDoNothing().returning({ k: inboundEvents.eventKey });
  if (inserted.length > 0) return { first: true };
  const rows = await db.select({ reply: inboundEvents.reply }).from(inboundEvents).where(eq(inboundEvents.eventKey, key)).limit(1);
  return { first: false, reply: rows[0]?.reply ?? null };
}

export async function storeReply(db: Executor, key: string, reply: unknown): Promise<void> {
  await db.update(inboundEvents).set({ reply }).where(eq(inboundEvents.eventKey, key));
}

/** Frees a key whose handling failed unexpectedly, so the platform's retry is handled. */
export async function releaseEvent(db: Executor, key: string): Promise<void> {
  await db.delete(inboundEvents).where(eq(inboundEvents.eventKey, key));
}
