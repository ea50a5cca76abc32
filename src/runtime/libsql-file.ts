/**
 * The libSQL client for a database file on Node: @libsql/client's Client interface over the
 * `libsql` package (the engine @libsql/client's own file mode uses), for two reasons measured
 * on a click (docs/flows.md):
 *
 * - Each connection keeps its prepared statements, keyed by SQL text. @libsql/client prepares
 *   every statement again on every execute and asks it for its columns twice; a click's dozen
 *   statements paid that each time. Statements stay valid across schema changes (SQLite
 *   re-prepares them itself); the cache is dropped after a migration anyway, as columns are kept.
 * - A statement that met SQLITE_BUSY (another process holding the write lock) is left running
 *   by the engine, and the connection then refuses every COMMIT ("SQL statements in progress")
 *   until that statement object is garbage-collected: a write retried after a lock kept failing.
 *   Such a connection is closed here, and the retry gets a fresh one.
 *
 * Only what lvzhi uses is supported: positional or named arguments, integers as numbers.
 */
import Database from 'libsql';
import { LibsqlBatchError, LibsqlError, type Client, type InArgs, type InStatement, type InValue, type ResultSet, type Row, type Transaction, type TransactionMode } from '@libsql/client';

type Connection = InstanceType<typeof Database>;
type Stmt = ReturnType<Connection['prepare']>;

/** A prepared statement with what is known about it once. */
interface Prepared {
  readonly stmt: Stmt;
  readonly reader: boolean;
  readonly columns: string[];
  readonly columnTypes: string[];
  readonly rowProto: object;
}

/** Statements kept per connection; the least recently used go first (SQL with IN lists varies). */
export const STATEMENT_CACHE_SIZE = 256;

const VALUES = Symbol('values');

class Conn {
  readonly db: Connection;
  readonly cache = new Map<string, Prepared>();
  /** Met SQLITE_BUSY or SQLITE_LOCKED: may hold a running statement, so it is closed, not reused. */
  broken = false;
  /** Statements prepared (not taken from the cache): what the cache saves. */
  prepares = 0;

  constructor(path: string, timeout: number | undefined) {
    this.db = new Database(path, timeout === undefined ? {} : { timeout });
  }

  prepare(sql: string): Prepared {
    const hit = this.cache.get(sql);
    if (hit) {
      this.cache.delete(sql);
      this.cache.set(sql, hit);
      return hit;
    }
    const stmt = this.db.prepare(sql);
    this.prepares++;
    const reader = stmt.reader;
    let columns: string[] = [];
    let columnTypes: string[] = [];
    if (reader) {
      stmt.raw(true);
      const defs = stmt.columns();
      columns = defs.map((c) => c.name);
      columnTypes = defs.map((c) => c.type ?? '');
    }
    const prepared: Prepared = { stmt, reader, columns, columnTypes, rowProto: rowPrototype(columns) };
    this.cache.set(sql, prepared);
    if (this.cache.size > STATEMENT_CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    return prepared;
  }

  run(stmt: InStatement | [string, InArgs?]): ResultSet {
    const { sql, args } = normalize(stmt);
    try {
      const p = this.prepare(sql);
      if (p.reader) {
        const raw = p.stmt.all(args) as unknown[][];
        const rows = raw.map((values) => toRow(p, values));
        return resultSet(p.columns, p.columnTypes, rows, 0, undefined);
      }
      const info = p.stmt.run(args);
      return resultSet([], [], [], info.changes, BigInt(info.lastInsertRowid));
    } catch (error) {
      throw this.failed(error);
    }
  }

  exec(sql: string): void {
    try {
      this.db.exec(sql);
    } catch (error) {
      throw this.failed(error);
    }
  }

  failed(error: unknown): unknown {
    const mapped = toLibsqlError(error);
    if (mapped instanceof LibsqlError && /^SQLITE_(BUSY|LOCKED)/.test(mapped.code)) this.broken = true;
    return mapped;
  }

  close(): void {
    this.cache.clear();
    try {
      if (this.db.open) this.db.close();
    } catch {
      // nothing useful to do while tearing down
    }
  }
}

/** A row as @libsql/client gives it: values by index (not enumerable) and by column name. */
function rowPrototype(columns: readonly string[]): object {
  const proto: PropertyDescriptorMap = { length: { get() { return (this as { [VALUES]: unknown[] })[VALUES].length; } } };
  columns.forEach((_, i) => {
    proto[i] = { get() { return (this as { [VALUES]: unknown[] })[VALUES][i]; } };
  });
  return Object.create(Object.prototype, proto) as object;
}

function toRow(p: Prepared, values: unknown[]): Row {
  const row = Object.create(p.rowProto) as Record<string | symbol, unknown>;
  row[VALUES] = values;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v instanceof Buffer) values[i] = v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength);
    const name = p.columns[i]!;
    // As @libsql/client: the first column of a name gives it, and a name taken by the row
    // itself (`length`, an index) is not given at all.
    if (Object.prototype.hasOwnProperty.call(row, name) || Object.prototype.hasOwnProperty.call(p.rowProto, name)) continue;
    if (name === '__proto__') Object.defineProperty(row, name, { value: values[i], enumerable: true, configurable: true, writable: true });
    else row[name] = values[i];
  }
  return row as unknown as Row;
}

