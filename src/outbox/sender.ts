/**
 * The sender loop's one pass: due outbox rows are delivered through the person's platform and
 * marked sent. Delivery is idempotent per row (the local platform keys messages by outbox id,
 * Feishu by the send uuid), so a crash between delivery and marking never duplicates.
 * A Sender may throw RetryLater (put off, not an attempt) or PermanentFailure (failed now);
 * any other error is a failed attempt, retried with backoff up to MAX_ATTEMPTS.
 */
import type { CardSpec } from '../../cards/kit';
import type { Deps } from '../deps';
import { dueOutbox, markAttemptFailed, markSent, type OutboxRow } from '../store/outbox.repo';
import { deferDelivery, markPermanentlyFailed } from '../store/outbox-status.repo';
import { exclusive, writeTransaction } from '../store/serialize';
import type { Executor } from '../store/db';

export interface Delivery {
  readonly row: OutboxRow;
  readonly card: CardSpec;
}

/** The database writes that go with a delivery, run inside the drain's transaction. */
export type DeliveryRecord = (tx: Executor) => Promise<void>;

/** A platform's outbound side. */
export interface Sender {
  /**
   * Makes the platform call and returns what to write down about it (e.g. the message id),
   * which the drain commits in one transaction with marking the row sent: a row still pending
   * has never been recorded, and a retry of one is left to the platform's idempotency key.
   */
  deliver(d: Delivery, now: number): Promise<DeliveryRecord | void>;
}

export const MAX_ATTEMPTS = 8;

/**
 * Thrown by a Sender when the platform asks to slow down: the row is tried again after
 * `delayMs` and the attempt does not count towards MAX_ATTEMPTS.
 */
export class RetryLater extends Error {
  override readonly name = 'RetryLater';
  constructor(readonly delayMs: number, reason = 'platform asked to retry later') {
    super(reason);
  }
}

/** Thrown by a Sender when retrying cannot help: the row is marked failed at once with `reason`. */
export class PermanentFailure extends Error {
  override readonly name = 'PermanentFailure';
  constructor(readonly reason: string) {
    super(reason);
  }
}

export interface DrainOptions {
  readonly batch?: number;
  /**
   * How many people are sent to at once. One person's cards always go one after another, in
   * order; different people's go side by side, so a slow round trip does not cap the rate.
   */
  readonly concurrency?: number;
}

/**
 * Group commit: deliveries that finish while a commit is running are written down together in
 * the next transaction, so under load many cards share one commit instead of paying one each.
 * Each caller still waits until its own row is committed. If a shared transaction fails, its
 * rows are committed one by one, so one bad record fails only its own row.
 */
function createSentCommitter(deps: Deps) {
  type Item = { rowId: number; record: DeliveryRecord | null; done: (e?: unknown) => void };
  let pending: Item[] = [];
  let flushing = false;
  const commit = (items: Item[]) =>
    writeTransaction(deps.db, async (tx) => {
      const at = deps.clock();
      for (const it of items) {
        if (it.record) await it.record(tx);
        await markSent(tx, it.rowId, at);
      }
    });
  const flush = async () => {
    flushing = true;
    // The embedded driver commits synchronously, so without a pause no other delivery's answer
    // could ever be read in between: yield once to the event loop to let finished ones join.
    await new Promise((r) => setTimeout(r, 0));
    while (pending.length > 0) {
      const items = pending;
      pending = [];
      try {
        await commit(items);
        for (const it of items) it.done();
        if (pending.length === 0) await new Promise((r) => setTimeout(r, 0));
      } catch (e) {
        if (items.length === 1) items[0]!.done(e);
        else for (const it of items) await commit([it]).then(() => it.done(), (err: unknown) => it.done(err));
      }
    }
    flushing = false;
  };
  return (rowId: number, record: DeliveryRecord | null): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      pending.push({ rowId, record, done: (e) => (e === undefined ? resolve() : reject(e as Error)) });
      if (!flushing) void flush();
    });
}

