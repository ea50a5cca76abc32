/**
 * Outbox outcomes beyond "sent" and "failed attempt": a delivery put off without counting as
 * an attempt (the platform asked to slow down), a delivery that can never succeed (marked
 * failed at once), and the list of failed deliveries for the evaluator to follow up. Also
 * the look-ups a platform sender needs: the person's id on that platform and the message a
 * row already produced.
 */
import { and, desc, eq } from 'drizzle-orm';
import { messages, outbox, people } from '../../db/schema';
import type { CardSpec } from '../../cards/kit';
import type { Executor } from './db';
import type { OutboxRow } from './outbox.repo';

/** Puts a pending row off until `until` without counting an attempt. */
export async function deferDelivery(db: Executor, id: number, until: number, note: string): Promise<void> {
  await db
    .update(outbox)
    .set({ nextAttemptAt: until, lastError: note.slice(0, 500) })
    .where(and(eq(outbox.id, id), eq(outbox.status, 'pending')));
}

/** Marks a row failed at once: retrying cannot help (no account, refused by the platform). */
export async function markPermanentlyFailed(db: Executor, row: OutboxRow, reason: string, now: number): Promise<void> {
  await db
    .update(outbox)
    .set({ status: 'failed', attempts: row.attempts + 1, lastError: reason.slice(0, 500), nextAttemptAt: now })
    .where(eq(outbox.id, row.id));
}

export interface FailedDelivery {
  id: number;
  personId: number;
  personName: string;
  kind: 'send' | 'update';
  subject: string;
  attempts: number;
  lastError: string | null;
  createdAt: number;
  /** When it was last tried (the failed attempt set it). */
  failedAt: number;
}

/** Deliveries that gave up, newest first, with whom they were for and why. */
export async function failedDeliveries(db: Executor, limit: number): Promise<FailedDelivery[]> {
  return db
    .select({
      id: outbox.id,
      personId: outbox.personId,
      personName: people.name,
      kind: outbox.kind,
      subject: outbox.subject,
      attempts: outbox.attempts,
      lastError: outbox.lastError,
      createdAt: outbox.createdAt,
      failedAt: outbox.nextAttemptAt,
    })
    .from(outbox)
    .innerJoin(people, eq(people.id, outbox.personId))
    .where(eq(outbox.status, 'failed'))
    .orderBy(desc(outbox.id))
    .limit(limit);
}

/** Replaces a delivered message's platform id(s) and card (an update that added card parts). */
export async function setMessageDelivery(db: Executor, id: number, externalId: string, card: CardSpec, now: number): Promise<void> {
  await db.update(messages).set({ externalId, card, updatedAt: now }).where(eq(messages.id, id));
}
