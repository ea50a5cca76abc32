/**
 * One writer at a time per database handle, within this process. The embedded libSQL driver
 * is synchronous: a write that waits for a lock held by another connection's open
 * transaction blocks the event loop, so that transaction can never finish (a deadlock until
 * the busy timeout). Queueing writes here avoids it.
 *
 * Across processes (the CLI beside the server) the lock may be held for seconds. The busy
 * timeout is kept short (open-db.ts) and a write that meets SQLITE_BUSY is retried here after
 * an asynchronous pause, so timers (the platform's reply budget) still fire meanwhile.
 * Retrying is safe: every queued work is one statement or one transaction, rolled back on error.
 */
import type { Db } from './db';

const tails = new WeakMap<object, Promise<unknown>>();

/** Total pause before a write that keeps meeting a lock gives up (the old busy timeout was 5 s). */
export const BUSY_RETRY_TOTAL_MS = 10_000;
const MAX_PAUSE_MS = 200;

/** SQLITE_BUSY (or a variant), possibly wrapped by drizzle as the error's cause. */
export function isBusy(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) return true;
  }
  return false;
}

async function retryWhileBusy<T>(work: () => Promise<T>): Promise<T> {
  for (let paused = 0, pause = 10; ; paused += pause, pause = Math.min(pause * 2, MAX_PAUSE_MS)) {
    try {
      return await work();
    } catch (error) {
      if (!isBusy(error) || paused >= BUSY_RETRY_TOTAL_MS) throw error;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

export function exclusive<T>(db: Db, work: () => Promise<T>): Promise<T> {
  const prev = tails.get(db) ?? Promise.resolve();
  const attempt = () => retryWhileBusy(work);
  const run = prev.then(attempt, attempt);
  tails.set(db, run.catch(() => undefined));
  return run;
}

/** A write transaction, queued behind the other writes of this process. */
export function writeTransaction<T>(db: Db, fn: Parameters<Db['transaction']>[0] extends (tx: infer X) => Promise<unknown> ? (tx: X) => Promise<T> : never): Promise<T> {
  return exclusive(db, () => db.transaction(fn));
}