export async function drainOutbox(deps: Deps, sender: Sender, opts: DrainOptions = {}): Promise<{ sent: number; failed: number }> {
  const commitSent = createSentCommitter(deps);
  let sent = 0;
  let failed = 0;
  const deferred = new Set<number>();
  for (;;) {
    const now = deps.clock();
    // Rows put off in this pass are not tried again in it, even if their delay has passed.
    const batch = opts.batch ?? 50;
    const rows = (await dueOutbox(deps.db, now, batch + deferred.size)).filter((r) => !deferred.has(r.id)).slice(0, batch);
    if (rows.length === 0) break;
    const deliverOne = async (row: OutboxRow): Promise<{ outcome: 'sent' | 'failed' } | { outcome: 'deferred'; until: number; reason: string }> => {
      const card = (row.payload as { card: CardSpec }).card;
      try {
        const record = await sender.deliver({ row, card }, now);
        await commitSent(row.id, record ?? null);
        return { outcome: 'sent' };
      } catch (e) {
        if (e instanceof RetryLater) {
          deferred.add(row.id);
          const until = deps.clock() + (Number.isFinite(e.delayMs) ? Math.max(1, Math.ceil(e.delayMs)) : 1000);
          deps.log.info('delivery deferred', { outboxId: row.id, until, reason: e.message });
          await exclusive(deps.db, () => deferDelivery(deps.db, row.id, until, `retry later: ${e.message}`));
          return { outcome: 'deferred', until, reason: e.message };
        }
        if (e instanceof PermanentFailure) {
          deps.log.error('delivery refused', { outboxId: row.id, reason: e.reason });
          await exclusive(deps.db, () => markPermanentlyFailed(deps.db, row, e.reason, deps.clock()));
          return { outcome: 'failed' };
        }
        deps.log.error('delivery failed', { outboxId: row.id, error: String(e) });
        await exclusive(deps.db, () => markAttemptFailed(deps.db, row, String(e), deps.clock(), MAX_ATTEMPTS));
        return { outcome: 'failed' };
      }
    };
    // One lane per person, in id order, so a person's cards arrive in the order they were
    // queued. When the platform asks to wait, the person's later cards wait just as long;
    // after a failure they wait for the next pass rather than overtake it.
    const lanes = new Map<number, OutboxRow[]>();
    for (const row of rows) lanes.set(row.personId, [...(lanes.get(row.personId) ?? []), row]);
    const queue = [...lanes.values()];
    const worker = async () => {
      for (let lane = queue.shift(); lane; lane = queue.shift()) {
        for (const [i, row] of lane.entries()) {
          const result = await deliverOne(row);
          if (result.outcome === 'sent') {
            sent++;
            continue;
          }
          if (result.outcome === 'failed') failed++;
          for (const rest of lane.slice(i + 1)) {
            deferred.add(rest.id);
            if (result.outcome === 'deferred') await exclusive(deps.db, () => deferDelivery(deps.db, rest.id, result.until, `retry later: ${result.reason}`));
          }
          break;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 1) }, worker));
  }
  return { sent, failed };
}

/**
 * Runs drains one at a time: a kick while a drain runs schedules exactly one more pass, so
 * rows enqueued meanwhile are not left waiting for the next interval.
 */
export function createOutboxPump(deps: Deps, sender: Sender, opts: DrainOptions = {}) {
  let running: Promise<void> | null = null;
  let again = false;
  const pass = async (): Promise<void> => {
    do {
      again = false;
      await drainOutbox(deps, sender, opts).catch((e) => deps.log.error('outbox drain failed', { error: String(e) }));
    } while (again);
  };
  return {
    kick(): Promise<void> {
      if (running) {
        again = true;
        return running;
      }
      running = pass().finally(() => {
        running = null;
      });
      return running;
    },
  };
}
