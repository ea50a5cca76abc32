/**
 * Prepared queries, built once per database handle. Building a drizzle query costs about as
 * much as running it on the embedded driver, and a few queries run on every click; a
 * transaction is a different handle, so its statements are prepared on it and run inside it.
 */
import type { Executor } from './db';

const cache = new WeakMap<object, Map<string, unknown>>();

export function prepared<T>(db: Executor, key: string, build: (db: Executor) => T): T {
  let perDb = cache.get(db);
  if (!perDb) cache.set(db, (perDb = new Map()));
  let q = perDb.get(key) as T | undefined;
  if (q === undefined) perDb.set(key, (q = build(db)));
  return q;
}
