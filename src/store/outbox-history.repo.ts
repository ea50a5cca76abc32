import { and, asc, eq, gte } from 'drizzle-orm';
import { identities, outbox } from '../../db/schema';
import type { Executor } from './db';
import type { Platform } from './org.repo';

/**
 * When each card of the people on `platform` was marked sent, from `since` on (ms), with the
 * person's account id there, oldest first: what a sender that has just started needs to know
 * about the calls made before it (a row is marked sent after its answer came back, so this
 * is never earlier than when the platform saw the call). A scan of the sent rows: it runs once,
 * when a sender starts.
 */
export async function sentSince(db: Executor, platform: Platform, since: number): Promise<Array<{ sentAt: number; externalId: string }>> {
  const rows = await db
    .select({ sentAt: outbox.sentAt, externalId: identities.externalId })
    .from(outbox)
    .innerJoin(identities, and(eq(identities.personId, outbox.personId), eq(identities.platform, platform)))
    .where(and(eq(outbox.status, 'sent'), gte(outbox.sentAt, since)))
    .orderBy(asc(outbox.sentAt));
  return rows.flatMap((r) => (r.sentAt === null ? [] : [{ sentAt: r.sentAt, externalId: r.externalId }]));
}
