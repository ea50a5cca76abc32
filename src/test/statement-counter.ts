/**
 * Counts what the application sends to the libSQL driver: every SQL statement, and every call
 * that would be one network round trip over HTTP (an execute, a batch, opening or ending an
 * interactive transaction). Wraps the client handed to createDb, so it sees exactly what
 * drizzle sends, on any driver.
 */
import type { Client, InStatement, Transaction } from '@libsql/client';

export interface StatementLog {
  /** The SQL of each statement, in order (transaction control included, as BEGIN / COMMIT / ROLLBACK). */
  readonly statements: string[];
  /** Driver calls: each is one round trip to a remote database. */
  roundTrips: number;
}

const sqlOf = (s: InStatement | [string, unknown?]): string => (typeof s === 'string' ? s : Array.isArray(s) ? s[0] : s.sql);

function countTransaction(tx: Transaction, log: StatementLog): Transaction {
  return new Proxy(tx, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (prop === 'execute') log.statements.push(sqlOf(args[0] as InStatement));
        else if (prop === 'batch') log.statements.push(...(args[0] as InStatement[]).map(sqlOf));
        else if (prop === 'commit' || prop === 'rollback') log.statements.push(prop.toUpperCase());
        else if (prop === 'executeMultiple') log.statements.push(String(args[0]));
        // close() only releases the connection (it rolls back what is left, locally).
        if (prop !== 'close') log.roundTrips++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** A client that records into the returned log; `reset()` starts a new count. */
export function countStatements(client: Client): { client: Client; log: StatementLog; reset: () => void } {
  const log: StatementLog = { statements: [], roundTrips: 0 };
  const counted = new Proxy(client, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (prop === 'execute') {
          log.statements.push(sqlOf(args[0] as InStatement));
          log.roundTrips++;
        } else if (prop === 'batch' || prop === 'migrate') {
          log.statements.push(...(args[0] as InStatement[]).map(sqlOf));
          log.roundTrips++;
        } else if (prop === 'executeMultiple') {
          log.statements.push(String(args[0]));
          log.roundTrips++;
        } else if (prop === 'transaction') {
          log.statements.push('BEGIN');
          log.roundTrips++;
          return (value as (...a: unknown[]) => Promise<Transaction>).apply(target, args).then((tx) => countTransaction(tx, log));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    client: counted,
    log,
    reset: () => {
      log.statements.length = 0;
      log.roundTrips = 0;
    },
  };
}
