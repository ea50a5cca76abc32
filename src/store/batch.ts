/**
 * Statements run as one batch: one transaction, all or nothing, and over HTTP (Workers) one
 * round trip. A batch cannot branch on what a statement returned, so a precondition is checked
 * by a statement that fails when it does not hold (see isStaleRevision in
 * self-evaluation.repo.ts): the batch stops there and is rolled back.
 *
 * A statement is a drizzle query, either built for this run or prepared once per database
 * handle and bound to this run's values (`bind`): building a query costs about as much as
 * running it on the embedded driver (0.1–0.4 ms for a click's larger ones).
 */
import { fillPlaceholders } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { SQLitePreparedQuery } from 'drizzle-orm/sqlite-core';
import type { Db } from './db';
import { exclusive } from './serialize';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any prepared query, whatever its result
type Prepared = SQLitePreparedQuery<any>;

/** A prepared query with the values for its placeholders. */
export interface Bound {
  readonly prepared: Prepared;
  readonly values: Record<string, unknown>;
}

/** A drizzle query built but not run, or a prepared one bound to its values. */
export type Statement = BatchItem<'sqlite'> | Bound;

export const bind = (prepared: Prepared, values: Record<string, unknown> = {}): Bound => ({ prepared, values });

const isBound = (s: Statement): s is Bound => 'prepared' in s && 'values' in s;

/**
 * Runs the statements (nulls skipped) as one transaction through the database's own client and
 * maps each result as drizzle would; `mode` as the client's (`write` takes the write lock first).
 */
export async function runBatch(db: Db, statements: ReadonlyArray<Statement | null>, mode: 'write' | 'deferred' = 'write'): Promise<unknown[]> {
  const list = statements.filter((s): s is Statement => s !== null).map((s) => (isBound(s) ? s : bind((s as unknown as { prepare(): Prepared }).prepare())));
  if (list.length === 0) return [];
  const results = await db.$client.batch(list.map(({ prepared, values }) => {
    const query = prepared.getQuery();
    return { sql: query.sql, args: fillPlaceholders(query.params, values) as never };
  }), mode);
  return results.map((r, i) => list[i]!.prepared.mapResult(r, true));
}

/** A write batch, queued behind this process's other writes and retried while another process holds the lock. */
export function writeBatch(db: Db, statements: ReadonlyArray<Statement | null>): Promise<unknown[]> {
  return exclusive(db, () => runBatch(db, statements));
}

/**
 * Runs statements one by one, on whatever they were built or prepared on: on a transaction,
 * they run in it (when more work must follow in the same transaction, or a read must see them).
 */
export async function runStatements(statements: ReadonlyArray<Statement | null>): Promise<unknown[]> {
  const results: unknown[] = [];
  for (const s of statements) {
    if (!s) continue;
    results.push(isBound(s) ? await s.prepared.execute(s.values) : await s);
  }
  return results;
}

/** The first error in a chain (drizzle and the batch wrap the driver's) whose message matches. */
export function errorMatches(error: unknown, pattern: RegExp): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) if (pattern.test(e.message)) return true;
  return false;
}
