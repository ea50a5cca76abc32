/**
 * One writer at a time per database handle, within this process. The embedded libSQL driver
 * is synchronous: a write that waits for a lock held by another connection's open
 * transaction blocks the event loop, so that transaction can never finish (a deadlock until
 * the busy timeout). Queueing writes here avoids it; across processes (the CLI beside the
 * server) SQLite's own locking and the busy timeout still apply.
 */
import type { Db } from './db';

const tails = new WeakMap<object, Promise<unknown>>();

export function exclusive<T>(db: Db, work: () => Promise<T>): Promise<T> {
  const prev = tails.get(db) ?? Promise.resolve();
  const run = prev.then(work, work);
  tails.set(db, run.catch(() => undefined));
  return run;
}

/** A write transaction, queued behind the other writes of this process. */
export function writeTransaction<T>(db: Db, fn: Parameters<Db['transaction']>[0] extends (tx: infer X) => Promise<unknown> ? (tx: X) => Promise<T> : never): Promise<T> {
  return exclusive(db, () => db.transaction(fn));
}