function resultSet(columns: string[], columnTypes: string[], rows: Row[], rowsAffected: number, lastInsertRowid: bigint | undefined): ResultSet {
  return {
    columns, columnTypes, rows, rowsAffected, lastInsertRowid,
    toJSON: () => ({ columns, columnTypes, rows: rows.map((r) => Array.prototype.slice.call(r)), rowsAffected, lastInsertRowid: lastInsertRowid === undefined ? null : String(lastInsertRowid) }),
  };
}

function toSqlValue(v: InValue): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) throw new RangeError('Only finite numbers (not Infinity or NaN) can be passed as arguments');
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  if (v instanceof Date) return v.valueOf();
  if (v === undefined) throw new TypeError('undefined cannot be passed as argument to the database');
  return v;
}

function normalize(stmt: InStatement | [string, InArgs?]): { sql: string; args: unknown[] | Record<string, unknown> } {
  const [sql, args] = typeof stmt === 'string' ? [stmt, undefined] : Array.isArray(stmt) ? [stmt[0], stmt[1]] : [stmt.sql, stmt.args];
  if (args === undefined) return { sql, args: [] };
  if (Array.isArray(args)) return { sql, args: args.map(toSqlValue) };
  const named: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(args)) named[/^[@$:]/.test(name) ? name.slice(1) : name] = toSqlValue(value);
  return { sql, args: named };
}

const BASE_CODES: Record<number, string> = {
  1: 'SQLITE_ERROR', 2: 'SQLITE_INTERNAL', 3: 'SQLITE_PERM', 4: 'SQLITE_ABORT', 5: 'SQLITE_BUSY', 6: 'SQLITE_LOCKED', 7: 'SQLITE_NOMEM',
  8: 'SQLITE_READONLY', 9: 'SQLITE_INTERRUPT', 10: 'SQLITE_IOERR', 11: 'SQLITE_CORRUPT', 12: 'SQLITE_NOTFOUND', 13: 'SQLITE_FULL',
  14: 'SQLITE_CANTOPEN', 15: 'SQLITE_PROTOCOL', 16: 'SQLITE_EMPTY', 17: 'SQLITE_SCHEMA', 18: 'SQLITE_TOOBIG', 19: 'SQLITE_CONSTRAINT',
  20: 'SQLITE_MISMATCH', 21: 'SQLITE_MISUSE', 22: 'SQLITE_NOLFS', 23: 'SQLITE_AUTH', 24: 'SQLITE_FORMAT', 25: 'SQLITE_RANGE', 26: 'SQLITE_NOTADB',
};

/** As @libsql/client maps the engine's errors: `code` is the base code, `extendedCode` the engine's. */
function toLibsqlError(error: unknown): unknown {
  if (!(error instanceof Database.SqliteError)) return error;
  const rawCode = (error as { rawCode?: number }).rawCode;
  const code = rawCode === undefined ? 'SQLITE_UNKNOWN' : BASE_CODES[rawCode & 0xff] ?? `SQLITE_UNKNOWN_${rawCode & 0xff}`;
  return new LibsqlError(error.message, code, error.code, rawCode, error);
}

const BEGIN: Record<TransactionMode, string> = { write: 'BEGIN IMMEDIATE', read: 'BEGIN TRANSACTION READONLY', deferred: 'BEGIN DEFERRED' };

