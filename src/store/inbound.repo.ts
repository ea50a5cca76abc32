import { eq, sql } from 'drizzle-orm';
import { inboundEvents } from '../../db/schema';
import type { Actor } from '../domain/roles';
import { bind, runBatch, runStatements, type Statement } from './batch';
import type { Db, Executor } from './db';
import { actorQuery, toActor, type Platform } from './org.repo';
import { prepared } from './prepared';

/**
 * Claims an inbound event key (a card action's, a direct message's) and finds who sent it, in
 * one batch (one round trip): what every click starts with. The claim commits before the
 * action runs, so a redelivery meanwhile is answered from here instead of running it twice.
 * A duplicate's stored answer is read only then. `reads` (the handler's preload) run in the
 * same batch; their results come back in order.
 */
export async function claimAction(
  db: Db, key: string, platform: Platform, externalId: string, now: number, reads: readonly Statement[] = [],
): Promise<{ first: true; actor: Actor | null; preloaded: unknown[] } | { first: false; reply: unknown }> {
  const claim = prepared(db, 'claim', (d) =>
    d.insert(inboundEvents).values({ eventKey: sql.placeholder('key'), platform: sql.placeholder('platform'), receivedAt: sql.placeholder('now') }).onConflictDoNothing().returning({ k: inboundEvents.eventKey }).prepare(),
  );
  const actor = prepared(db, 'actorByIdentity', (d) => actorQuery(d, sql.placeholder('platform'), sql.placeholder('externalId')).prepare());
  const [inserted, actorRows, ...preloaded] = (await runBatch(db, [bind(claim, { key, platform, now }), bind(actor, { platform, externalId }), ...reads])) as [
    Array<{ k: string }>, Parameters<typeof toActor>[0], ...unknown[],
  ];
  if (inserted.length > 0) return { first: true, actor: toActor(actorRows), preloaded };
  return { first: false, reply: await storedReply(db, key) };
}

async function storedReply(db: Executor, key: string): Promise<unknown> {
  const rows = await db.select({ reply: inboundEvents.reply }).from(inboundEvents).where(eq(inboundEvents.eventKey, key)).limit(1);
  return rows[0]?.reply ?? null;
}

/** The update that stores the answer given, for the action's own write batch. */
export function storeReplyStatement(db: Executor, key: string, reply: unknown): Statement {
  const store = prepared(db, 'storeReply', (d) => d.update(inboundEvents).set({ reply: sql.placeholder('reply') }).where(eq(inboundEvents.eventKey, sql.placeholder('key'))).prepare());
  return bind(store, { reply, key });
}

export async function storeReply(db: Executor, key: string, reply: unknown): Promise<void> {
  await runStatements([storeReplyStatement(db, key, reply)]);
}

/** Frees a key whose handling failed unexpectedly, so the platform's retry is handled. */
export async function releaseEvent(db: Executor, key: string): Promise<void> {
  await db.delete(inboundEvents).where(eq(inboundEvents.eventKey, key));
}
