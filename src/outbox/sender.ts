/**
 * The sender loop's one pass: due outbox rows are delivered through the person's platform and
 * marked sent. Delivery is idempotent per row (the local platform keys messages by outbox id,
 * Feishu by the send uuid), so a crash between delivery and marking never duplicates.
 * A Sender may throw RetryLater (put off, not an attempt) or PermanentFailure (failed now);
 * any other error is a failed attempt, retried with backoff up to MAX_ATTEMPTS.
 *
 * Each platform can have its own lane (OutboxLane): its own drain loop over its own people's
 * rows, so a platform whose API hangs delays nobody on another platform.
 */
import type { CardSpec } from '../../cards/kit';
import type { Deps } from '../deps';
import { dueOutbox, markAttemptFailed, markSent, type OutboxRow, type PlatformFilter } from '../store/outbox.repo';
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
 * `delayMs` and the attempt does not count towards MAX_ATTEMPTS. `appWide`: the platform
 * paused the whole app, not only this person, so the drain stops its pass (the rows it has
 * not reached stay due and find the pause on the next pass) instead of offering every
 * queued card to a closed window.
 */
export class RetryLater extends Error {
  override readonly name = 'RetryLater';
  readonly appWide: boolean;
  constructor(readonly delayMs: number, reason = 'platform asked to retry later', opts: { appWide?: boolean } = {}) {
    super(reason);
    this.appWide = opts.appWide ?? false;
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
  /** Only the rows of people on this platform (a lane); every row when omitted. */
  readonly only?: PlatformFilter;
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
  // People whose card failed or was put off in this pass: their later cards wait for it. The
  // store holds them back across passes while that card is pending (dueOutbox); this covers a
  // retry time that has already come round within the pass.
  const held = new Set<number>();
  let halted = false;
  while (!halted) {
    const now = deps.clock();
    // Rows put off in this pass are not tried again in it, even if their delay has passed.
    const batch = opts.batch ?? 50;
    const rows = (await dueOutbox(deps.db, now, batch + deferred.size, opts.only)).filter((r) => !deferred.has(r.id) && !held.has(r.personId)).slice(0, batch);
    if (rows.length === 0) break;
    const deliverOne = async (row: OutboxRow): Promise<{ outcome: 'sent' } | { outcome: 'failed' } | { outcome: 'deferred'; appWide: boolean }> => {
      const card = (row.payload as { card: CardSpec }).card;
      try {
        const record = await sender.deliver({ row, card }, now);
        await commitSent(row.id, record ?? null);
        return { outcome: 'sent' };
      } catch (e) {
        if (e instanceof RetryLater) {
          deferred.add(row.id);
          const until = deps.clock() + (Number.isFinite(e.delayMs) ? Math.max(1, Math.ceil(e.delayMs)) : 1000);
          deps.log.info('delivery deferred', { outboxId: row.id, until, reason: e.message, appWide: e.appWide });
          await exclusive(deps.db, () => deferDelivery(deps.db, row.id, until, `retry later: ${e.message}`));
          return { outcome: 'deferred', appWide: e.appWide };
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
    // queued: after a failure or a "retry later" their later cards wait rather than overtake.
    const lanes = new Map<number, OutboxRow[]>();
    for (const row of rows) lanes.set(row.personId, [...(lanes.get(row.personId) ?? []), row]);
    const queue = [...lanes.values()];
    const worker = async () => {
      for (let lane = queue.shift(); lane && !halted; lane = queue.shift()) {
        for (const row of lane) {
          if (halted) break;
          const result = await deliverOne(row);
          if (result.outcome === 'sent') {
            sent++;
            continue;
          }
          if (result.outcome === 'failed') failed++;
          else if (result.appWide) halted = true;
          held.add(row.personId);
          break;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 1) }, worker));
  }
  return { sent, failed };
}

/**
 * Runs `pass` one at a time: a call while one runs schedules exactly one more pass after it
 * (however many calls come meanwhile), so rows enqueued during a pass are not left waiting
 * for the next interval. Every call resolves when the passes it may depend on are done.
 */
export function serialPasses(pass: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let again = false;
  const loop = async (): Promise<void> => {
    do {
      again = false;
      await pass();
    } while (again);
  };
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = loop().finally(() => {
      running = null;
    });
    return running;
  };
}

/** A sending lane: a drain loop of its own over one platform's rows, with its own concurrency. */
export interface OutboxLane {
  readonly name: string;
  readonly sender: Sender;
  /** Whose rows (by platform); every row when omitted. */
  readonly only?: PlatformFilter;
  readonly concurrency?: number;
}

const laneOptions = (lane: OutboxLane, opts: DrainOptions): DrainOptions => ({ ...opts, concurrency: lane.concurrency ?? opts.concurrency, only: lane.only ?? opts.only });

/** One pass of every lane, side by side: a slow lane does not hold up the others' sending. */
export async function drainLanes(deps: Deps, lanes: readonly OutboxLane[], opts: DrainOptions = {}): Promise<{ sent: number; failed: number }> {
  const results = await Promise.all(lanes.map((lane) => drainOutbox(deps, lane.sender, laneOptions(lane, opts))));
  return results.reduce((a, r) => ({ sent: a.sent + r.sent, failed: a.failed + r.failed }), { sent: 0, failed: 0 });
}

/**
 * Keeps the outbox moving: each lane drains one pass at a time (serialPasses), independently
 * of the other lanes. A single Sender is one lane over every row.
 */
export function createOutboxPump(deps: Deps, senderOrLanes: Sender | readonly OutboxLane[], opts: DrainOptions = {}) {
  const lanes: readonly OutboxLane[] = Array.isArray(senderOrLanes) ? senderOrLanes : [{ name: 'all', sender: senderOrLanes as Sender }];
  const kicks = lanes.map((lane) =>
    serialPasses(() =>
      drainOutbox(deps, lane.sender, laneOptions(lane, opts)).then(
        () => undefined,
        (e: unknown) => deps.log.error('outbox drain failed', { lane: lane.name, error: String(e) }),
      ),
    ),
  );
  return {
    /** Starts (or schedules) a pass in every lane; resolves when all of them are done. */
    async kick(): Promise<void> {
      await Promise.all(kicks.map((kick) => kick()));
    },
  };
}