/** Opens a client on a database file (no `file:` prefix); `timeout` is the busy timeout the engine waits. */
export function createFileClient(path: string, opts: { timeout?: number } = {}): Client & { readonly prepares: () => number } {
  const idle: Conn[] = [];
  const borrowed = new Set<Conn>();
  let closed = false;
  let prepares = 0;

  const checkOpen = () => {
    if (closed) throw new LibsqlError('The client is closed', 'CLIENT_CLOSED');
  };
  const acquire = (): Conn => {
    checkOpen();
    const conn = idle.pop() ?? new Conn(path, opts.timeout);
    borrowed.add(conn);
    return conn;
  };
  const release = (conn: Conn) => {
    borrowed.delete(conn);
    prepares += conn.prepares;
    conn.prepares = 0;
    // Never back in the pool mid-transaction, or the next borrower would inherit it.
    if (!conn.broken && conn.db.open && conn.db.inTransaction) {
      try {
        conn.exec('ROLLBACK');
      } catch {
        conn.broken = true;
      }
    }
    if (closed || conn.broken || !conn.db.open) conn.close();
    else idle.push(conn);
  };
  /** Runs statements in a transaction on one connection; rolls back (and gives up the connection when broken) on error. */
  const inTransaction = (conn: Conn, begin: string, stmts: ReadonlyArray<InStatement | [string, InArgs?]>, around?: { before: string; after: string }) => {
    try {
      if (around) conn.exec(around.before);
      conn.run(begin);
      const results = stmts.map((s, i) => {
        try {
          return conn.run(s);
        } catch (error) {
          // As @libsql/client: which statement failed.
          if (error instanceof LibsqlError) throw new LibsqlBatchError(error.message, i, error.code, error.extendedCode, error.rawCode, error.cause instanceof Error ? error.cause : undefined);
          throw error;
        }
      });
      conn.run('COMMIT');
      return results;
    } finally {
      if (conn.db.open && conn.db.inTransaction) {
        try {
          conn.exec('ROLLBACK');
        } catch {
          conn.broken = true;
        }
      }
      if (around) {
        try {
          conn.exec(around.after);
        } catch {
          conn.broken = true;
        }
      }
    }
  };

  const client = {
    protocol: 'file',
    get closed() {
      return closed;
    },
    prepares: () => prepares + [...idle, ...borrowed].reduce((n, c) => n + c.prepares, 0),
    async execute(stmt: InStatement | string, args?: InArgs): Promise<ResultSet> {
      const conn = acquire();
      try {
        return conn.run(typeof stmt === 'string' ? { sql: stmt, args: args ?? [] } : stmt);
      } finally {
        release(conn);
      }
    },
    async batch(stmts: Array<InStatement | [string, InArgs?]>, mode: TransactionMode = 'deferred'): Promise<ResultSet[]> {
      const conn = acquire();
      try {
        return inTransaction(conn, BEGIN[mode], stmts);
      } finally {
        release(conn);
      }
    },
    async migrate(stmts: InStatement[]): Promise<ResultSet[]> {
      const conn = acquire();
      try {
        return inTransaction(conn, BEGIN.deferred, stmts, { before: 'PRAGMA foreign_keys=off', after: 'PRAGMA foreign_keys=on' });
      } finally {
        // The schema changed: statements are prepared again, with their new columns.
        for (const c of [...idle, ...borrowed]) c.cache.clear();
        release(conn);
      }
    },
    async executeMultiple(sql: string): Promise<void> {
      const conn = acquire();
      try {
        conn.exec(sql);
      } finally {
        for (const c of [...idle, ...borrowed]) c.cache.clear();
        release(conn);
      }
    },
    async transaction(mode: TransactionMode = 'write'): Promise<Transaction> {
      const conn = acquire();
      try {
        conn.run(BEGIN[mode]);
      } catch (error) {
        release(conn);
        throw error;
      }
      return openTransaction(conn, release);
    },
    async sync(): Promise<undefined> {
      throw new LibsqlError('sync is not supported by the file client', 'SYNC_NOT_SUPPORTED');
    },
    close(): void {
      closed = true;
      for (const c of idle.splice(0)) c.close();
      for (const c of borrowed) c.close();
      borrowed.clear();
    },
    reconnect(): void {
      for (const c of idle.splice(0)) c.close();
      closed = false;
    },
  };
  return client as unknown as Client & { readonly prepares: () => number };
}

/** An interactive transaction holding its connection until commit, rollback or close. */
function openTransaction(conn: Conn, release: (c: Conn) => void): Transaction {
  let settled = false;
  const settle = () => {
    if (settled) return;
    settled = true;
    release(conn);
  };
  const live = () => {
    if (settled || !conn.db.open || !conn.db.inTransaction) throw new LibsqlError('The transaction is closed', 'TRANSACTION_CLOSED');
    return conn;
  };
  return {
    async execute(stmt: InStatement) {
      return live().run(stmt);
    },
    async batch(stmts: InStatement[]) {
      return stmts.map((s) => live().run(s));
    },
    async executeMultiple(sql: string) {
      live().exec(sql);
    },
    async rollback() {
      try {
        if (!settled && conn.db.open && conn.db.inTransaction) conn.run('ROLLBACK');
      } finally {
        settle();
      }
    },
    async commit() {
      try {
        live().run('COMMIT');
      } finally {
        settle();
      }
    },
    close() {
      settle();
    },
    get closed() {
      return settled || !conn.db.open || !conn.db.inTransaction;
    },
  } as Transaction;
}
