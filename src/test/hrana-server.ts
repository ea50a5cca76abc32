/**
 * Test and bench infrastructure (Node only, never shipped to Workers): a stand-in for sqld,
 * libSQL's server, that speaks Hrana over HTTP the way sqld does, backed by a real libSQL file
 * through the `libsql` package. `@libsql/client/web` and drizzle's `drizzle-orm/libsql/web`
 * use it exactly as they use sqld or Turso.
 *
 * Endpoints (as sqld's router): GET /v2, /v3, /v3-protobuf (version probes), /health, /version;
 * POST /v2/pipeline and /v3/pipeline (JSON), /v3-protobuf/pipeline (Protobuf), /v3/cursor (JSON
 * lines) and /v3-protobuf/cursor (length-delimited Protobuf). @libsql/client 0.18's web client
 * uses only POST /v2/pipeline: hrana-client 0.10 opens HTTP at protocol version 2 and probes
 * nothing. Stream requests: execute, batch, sequence, describe, store_sql, close_sql, close,
 * get_autocommit (v3 only); batch conditions ok, error, not, and, or, is_autocommit (v3 only).
 *
 * Copied from sqld (libsql-server/src/hrana, connection/libsql.rs, query.rs, query_analysis.rs):
 * - a stream is one connection; its baton (HMAC-signed stream id and sequence number) must be
 *   shown exactly once: a reused or forged baton is a protocol error (HTTP 400, text/plain) and
 *   a protocol error drops the stream; `close` ends it. Streams idle for 10 s expire (rolled
 *   back) and answer HTTP 500 {message, code: STREAM_EXPIRED} for 5 more minutes.
 * - a write transaction may hold the lock for 5 s (TXN_TIMEOUT): past that, a waiting writer
 *   steals it (the holder is rolled back) and the holder's next statements all fail with
 *   TRANSACTION_TIMEOUT; writers otherwise wait for the lock (SQLITE_BUSY is retried without
 *   blocking the event loop) instead of failing.
 * - statements are parsed before anything runs: an empty text is SQL_NO_STATEMENT, two
 *   statements in one execute SQL_MANY_STATEMENTS, a syntax error or a statement sqld refuses
 *   (ATTACH, VACUUM, temporary tables, PRAGMA journal_mode = …, …) SQL_PARSE_ERROR — for a batch
 *   or a sequence before any of its statements ran.
 * - arguments bind as sqld binds them: `:a` finds `:a` or `a`, a missing or surplus argument
 *   is ARGS_INVALID (the embedded client binds NULL and ignores extras); positional and named
 *   arguments together are ARGS_BOTH_POSITIONAL_AND_NAMED.
 * - errors: SQLite errors are "SQLite error: <message>" with the base code as sqld names it
 *   (SQLITE_CONSTRAINT, SQLITE_BUSY, …, and SQLITE_UNKNOWN for plain SQLITE_ERROR); errors in
 *   preparing that point into the text are SQL_INPUT_ERROR. Hrana carries no extended code, so
 *   LibsqlError.code matches the embedded client's (SQLITE_CONSTRAINT) but extendedCode
 *   (SQLITE_CONSTRAINT_UNIQUE there) is undefined, as with sqld.
 * - results: integers as decimal strings, blobs as unpadded base64, last_insert_rowid for
 *   INSERTs only, affected_row_count for INSERT/UPDATE/DELETE only, no rows when want_rows is
 *   false; stored SQL at most 50 per stream and 5000 bytes each (SQL_STORE_TOO_MANY,
 *   SQL_STORE_TOO_LARGE); responses over 10 MB are RESPONSE_TOO_LARGE.
 *
 * Known divergences:
 * - sqld re-serializes each statement from its parse tree before running it, so unaliased
 *   expression columns may be named differently there ("1 + 1" for `SELECT 1+1`).
 * - the classifier is a tokenizer, not sqld's parser: syntax errors are SQLite's messages (same
 *   code, other wording); SQL_INPUT_ERROR's offset is found by looking the name up in the text;
 *   pragma names match case-insensitively.
 * - the write lock is taken to be held from a transaction's first INSERT/UPDATE/DELETE/CREATE/
 *   DROP/ALTER or BEGIN IMMEDIATE/EXCLUSIVE (sqld asks SQLite); writers wait for it here before
 *   running (sqld's busy handler waits inside SQLite) — same order, same stealing.
 * - a writer blocked by a lock held outside this server (another process on the file) gives up
 *   with SQLITE_BUSY after busyTimeoutMs (sqld spins until it gets it).
 * - after a statement fails with SQLITE_BUSY* (e.g. a deferred transaction whose snapshot went
 *   stale) the stream continues on a fresh connection, its transaction reopened: it keeps
 *   working and commits or rolls back as on sqld, but reads a fresh snapshot, and per-connection
 *   state (PRAGMA foreign_keys = OFF, savepoints) is gone. See replaceConn().
 * - an expired stream's lock is freed at expiry (sqld frees it when a writer steals it).
 * - rows_read and rows_written are estimates (rows returned, rows changed); replication_index
 *   is always null; no Hrana over WebSocket, no Hrana 1 (`POST /`, /v1/*), no namespaces; the
 *   token is compared as an opaque bearer token, not verified as a JWT.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'libsql';

export interface HranaServerOptions {
  /** A libSQL/SQLite file (put in WAL mode on start). */
  path: string;
  /** When set, pipeline and cursor requests need `Authorization: Bearer <authToken>`. */
  authToken?: string;
  /** Default: a free port. */
  port?: number;
  /** Idle time after which a stream expires and is rolled back (sqld: 10 s). */
  streamIdleMs?: number;
  /** How long a write transaction may hold the lock (sqld's TXN_TIMEOUT: 5 s). */
  txnTimeoutMs?: number;
  /** How long a writer waits for a lock this server does not track (default 5 s). */
  busyTimeoutMs?: number;
  /** Largest result of one request (sqld: 10 MB). */
  maxResponseBytes?: number;
}

export interface HranaServerStats {
  /** Pipeline and cursor requests received (refused ones included). */
  requests: number;
  /** Streams (connections) opened. */
  streams: number;
  /** Streams open now. */
  readonly openStreams: number;
}

export interface HranaServer {
  /** http://127.0.0.1:port */
  url: string;
  close(): Promise<void>;
  stats: HranaServerStats;
}

// ---------------------------------------------------------------------------------------------
// Protocol model

type Value = null | bigint | number | string | Uint8Array;
interface NamedArg { name: string; value: Value }
interface ProtoStmt { sql: string | undefined; sqlId: number | undefined; args: Value[]; namedArgs: NamedArg[]; wantRows: boolean }
type Cond =
  | { type: 'ok' | 'error'; step: number }
  | { type: 'not'; cond: Cond }
  | { type: 'and' | 'or'; conds: Cond[] }
  | { type: 'is_autocommit' };
interface ProtoBatch { steps: Array<{ condition: Cond | undefined; stmt: ProtoStmt }> }
type StreamRequest =
  | { type: 'close' }
  | { type: 'execute'; stmt: ProtoStmt }
  | { type: 'batch'; batch: ProtoBatch }
  | { type: 'sequence' | 'describe'; sql: string | undefined; sqlId: number | undefined }
  | { type: 'store_sql'; sqlId: number; sql: string }
  | { type: 'close_sql'; sqlId: number }
  | { type: 'get_autocommit' };
interface PipelineReq { baton: string | undefined; requests: StreamRequest[] }
interface CursorReq { baton: string | undefined; batch: ProtoBatch }

interface HError { message: string; code: string }
interface Col { name: string | null; decltype: string | null }
interface StmtResult { cols: Col[]; rows: Value[][]; affectedRowCount: number; lastInsertRowid: bigint | null; rowsRead: number; rowsWritten: number; queryDurationMs: number }
interface BatchResult { stepResults: Array<StmtResult | null>; stepErrors: Array<HError | null> }
interface DescribeResult { params: Array<{ name: string | null }>; cols: Array<{ name: string; decltype: string | null }>; isExplain: boolean; isReadonly: boolean }
type StreamResponse =
  | { type: 'close' | 'sequence' | 'store_sql' | 'close_sql' }
  | { type: 'execute'; result: StmtResult }
  | { type: 'batch'; result: BatchResult }
  | { type: 'describe'; result: DescribeResult }
  | { type: 'get_autocommit'; isAutocommit: boolean };
type StreamResult = { type: 'ok'; response: StreamResponse } | { type: 'error'; error: HError };
type CursorEntry =
  | { type: 'step_begin'; step: number; cols: Col[] }
  | { type: 'step_end'; affectedRowCount: number; lastInsertRowid: bigint | null }
  | { type: 'step_error'; step: number; error: HError }
  | { type: 'row'; row: Value[] }
  | { type: 'error'; error: HError };

/** sqld's ProtocolError: a client bug. HTTP 400 text/plain; the stream is dropped. */
class ProtocolError extends Error {}
/** sqld's StreamError: HTTP 500 with an encoded Hrana error. */
class StreamExpired extends Error {
  readonly code = 'STREAM_EXPIRED';
  constructor() { super('The stream has expired due to inactivity'); }
}
/** An error sqld reports inside the response (StmtError, BatchError, StreamResponseError). */
class HranaError extends Error {
  constructor(message: string, readonly code: string) { super(message); }
  get proto(): HError { return { message: this.message, code: this.code }; }
}
class ResponseTooLarge extends HranaError {
  constructor() { super('Response is too large', 'RESPONSE_TOO_LARGE'); }
}
const TXN_TIMEOUT_ERROR: HError = { message: 'Transaction timed out', code: 'TRANSACTION_TIMEOUT' };

// ---------------------------------------------------------------------------------------------
// SQL analysis: a tokenizer after SQLite's, statement splitting after sqlite3_complete(),
// classification after sqld's query_analysis.rs, parameters numbered as SQLite numbers them.

interface Tok { t: 'id' | 'qid' | 'str' | 'num' | 'param' | 'semi' | 'op'; s: string; u: string; at: number; end: number }
type Kind = 'read' | 'write' | 'txn_begin' | 'txn_end' | 'savepoint' | 'release' | 'other';
interface StmtInfo {
  sql: string;
  /** null: a statement sqld refuses to run. */
  kind: Kind | null;
  isIud: boolean;
  isInsert: boolean;
  isExplain: boolean;
  beginMode: 'deferred' | 'immediate' | 'exclusive' | null;
  /** Takes the write lock: INSERT/UPDATE/DELETE, CREATE/DROP/ALTER, BEGIN IMMEDIATE/EXCLUSIVE. */
  locks: boolean;
  /** Parameter count and the name of each index (undefined for `?`). */
  params: { count: number; names: Array<string | undefined> };
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isIdStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 0x80;
const isIdChar = (c: number) => isIdStart(c) || isDigit(c) || c === 36;

function tokenize(sql: string): Tok[] {
  const toks: Tok[] = [];
  const n = sql.length;
  let i = 0;
  const push = (t: Tok['t'], start: number) => {
    const s = sql.slice(start, i);
    toks.push({ t, s, u: t === 'id' ? s.toUpperCase() : '', at: start, end: i });
  };
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 12 || c === 13) { i++; continue; }
    if (c === 45 && sql.charCodeAt(i + 1) === 45) { const e = sql.indexOf('\n', i); i = e < 0 ? n : e + 1; continue; }
    if (c === 47 && sql.charCodeAt(i + 1) === 42) { const e = sql.indexOf('*/', i + 2); i = e < 0 ? n : e + 2; continue; }
    const start = i;
    if (c === 39 || c === 34 || c === 96) {
      i++;
      while (i < n) {
        if (sql.charCodeAt(i) === c) {
          if (sql.charCodeAt(i + 1) === c) { i += 2; continue; }
          i++;
          break;
        }
        i++;
      }
      push(c === 39 ? 'str' : 'qid', start);
    } else if (c === 91) {
      const e = sql.indexOf(']', i); i = e < 0 ? n : e + 1; push('qid', start);
    } else if (c === 59) {
      i++; push('semi', start);
    } else if (c === 63) {
      i++; while (i < n && isDigit(sql.charCodeAt(i))) i++; push('param', start);
    } else if (c === 58 || c === 64 || c === 35 || c === 36) {
      i++;
      const first = i;
      while (i < n) {
        const d = sql.charCodeAt(i);
        if (isIdChar(d)) { i++; continue; }
        if (c === 36 && d === 58 && sql.charCodeAt(i + 1) === 58) { i += 2; continue; }
        if (c === 36 && d === 40 && i > first) { const e = sql.indexOf(')', i); i = e < 0 ? n : e + 1; }
        break;
      }
      push(i > first ? 'param' : 'op', start);
    } else if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      i++;
      while (i < n) {
        const d = sql.charCodeAt(i);
        if ((d === 101 || d === 69) && (sql[i + 1] === '+' || sql[i + 1] === '-')) { i += 2; continue; }
        if (isIdChar(d) || d === 46) { i++; continue; }
        break;
      }
      push('num', start);
    } else if (isIdStart(c)) {
      if ((c === 120 || c === 88) && sql.charCodeAt(i + 1) === 39) {
        const e = sql.indexOf("'", i + 2); i = e < 0 ? n : e + 1; push('str', start);
      } else {
        i++; while (i < n && isIdChar(sql.charCodeAt(i))) i++; push('id', start);
      }
    } else {
      i++; push('op', start);
    }
  }
  return toks;
}

/** Statements in the text; inside CREATE TRIGGER a `;` ends the statement only after `; END`. */
function splitStatements(toks: Tok[]): Tok[][] {
  const out: Tok[][] = [];
  let cur: Tok[] = [];
  let trigger = false;
  for (const tok of toks) {
    if (tok.t === 'semi') {
      if (trigger && !(cur[cur.length - 1]?.u === 'END' && cur[cur.length - 2]?.t === 'semi')) { cur.push(tok); continue; }
      if (cur.length > 0) out.push(cur);
      cur = [];
      trigger = false;
      continue;
    }
    cur.push(tok);
    if (!trigger && tok.u === 'TRIGGER' && cur[0]?.u === 'CREATE'
      && (cur.length === 2 || (cur.length === 3 && (cur[1]?.u === 'TEMP' || cur[1]?.u === 'TEMPORARY')))) trigger = true;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

const unquote = (t: Tok | undefined) => {
  if (!t) return '';
  if (t.t === 'qid' || t.t === 'str') return t.s.slice(1, -1);
  return t.s;
};

const READ_PRAGMAS = new Set(['table_list', 'index_list', 'table_info', 'table_xinfo', 'index_xinfo', 'pragma_list', 'compile_options', 'database_list', 'function_list', 'module_list', 'encoding']);
const WRITE_PRAGMAS = new Set(['defer_foreign_keys', 'foreign_keys', 'foreign_key_list', 'foreign_key_check', 'collation_list', 'data_version', 'freelist_count', 'integrity_check', 'legacy_file_format', 'page_count', 'quick_check', 'stats', 'user_version']);
const NO_ARG_PRAGMAS = new Set(['analysis_limit', 'application_id', 'auto_vacuum', 'automatic_index', 'busy_timeout', 'cache_size', 'cache_spill', 'cell_size_check', 'checkpoint_fullfsync', 'fullfsync', 'hard_heap_limit', 'journal_mode', 'journal_size_limit', 'legacy_alter_table', 'locking_mode', 'max_page_count', 'mmap_size', 'page_size', 'query_only', 'read_uncommitted', 'recursive_triggers', 'reverse_unordered_selects', 'schema_version', 'secure_delete', 'soft_heap_limit', 'synchronous', 'temp_store', 'threads', 'trusted_schema', 'wal_autocheckpoint']);

/** sqld's StmtKind::pragma_kind: the pragmas it runs, and whether they may take an argument. */
function pragmaKind(toks: Tok[], at: number): Kind | null {
  let k = at + 1;
  if (toks[k + 1]?.s === '.') k += 2;
  const name = unquote(toks[k]).toLowerCase();
  const next = toks[k + 1]?.s;
  const body = next === '=' || next === '(';
  if (READ_PRAGMAS.has(name)) return 'read';
  if (WRITE_PRAGMAS.has(name)) return 'write';
  if (NO_ARG_PRAGMAS.has(name)) return body ? null : 'write';
  return null;
}

function classify(toks: Tok[]): Omit<StmtInfo, 'sql' | 'params'> {
  const w = (k: number) => (toks[k]?.t === 'id' ? toks[k].u : '');
  const base = { isIud: false, isInsert: false, isExplain: false, beginMode: null, locks: false };
  if (w(0) === 'EXPLAIN') {
    if (w(1) === 'PRAGMA') return { ...base, isExplain: true, kind: pragmaKind(toks, 1) };
    return { ...base, isExplain: true, kind: 'other' };
  }
  let head = w(0);
  if (head === 'WITH') {
    let depth = 0;
    head = '';
    for (const t of toks.slice(1)) {
      if (t.s === '(') depth++;
      else if (t.s === ')') depth--;
      else if (depth === 0 && t.t === 'id' && ['SELECT', 'VALUES', 'INSERT', 'REPLACE', 'UPDATE', 'DELETE'].includes(t.u)) { head = t.u; break; }
    }
  }
  switch (head) {
    case 'SELECT': case 'VALUES': return { ...base, kind: 'read' };
    case 'INSERT': case 'REPLACE': return { ...base, kind: 'write', isIud: true, isInsert: true, locks: true };
    case 'UPDATE': case 'DELETE': return { ...base, kind: 'write', isIud: true, locks: true };
    case 'BEGIN': {
      const m = w(1);
      const beginMode = m === 'IMMEDIATE' ? 'immediate' : m === 'EXCLUSIVE' ? 'exclusive' : 'deferred';
      return { ...base, kind: 'txn_begin', beginMode, locks: beginMode !== 'deferred' };
    }
    case 'COMMIT': case 'END': return { ...base, kind: 'txn_end' };
    case 'ROLLBACK': return { ...base, kind: toks.some((t) => t.u === 'TO') ? 'release' : 'txn_end' };
    case 'SAVEPOINT': return { ...base, kind: 'savepoint' };
    case 'RELEASE': return { ...base, kind: 'release' };
    case 'CREATE': {
      let k = 1;
      const temp = w(1) === 'TEMP' || w(1) === 'TEMPORARY';
      if (temp) k++;
      if (w(k) === 'UNIQUE') k++;
      const obj = w(k);
      if (obj === 'VIRTUAL' || obj === 'INDEX') return { ...base, kind: 'write', locks: true };
      if (obj === 'TABLE' || obj === 'VIEW' || obj === 'TRIGGER') return temp ? { ...base, kind: null } : { ...base, kind: 'write', locks: true };
      return { ...base, kind: null };
    }
    case 'DROP': return ['TABLE', 'INDEX', 'TRIGGER', 'VIEW'].includes(w(1)) ? { ...base, kind: 'write', locks: true } : { ...base, kind: null };
    case 'ALTER': return { ...base, kind: 'write', locks: true };
    case 'PRAGMA': return { ...base, kind: pragmaKind(toks, 0) };
    default: return { ...base, kind: null };
  }
}

/** Parameter indexes as SQLite assigns them: `?` next, `?N` N, a name its first index. */
function paramsOf(toks: Tok[]): StmtInfo['params'] {
  let count = 0;
  const names: Array<string | undefined> = [];
  const seen = new Map<string, number>();
  for (const t of toks) {
    if (t.t !== 'param') continue;
    if (t.s === '?') { count++; continue; }
    if (seen.has(t.s)) continue;
    let index: number;
    if (t.s[0] === '?') {
      index = Number(t.s.slice(1));
      count = Math.max(count, index);
    } else {
      index = ++count;
    }
    seen.set(t.s, index);
    if (names[index] === undefined) names[index] = t.s;
  }
  return { count, names };
}

// ---------------------------------------------------------------------------------------------
// Server state

type Conn = Database.Database;
interface Slot { stream: Stream; createdAt: number; stolen: boolean }
interface Stream {
  id: string;
  idBuf: Buffer;
  seq: bigint;
  db: Conn | null;
  sqls: Map<number, string>;
  slot: Slot | null;
  timer: NodeJS.Timeout | undefined;
  changes: Database.Statement | undefined;
}
type Handle = { state: 'available' | 'acquired'; stream: Stream } | { state: 'expired' };

interface Ctx {
  path: string;
  authToken: string | undefined;
  streamIdleMs: number;
  txnTimeoutMs: number;
  busyTimeoutMs: number;
  maxResponseBytes: number;
  batonKey: Buffer;
  handles: Map<string, Handle>;
  slot: Slot | null;
  slotWaiters: Set<() => void>;
  sqlCache: Map<string, StmtInfo[]>;
  closed: boolean;
  stats: { requests: number; streams: number };
}

const MASK64 = (1n << 64n) - 1n;
const MAX_STORED_SQLS = 50;
const MAX_STORED_SQL_BYTES = 5000;
const EXPIRED_KEPT_MS = 300_000;

function analyze(ctx: Ctx, sql: string): StmtInfo[] {
  const hit = ctx.sqlCache.get(sql);
  if (hit) return hit;
  const infos = splitStatements(tokenize(sql)).map((toks): StmtInfo => ({
    sql: sql.slice(toks[0]!.at, toks[toks.length - 1]!.end),
    ...classify(toks),
    params: paramsOf(toks),
  }));
  if (ctx.sqlCache.size >= 2000) ctx.sqlCache.clear();
  ctx.sqlCache.set(sql, infos);
  return infos;
}

function encodeBaton(ctx: Ctx, stream: Stream): string {
  const payload = Buffer.alloc(16);
  stream.idBuf.copy(payload, 0);
  payload.writeBigUInt64BE(stream.seq, 8);
  const mac = createHmac('sha256', ctx.batonKey).update(payload).digest();
  return Buffer.concat([payload, mac]).toString('base64').replace(/=+$/, '');
}

function decodeBaton(ctx: Ctx, baton: string): { id: string; seq: bigint } {
  const invalid = new ProtocolError('Received an invalid baton');
  if (!/^[A-Za-z0-9+/]*$/.test(baton)) throw invalid;
  const data = Buffer.from(baton, 'base64');
  if (data.length !== 48) throw invalid;
  const payload = data.subarray(0, 16);
  const mac = createHmac('sha256', ctx.batonKey).update(payload).digest();
  if (!timingSafeEqual(mac, data.subarray(16))) throw invalid;
  return { id: payload.subarray(0, 8).toString('hex'), seq: payload.readBigUInt64BE(8) };
}

function openConn(ctx: Ctx): Conn {
  return new Database(ctx.path);
}

function closeDb(ctx: Ctx, stream: Stream): void {
  const db = stream.db;
  if (!db) return;
  releaseSlot(ctx, stream);
  stream.db = null;
  stream.changes = undefined;
  try {
    if (db.open && db.inTransaction) db.exec('ROLLBACK');
  } catch { /* the connection is closed right after */ }
  try { db.close(); } catch { /* already gone */ }
}

function acquire(ctx: Ctx, baton: string | undefined): Stream {
  if (ctx.closed) throw new Error('the server is closing');
  if (baton === undefined) {
    let idBuf = randomBytes(8);
    while (ctx.handles.has(idBuf.toString('hex'))) idBuf = randomBytes(8);
    const stream: Stream = {
      id: idBuf.toString('hex'), idBuf, seq: randomBytes(8).readBigUInt64BE(0),
      db: openConn(ctx), sqls: new Map(), slot: null, timer: undefined, changes: undefined,
    };
    ctx.handles.set(stream.id, { state: 'acquired', stream });
    ctx.stats.streams++;
    return stream;
  }
  const { id, seq } = decodeBaton(ctx, baton);
  const handle = ctx.handles.get(id);
  if (!handle) throw new ProtocolError('Received an invalid baton');
  if (handle.state === 'expired') throw new StreamExpired();
  if (handle.state === 'acquired' || handle.stream.seq !== seq) throw new ProtocolError('Received a baton that has already been used');
  const stream = handle.stream;
  clearTimeout(stream.timer);
  stream.seq = (stream.seq + 1n) & MASK64;
  ctx.handles.set(id, { state: 'acquired', stream });
  return stream;
}

/** The baton for the next request, or null when the stream was closed. */
function release(ctx: Ctx, stream: Stream): string | null {
  if (!stream.db || ctx.closed) {
    destroy(ctx, stream);
    return null;
  }
  ctx.handles.set(stream.id, { state: 'available', stream });
  clearTimeout(stream.timer);
  stream.timer = setTimeout(() => expire(ctx, stream), ctx.streamIdleMs);
  stream.timer.unref();
  return encodeBaton(ctx, stream);
}

function destroy(ctx: Ctx, stream: Stream): void {
  clearTimeout(stream.timer);
  closeDb(ctx, stream);
  const handle = ctx.handles.get(stream.id);
  if (handle && handle.state !== 'expired' && handle.stream === stream) ctx.handles.delete(stream.id);
}

function expire(ctx: Ctx, stream: Stream): void {
  const handle = ctx.handles.get(stream.id);
  if (!handle || handle.state !== 'available' || handle.stream !== stream) return;
  closeDb(ctx, stream);
  ctx.handles.set(stream.id, { state: 'expired' });
  const t = setTimeout(() => {
    if (ctx.handles.get(stream.id)?.state === 'expired') ctx.handles.delete(stream.id);
  }, EXPIRED_KEPT_MS);
  t.unref();
}

function liveDb(stream: Stream): Conn {
  if (!stream.db) throw new ProtocolError('Stream for this baton was closed');
  return stream.db;
}

function releaseSlot(ctx: Ctx, stream: Stream): void {
  if (!stream.slot) return;
  if (ctx.slot === stream.slot) freeSlot(ctx);
  stream.slot = null;
}

function freeSlot(ctx: Ctx): void {
  ctx.slot = null;
  for (const wake of [...ctx.slotWaiters]) wake();
}

/** sqld's lock stealing: the holder is rolled back and learns it on its next statement. */
function steal(ctx: Ctx, slot: Slot): void {
  slot.stolen = true;
  const db = slot.stream.db;
  try {
    if (db && db.open && db.inTransaction) db.exec('ROLLBACK');
  } catch { /* rolled back anyway when the stream goes */ }
  if (ctx.slot === slot) freeSlot(ctx);
}

// ---------------------------------------------------------------------------------------------
// Statement execution

type Args = { named: false; values: Value[] } | { named: true; values: Map<string, Value> };
interface Step { info: StmtInfo; args: Args; wantRows: boolean; cond: Cond | undefined }
/** A step's outcome; `executed`: SQLite ran it (so a write took the lock even if it failed). */
type Outcome = { ok: true; result: StmtResult } | { ok: false; error: HError; cols: Col[] | undefined; executed: boolean };
interface Budget { used: number }

/** A failed attempt at a statement, in preparing or in running it; SQLITE_BUSY* is `busy`. */
class StepFailure extends Error {
  constructor(readonly error: HError, readonly cols: Col[] | undefined, readonly phase: 'prepare' | 'bind' | 'step', readonly busy: string | null) { super(error.message); }
}

const SQLD_CODES: Record<number, string> = {
  2: 'SQLITE_INTERNAL', 3: 'SQLITE_PERM', 4: 'SQLITE_ABORT', 5: 'SQLITE_BUSY', 6: 'SQLITE_LOCKED', 7: 'SQLITE_NOMEM',
  8: 'SQLITE_READONLY', 9: 'SQLITE_INTERRUPT', 10: 'SQLITE_IOERR', 11: 'SQLITE_CORRUPT', 12: 'SQLITE_NOTFOUND',
  13: 'SQLITE_FULL', 14: 'SQLITE_CANTOPEN', 15: 'SQLITE_PROTOCOL', 17: 'SQLITE_SCHEMA', 18: 'SQLITE_TOOBIG',
  19: 'SQLITE_CONSTRAINT', 20: 'SQLITE_MISMATCH', 21: 'SQLITE_MISUSE', 22: 'SQLITE_NOLFS', 23: 'SQLITE_AUTH',
  25: 'SQLITE_RANGE', 26: 'SQLITE_NOTADB',
};
const BASE_CODES: Record<string, number> = Object.fromEntries(
  [['SQLITE_ERROR', 1] as const, ...Object.entries(SQLD_CODES).map(([n, name]) => [name, Number(n)] as const)],
);
const SYNTAX = /syntax error|incomplete input|unrecognized token/;

function sqliteFailure(e: unknown): { message: string; code: string; base: number } | null {
  if (!(e instanceof Database.SqliteError)) return null;
  const raw = e.rawCode;
  const base = typeof raw === 'number' ? raw & 0xff : (BASE_CODES[e.code.replace(/^(SQLITE_[A-Z]+?)(_[A-Z_]+)?$/, '$1')] ?? 1);
  return { message: e.message, code: e.code, base };
}

/** Where in the text SQLite's message points, or -1 (then sqld has no offset either). */
function errorOffset(message: string, sql: string): number {
  const m = /: (.+)$/.exec(message) ?? /^(?:table|index|view|trigger) (\S+) already exists$/.exec(message);
  const name = m?.[1]?.replace(/^main\./, '');
  if (!name) return -1;
  const lower = sql.toLowerCase();
  const at = lower.indexOf(name.toLowerCase());
  if (at >= 0) return at;
  const last = name.split('.').pop();
  return last ? lower.indexOf(last.toLowerCase()) : -1;
}

/** A SQLite error as sqld reports it; prepare errors may point into the text. */
function sqliteError(e: unknown, phase: 'prepare' | 'step', sql: string): HError & { busy: string | null } {
  const f = sqliteFailure(e);
  if (!f) throw e;
  const busy = f.base === 5 ? f.code : null;
  if (phase === 'prepare' && f.base === 1) {
    if (SYNTAX.test(f.message)) return { message: `SQL string could not be parsed: ${f.message}`, code: 'SQL_PARSE_ERROR', busy };
    const offset = errorOffset(f.message, sql);
    if (offset >= 0) return { message: `SQL input error: ${f.message} (at offset ${offset})`, code: 'SQL_INPUT_ERROR', busy };
  }
  return { message: `SQLite error: ${f.message}`, code: SQLD_CODES[f.base] ?? 'SQLITE_UNKNOWN', busy };
}

const argsInvalid = (detail: string) => new HranaError(`Arguments do not match SQL parameters: ${detail}`, 'ARGS_INVALID');

/** sqld's Params::bind, producing the values by index for the `libsql` package. */
function bindValues(info: StmtInfo, args: Args): unknown[] {
  const { count, names } = info.params;
  const len = args.named ? args.values.size : args.values.length;
  if (count < len) throw argsInvalid(`too many parameters, expected ${count} found ${len}`);
  const out: unknown[] = [];
  for (let i = 1; i <= count; i++) {
    const name = names[i];
    let found = false;
    let value: Value = null;
    if (name !== undefined && name[0] !== '?') {
      if (args.named) {
        for (const key of [name, name.slice(1)]) {
          if (args.values.has(key)) { found = true; value = args.values.get(key) ?? null; break; }
        }
      }
    } else if (!args.named) {
      const pos = name !== undefined ? Number(name.slice(1)) : i;
      if (pos - 1 < args.values.length) { found = true; value = args.values[pos - 1] ?? null; }
    }
    if (!found) {
      if (info.isExplain) break;
      throw argsInvalid(`value for parameter ${name ?? i} not found`);
    }
    out.push(value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value);
  }
  return out;
}

function fromSql(v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'string') return v;
  if (v instanceof Uint8Array) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  throw new Error(`unexpected value from libsql: ${typeof v}`);
}

/** Roughly the JSON size sqld charges a value (result_builder.rs value_json_size). */
function valueSize(v: Value): number {
  if (v === null) return 15;
  if (typeof v === 'bigint') return 27 + v.toString().length;
  if (typeof v === 'number') return 24 + String(v).length;
  if (typeof v === 'string') return 26 + Buffer.byteLength(v);
  return v.byteLength;
}

function charge(ctx: Ctx, budget: Budget, size: number): void {
  budget.used += size;
  if (budget.used > ctx.maxResponseBytes) throw new ResponseTooLarge();
}

function prepareStep(db: Conn, info: StmtInfo): Database.Statement {
  try {
    return db.prepare(info.sql);
  } catch (e) {
    const err = sqliteError(e, 'prepare', info.sql);
    throw new StepFailure({ message: err.message, code: err.code }, undefined, 'prepare', err.busy);
  }
}

function runPrepared(ctx: Ctx, stream: Stream, db: Conn, stmt: Database.Statement, step: Step, budget: Budget): StmtResult {
  const start = performance.now();
  const { info } = step;
  const cols: Col[] = stmt.reader ? stmt.columns().map((c) => ({ name: c.name, decltype: c.type ?? null })) : [];
  let values: unknown[];
  try {
    values = bindValues(info, step.args);
  } catch (e) {
    if (e instanceof HranaError) throw new StepFailure(e.proto, cols, 'bind', null);
    throw e;
  }
  const used = budget.used;
  const rows: Value[][] = [];
  let stepped = 0;
  try {
    charge(ctx, budget, cols.reduce((n, c) => n + 26 + (c.name?.length ?? 0) + (c.decltype?.length ?? 4), 0));
    if (stmt.reader) {
      stmt.raw(true);
      stmt.safeIntegers(true);
      for (const raw of stmt.all(values) as unknown[][]) {
        stepped++;
        if (!step.wantRows) continue;
        const row = raw.map(fromSql);
        charge(ctx, budget, row.reduce((n: number, v) => n + valueSize(v), 0));
        rows.push(row);
      }
    } else {
      stmt.run(values);
    }
  } catch (e) {
    if (e instanceof ResponseTooLarge) throw e;
    budget.used = used;
    const err = sqliteError(e, 'step', info.sql);
    throw new StepFailure({ message: err.message, code: err.code }, cols, 'step', err.busy);
  }
  let affected = 0;
  let lastInsertRowid: bigint | null = null;
  if (info.isIud || info.isInsert) {
    stream.changes ??= db.prepare('SELECT changes(), last_insert_rowid()').raw(true).safeIntegers(true);
    const [changes, rowid] = (stream.changes.all() as unknown[][])[0] ?? [];
    if (info.isIud) affected = Number(changes ?? 0);
    if (info.isInsert) lastInsertRowid = typeof rowid === 'bigint' ? rowid : BigInt(Number(rowid ?? 0));
  }
  return {
    cols, rows, affectedRowCount: affected, lastInsertRowid,
    rowsRead: stepped, rowsWritten: affected, queryDurationMs: performance.now() - start,
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves when the write slot may have changed hands, or at `until`. */
function slotChange(ctx: Ctx, until: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      ctx.slotWaiters.delete(done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, until - performance.now()));
    ctx.slotWaiters.add(done);
  });
}

/**
 * sqld's busy handler, ahead of time: a writer waits while another stream's write transaction
 * holds the lock, and steals it once that transaction is past its time.
 */
async function waitForLock(ctx: Ctx, stream: Stream): Promise<void> {
  for (;;) {
    const slot = ctx.slot;
    if (!slot || slot.stream === stream || ctx.closed) return;
    const expiresAt = slot.createdAt + ctx.txnTimeoutMs;
    if (performance.now() >= expiresAt) {
      steal(ctx, slot);
      return;
    }
    await slotChange(ctx, expiresAt);
  }
}

/**
 * A statement stopped by SQLITE_BUSY* stays active in SQLite (it may be retried) and poisons
 * its connection: what runs next stays in its implicit transaction (and snapshot), uncommitted,
 * even after ROLLBACK. rusqlite resets it when sqld drops it; the `libsql` package cannot, so
 * the connection is replaced. A transaction that met SQLITE_BUSY* had written nothing (it held
 * no write lock), so reopening it on the new connection loses only its read snapshot.
 */
function replaceConn(ctx: Ctx, stream: Stream): void {
  const inTransaction = stream.db?.open === true && stream.db.inTransaction;
  closeDb(ctx, stream);
  if (ctx.closed) return;
  stream.db = openConn(ctx);
  if (inTransaction) stream.db.exec('BEGIN');
}

/** Runs a statement, waiting for the write lock as sqld does, without blocking the event loop. */
async function execStep(ctx: Ctx, stream: Stream, step: Step, budget: Budget): Promise<Outcome> {
  const { info } = step;
  let stmt: Database.Statement | undefined;
  let busySince = 0;
  let delay = 1;
  for (;;) {
    if (info.locks || busySince) await waitForLock(ctx, stream);
    const db = liveDb(stream);
    try {
      // Retrying runs the same statement again: run() and all() reset it first.
      stmt ??= prepareStep(db, info);
      return { ok: true, result: runPrepared(ctx, stream, db, stmt, step, budget) };
    } catch (e) {
      if (!(e instanceof StepFailure)) throw e;
      if (e.phase === 'prepare') stmt = undefined;
      if (e.busy === 'SQLITE_BUSY' && !ctx.closed) {
        busySince ||= performance.now();
        const foreign = ctx.slot !== null && ctx.slot.stream !== stream;
        if (foreign || performance.now() - busySince < ctx.busyTimeoutMs) {
          if (!foreign) {
            await sleep(delay);
            delay = Math.min(delay * 2, 20);
          }
          continue;
        }
      }
      if (e.busy && e.phase === 'step') replaceConn(ctx, stream);
      return { ok: false, error: e.error, cols: e.cols, executed: e.phase === 'step' && !e.busy };
    }
  }
}

/** Claims or frees the write slot after a statement, as sqld watches the transaction state. */
function afterStep(ctx: Ctx, stream: Stream, info: StmtInfo, outcome: Outcome): void {
  const db = stream.db;
  if (!db) return;
  if (!db.inTransaction) { releaseSlot(ctx, stream); return; }
  if (stream.slot || !info.locks || (!outcome.ok && !outcome.executed)) return;
  const slot: Slot = { stream, createdAt: performance.now(), stolen: false };
  stream.slot = slot;
  ctx.slot = slot;
}

function evalCond(cond: Cond, ok: boolean[], isAutocommit: boolean): boolean {
  switch (cond.type) {
    case 'ok': return ok[cond.step] ?? false;
    case 'error': return !(ok[cond.step] ?? false);
    case 'not': return !evalCond(cond.cond, ok, isAutocommit);
    case 'and': return cond.conds.every((c) => evalCond(c, ok, isAutocommit));
    case 'or': return cond.conds.some((c) => evalCond(c, ok, isAutocommit));
    case 'is_autocommit': return isAutocommit;
  }
}

/** sqld's Connection::run: each step's outcome, or null when its condition skipped it. */
async function runProgram(ctx: Ctx, stream: Stream, steps: Step[], onStep: (i: number, outcome: Outcome | null) => void): Promise<void> {
  const ok: boolean[] = [];
  const budget: Budget = { used: 0 };
  let timedOut = false;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    const db = liveDb(stream);
    const slot = stream.slot;
    if (!timedOut && slot && (slot.stolen || performance.now() > slot.createdAt + ctx.txnTimeoutMs)) {
      slot.stolen = true;
      steal(ctx, slot);
      timedOut = true;
    }
    if (timedOut) {
      releaseSlot(ctx, stream);
      onStep(i, { ok: false, error: TXN_TIMEOUT_ERROR, cols: undefined, executed: false });
      continue;
    }
    if (step.cond && !evalCond(step.cond, ok, !db.inTransaction)) {
      ok.push(false);
      onStep(i, null);
      continue;
    }
    const outcome = await execStep(ctx, stream, step, budget);
    afterStep(ctx, stream, step.info, outcome);
    ok.push(outcome.ok);
    onStep(i, outcome);
  }
}

// ---------------------------------------------------------------------------------------------
// Stream requests

function resolveSql(stream: Stream, sql: string | undefined, sqlId: number | undefined): string {
  if (sql !== undefined && sqlId !== undefined) throw new ProtocolError('Either `sql` or `sql_id` are required, but not both');
  if (sql !== undefined) return sql;
  if (sqlId === undefined) throw new ProtocolError('Either `sql` or `sql_id` are required');
  const stored = stream.sqls.get(sqlId);
  if (stored === undefined) throw new ProtocolError(`SQL text ${sqlId} not found`);
  return stored;
}

const parseError = (detail: string) => new HranaError(`SQL string could not be parsed: ${detail}`, 'SQL_PARSE_ERROR');

/** sqld parses every statement before running any: a syntax error stops the whole request. */
function checkSyntax(stream: Stream, info: StmtInfo): void {
  try {
    liveDb(stream).prepare(info.sql);
  } catch (e) {
    const f = sqliteFailure(e);
    if (f && f.base === 1 && SYNTAX.test(f.message)) throw parseError(f.message);
  }
}

function buildStep(ctx: Ctx, stream: Stream, stmt: ProtoStmt, cond: Cond | undefined): Step {
  const sql = resolveSql(stream, stmt.sql, stmt.sqlId);
  const infos = analyze(ctx, sql);
  const info = infos[0];
  if (!info) throw new HranaError('SQL string does not contain any statement', 'SQL_NO_STATEMENT');
  if (info.kind === null) throw parseError(`unsupported statement: ${sql}`);
  if (infos.length > 1) throw new HranaError('SQL string contains more than one statement', 'SQL_MANY_STATEMENTS');
  let args: Args;
  if (stmt.namedArgs.length === 0) args = { named: false, values: stmt.args };
  else if (stmt.args.length === 0) args = { named: true, values: new Map(stmt.namedArgs.map((a) => [a.name, a.value])) };
  else throw new HranaError('Specifying both positional and named arguments is not supported', 'ARGS_BOTH_POSITIONAL_AND_NAMED');
  checkSyntax(stream, info);
  return { info, args, wantRows: stmt.wantRows, cond };
}

function checkCond(cond: Cond, version: number, stepIndex: number): void {
  switch (cond.type) {
    case 'ok': case 'error':
      if (!Number.isInteger(cond.step) || cond.step < 0 || cond.step >= stepIndex) throw new ProtocolError('Invalid reference to step in a batch condition');
      return;
    case 'not': checkCond(cond.cond, version, stepIndex); return;
    case 'and': case 'or': for (const c of cond.conds) checkCond(c, version, stepIndex); return;
    case 'is_autocommit':
      if (version < 3) throw new ProtocolError('BatchCond of type `is_autocommit` is only supported in protocol version hrana3 and higher');
  }
}

function buildBatch(ctx: Ctx, stream: Stream, batch: ProtoBatch, version: number): Step[] {
  return batch.steps.map((s, i) => {
    const step = buildStep(ctx, stream, s.stmt, s.condition);
    if (s.condition) checkCond(s.condition, version, i);
    return step;
  });
}

async function handleStreamRequest(ctx: Ctx, stream: Stream, req: StreamRequest, version: number): Promise<StreamResult> {
  try {
    return { type: 'ok', response: await streamResponse(ctx, stream, req, version) };
  } catch (e) {
    if (e instanceof HranaError) return { type: 'error', error: e.proto };
    throw e;
  }
}

async function streamResponse(ctx: Ctx, stream: Stream, req: StreamRequest, version: number): Promise<StreamResponse> {
  switch (req.type) {
    case 'close':
      closeDb(ctx, stream);
      return { type: 'close' };
    case 'execute': {
      liveDb(stream);
      const step = buildStep(ctx, stream, req.stmt, undefined);
      let outcome: Outcome | null = null;
      await runProgram(ctx, stream, [step], (_, o) => { outcome = o; });
      const o = outcome as Outcome | null;
      if (!o) throw new Error('the statement was skipped');
      if (!o.ok) throw new HranaError(o.error.message, o.error.code);
      return { type: 'execute', result: o.result };
    }
    case 'batch': {
      liveDb(stream);
      const steps = buildBatch(ctx, stream, req.batch, version);
      const result: BatchResult = { stepResults: [], stepErrors: [] };
      await runProgram(ctx, stream, steps, (i, o) => {
        result.stepResults[i] = o?.ok ? o.result : null;
        result.stepErrors[i] = o && !o.ok ? o.error : null;
      });
      return { type: 'batch', result };
    }
    case 'sequence': {
      liveDb(stream);
      const sql = resolveSql(stream, req.sql, req.sqlId);
      const infos = analyze(ctx, sql);
      if (infos.some((info) => info.kind === null)) throw parseError(`unsupported statement: ${sql}`);
      for (const info of infos) checkSyntax(stream, info);
      const steps: Step[] = infos.map((info, i) => ({
        info, args: { named: false, values: [] }, wantRows: false, cond: i > 0 ? { type: 'ok', step: i - 1 } : undefined,
      }));
      let failed: HError | null = null;
      await runProgram(ctx, stream, steps, (_, o) => { if (o && !o.ok && !failed) failed = o.error; });
      const f = failed as HError | null;
      if (f) throw new HranaError(f.message, f.code);
      return { type: 'sequence' };
    }
    case 'describe': {
      const db = liveDb(stream);
      const sql = resolveSql(stream, req.sql, req.sqlId);
      const info = analyze(ctx, sql)[0];
      if (!info) throw new HranaError('SQL string does not contain any statement', 'SQL_NO_STATEMENT');
      let stmt: Database.Statement;
      try {
        stmt = db.prepare(info.sql);
      } catch (e) {
        const err = sqliteError(e, 'prepare', info.sql);
        throw new HranaError(err.message, err.code);
      }
      const params: DescribeResult['params'] = [];
      for (let i = 1; i <= info.params.count; i++) params.push({ name: info.params.names[i] ?? null });
      const cols = stmt.reader ? stmt.columns().map((c) => ({ name: c.name, decltype: c.type ?? null })) : [];
      const readonly = info.isExplain || (info.kind !== null && ['read', 'txn_begin', 'txn_end', 'savepoint', 'release'].includes(info.kind));
      return { type: 'describe', result: { params, cols, isExplain: info.isExplain, isReadonly: readonly } };
    }
    case 'store_sql': {
      if (stream.sqls.has(req.sqlId)) throw new ProtocolError(`SQL text ${req.sqlId} already exists`);
      if (stream.sqls.size >= MAX_STORED_SQLS) throw new HranaError(`The server already stores ${stream.sqls.size} SQL texts, it cannot store more`, 'SQL_STORE_TOO_MANY');
      const size = Buffer.byteLength(req.sql);
      if (size > MAX_STORED_SQL_BYTES) throw new HranaError(`The statement is too large to be stored: ${size} B/5.0 KB`, 'SQL_STORE_TOO_LARGE');
      stream.sqls.set(req.sqlId, req.sql);
      return { type: 'store_sql' };
    }
    case 'close_sql':
      stream.sqls.delete(req.sqlId);
      return { type: 'close_sql' };
    case 'get_autocommit':
      if (version < 3) throw new ProtocolError('The `get_autocommit` request is only supported in protocol version hrana3 and higher');
      return { type: 'get_autocommit', isAutocommit: !liveDb(stream).inTransaction };
  }
}

async function handlePipeline(ctx: Ctx, body: PipelineReq, version: number): Promise<{ baton: string | null; results: StreamResult[] }> {
  const stream = acquire(ctx, body.baton);
  try {
    const results: StreamResult[] = [];
    for (const req of body.requests) results.push(await handleStreamRequest(ctx, stream, req, version));
    return { baton: release(ctx, stream), results };
  } catch (e) {
    destroy(ctx, stream);
    throw e;
  }
}

async function handleCursor(ctx: Ctx, body: CursorReq, version: number): Promise<{ baton: string | null; entries: CursorEntry[] }> {
  const stream = acquire(ctx, body.baton);
  try {
    liveDb(stream);
    let steps: Step[];
    try {
      steps = buildBatch(ctx, stream, body.batch, version);
    } catch (e) {
      if (e instanceof HranaError) throw new Error(e.message);
      throw e;
    }
    const entries: CursorEntry[] = [];
    try {
      await runProgram(ctx, stream, steps, (step, o) => {
        if (!o) return;
        if (o.ok) {
          entries.push({ type: 'step_begin', step, cols: o.result.cols });
          for (const row of o.result.rows) entries.push({ type: 'row', row });
          entries.push({ type: 'step_end', affectedRowCount: o.result.affectedRowCount, lastInsertRowid: o.result.lastInsertRowid });
        } else {
          if (o.cols) entries.push({ type: 'step_begin', step, cols: o.cols });
          entries.push({ type: 'step_error', step, error: o.error });
        }
      });
    } catch (e) {
      if (!(e instanceof HranaError)) throw e;
      entries.push({ type: 'error', error: e.proto });
    }
    return { baton: release(ctx, stream), entries };
  } catch (e) {
    destroy(ctx, stream);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// JSON encoding (serde's shapes and, for bad input, the gist of its messages)

const jsonError = (detail: string) => new ProtocolError(`Cannot deserialize client message from JSON: ${detail}`);
type J = Record<string, unknown>;

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a sequence';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  if (typeof v === 'number') return Number.isInteger(v) ? `integer \`${v}\`` : `floating point \`${v}\``;
  return `${typeof v} \`${String(v)}\``;
}
function jObject(v: unknown, what: string): J {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw jsonError(`invalid type: ${describeJson(v)}, expected ${what}`);
  return v as J;
}
function jArray(o: J, key: string, required: boolean): unknown[] {
  const v = o[key];
  if (v === undefined || (v === null && !required)) {
    if (required) throw jsonError(`missing field \`${key}\``);
    return [];
  }
  if (!Array.isArray(v)) throw jsonError(`invalid type: ${describeJson(v)}, expected a sequence (field \`${key}\`)`);
  return v;
}
function jString(o: J, key: string): string {
  const v = o[key];
  if (v === undefined) throw jsonError(`missing field \`${key}\``);
  if (typeof v !== 'string') throw jsonError(`invalid type: ${describeJson(v)}, expected a string (field \`${key}\`)`);
  return v;
}
function jStringOpt(o: J, key: string): string | undefined {
  return o[key] === undefined || o[key] === null ? undefined : jString(o, key);
}
function jInt(o: J, key: string, min: number, max: number): number {
  const v = o[key];
  if (v === undefined) throw jsonError(`missing field \`${key}\``);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw jsonError(`invalid value: ${describeJson(v)}, expected an integer in ${min}..=${max} (field \`${key}\`)`);
  return v;
}
function jIntOpt(o: J, key: string, min: number, max: number): number | undefined {
  return o[key] === undefined || o[key] === null ? undefined : jInt(o, key, min, max);
}
function jBoolOpt(o: J, key: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw jsonError(`invalid type: ${describeJson(v)}, expected a boolean (field \`${key}\`)`);
  return v;
}
function jTag<T extends string>(o: J, variants: readonly T[]): T {
  const v = o.type;
  if (v === undefined) throw jsonError('missing field `type`');
  if (typeof v !== 'string' || !(variants as readonly string[]).includes(v)) {
    throw jsonError(`unknown variant ${typeof v === 'string' ? `\`${v}\`` : describeJson(v)}, expected one of ${variants.map((x) => `\`${x}\``).join(', ')}`);
  }
  return v as T;
}

const I32 = [-(2 ** 31), 2 ** 31 - 1] as const;
const U32 = [0, 2 ** 32 - 1] as const;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

function jValue(v: unknown): Value {
  const o = jObject(v, 'a Value');
  switch (jTag(o, ['null', 'integer', 'float', 'text', 'blob'] as const)) {
    case 'null': return null;
    case 'integer': {
      const s = jString(o, 'value');
      const n = /^[+-]?\d+$/.test(s) ? BigInt(s) : null;
      if (n === null || n < I64_MIN || n > I64_MAX) throw jsonError(`invalid value: string ${JSON.stringify(s)}, expected decimal integer as a string`);
      return n;
    }
    case 'float': {
      const x = o.value;
      if (typeof x !== 'number') throw jsonError(`invalid type: ${describeJson(x)}, expected f64`);
      return x;
    }
    case 'text': return jString(o, 'value');
    case 'blob': {
      const s = jString(o, 'base64').replace(/=+$/, '');
      if (!/^[A-Za-z0-9+/]*$/.test(s) || s.length % 4 === 1) throw jsonError(`invalid value: string ${JSON.stringify(s)}, expected binary data encoded as base64`);
      return new Uint8Array(Buffer.from(s, 'base64'));
    }
  }
}

function jStmt(v: unknown): ProtoStmt {
  const o = jObject(v, 'a Stmt');
  return {
    sql: jStringOpt(o, 'sql'),
    sqlId: jIntOpt(o, 'sql_id', ...I32),
    args: jArray(o, 'args', false).map(jValue),
    namedArgs: jArray(o, 'named_args', false).map((a) => {
      const ao = jObject(a, 'a NamedArg');
      if (ao.value === undefined) throw jsonError('missing field `value`');
      return { name: jString(ao, 'name'), value: jValue(ao.value) };
    }),
    wantRows: jBoolOpt(o, 'want_rows') ?? true,
  };
}

function jCond(v: unknown): Cond {
  const o = jObject(v, 'a BatchCond');
  const type = jTag(o, ['ok', 'error', 'not', 'and', 'or', 'is_autocommit'] as const);
  switch (type) {
    case 'ok': case 'error': return { type, step: jInt(o, 'step', ...U32) };
    case 'not':
      if (o.cond === undefined) throw jsonError('missing field `cond`');
      return { type, cond: jCond(o.cond) };
    case 'and': case 'or': return { type, conds: jArray(o, 'conds', true).map(jCond) };
    case 'is_autocommit': return { type };
  }
}

function jBatch(v: unknown): ProtoBatch {
  const o = jObject(v, 'a Batch');
  return {
    steps: jArray(o, 'steps', true).map((s) => {
      const so = jObject(s, 'a BatchStep');
      if (so.stmt === undefined) throw jsonError('missing field `stmt`');
      return { condition: so.condition === undefined || so.condition === null ? undefined : jCond(so.condition), stmt: jStmt(so.stmt) };
    }),
  };
}

const REQUEST_TYPES = ['close', 'execute', 'batch', 'sequence', 'describe', 'store_sql', 'close_sql', 'get_autocommit'] as const;

function jRequest(v: unknown): StreamRequest {
  const o = jObject(v, 'a StreamRequest');
  const type = jTag(o, REQUEST_TYPES);
  switch (type) {
    case 'close': case 'get_autocommit': return { type };
    case 'execute':
      if (o.stmt === undefined) throw jsonError('missing field `stmt`');
      return { type, stmt: jStmt(o.stmt) };
    case 'batch':
      if (o.batch === undefined) throw jsonError('missing field `batch`');
      return { type, batch: jBatch(o.batch) };
    case 'sequence': case 'describe': return { type, sql: jStringOpt(o, 'sql'), sqlId: jIntOpt(o, 'sql_id', ...I32) };
    case 'store_sql': return { type, sqlId: jInt(o, 'sql_id', ...I32), sql: jString(o, 'sql') };
    case 'close_sql': return { type, sqlId: jInt(o, 'sql_id', ...I32) };
  }
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw jsonError(e instanceof Error ? e.message : String(e));
  }
}

function jsonPipelineReq(body: Buffer): PipelineReq {
  const o = jObject(parseJson(body), 'struct PipelineReqBody');
  return { baton: jStringOpt(o, 'baton'), requests: jArray(o, 'requests', true).map(jRequest) };
}

function jsonCursorReq(body: Buffer): CursorReq {
  const o = jObject(parseJson(body), 'struct CursorReqBody');
  if (o.batch === undefined) throw jsonError('missing field `batch`');
  return { baton: jStringOpt(o, 'baton'), batch: jBatch(o.batch) };
}

const base64NoPad = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64').replace(/=+$/, '');

function valueJson(v: Value): J {
  if (v === null) return { type: 'null' };
  if (typeof v === 'bigint') return { type: 'integer', value: v.toString() };
  if (typeof v === 'number') return { type: 'float', value: v };
  if (typeof v === 'string') return { type: 'text', value: v };
  return { type: 'blob', base64: base64NoPad(v) };
}

function stmtResultJson(r: StmtResult): J {
  return {
    cols: r.cols.map((c) => ({ name: c.name, decltype: c.decltype })),
    rows: r.rows.map((row) => row.map(valueJson)),
    affected_row_count: r.affectedRowCount,
    last_insert_rowid: r.lastInsertRowid === null ? null : r.lastInsertRowid.toString(),
    replication_index: null,
    rows_read: r.rowsRead,
    rows_written: r.rowsWritten,
    query_duration_ms: r.queryDurationMs,
  };
}

function responseJson(r: StreamResponse): J {
  switch (r.type) {
    case 'close': case 'sequence': case 'store_sql': case 'close_sql': return { type: r.type };
    case 'execute': return { type: r.type, result: stmtResultJson(r.result) };
    case 'batch': return {
      type: r.type,
      result: { step_results: r.result.stepResults.map((s) => (s ? stmtResultJson(s) : null)), step_errors: r.result.stepErrors, replication_index: null },
    };
    case 'describe': return {
      type: r.type,
      result: { params: r.result.params, cols: r.result.cols, is_explain: r.result.isExplain, is_readonly: r.result.isReadonly },
    };
    case 'get_autocommit': return { type: r.type, is_autocommit: r.isAutocommit };
  }
}

function pipelineRespJson(baton: string | null, results: StreamResult[]): string {
  return JSON.stringify({
    baton,
    base_url: null,
    results: results.map((r) => (r.type === 'ok' ? { type: 'ok', response: responseJson(r.response) } : r)),
  });
}

function cursorEntryJson(e: CursorEntry): J {
  switch (e.type) {
    case 'step_begin': return { type: e.type, step: e.step, cols: e.cols };
    case 'step_end': return { type: e.type, affected_row_count: e.affectedRowCount, last_insert_rowid: e.lastInsertRowid === null ? null : e.lastInsertRowid.toString() };
    case 'step_error': return { type: e.type, step: e.step, error: e.error };
    case 'row': return { type: e.type, row: e.row.map(valueJson) };
    case 'error': return { type: e.type, error: e.error };
  }
}

// ---------------------------------------------------------------------------------------------
// Protobuf encoding (libsql-hrana's prost messages, hrana.proto / hrana.http.proto)

const pbError = (detail: string) => new ProtocolError(`Could not decode client message from Protobuf: ${detail}`);
interface PbField { tag: number; wire: number; n: bigint; b: Uint8Array }
const utf8 = new TextDecoder('utf-8', { fatal: true });

function pbFields(buf: Uint8Array): PbField[] {
  const out: PbField[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (pos >= buf.length) throw pbError('unexpected end of buffer');
      if (shift > 63n) throw pbError('invalid varint');
      const byte = buf[pos++]!;
      value |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return value;
    }
  };
  const take = (len: number) => {
    if (pos + len > buf.length) throw pbError('buffer underflow');
    const b = buf.subarray(pos, pos + len);
    pos += len;
    return b;
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const tag = key >>> 3;
    const wire = key & 7;
    if (tag === 0) throw pbError('invalid tag value: 0');
    if (wire === 0) out.push({ tag, wire, n: varint(), b: new Uint8Array() });
    else if (wire === 1) out.push({ tag, wire, n: 0n, b: take(8) });
    else if (wire === 2) out.push({ tag, wire, n: 0n, b: take(Number(varint())) });
    else if (wire === 5) out.push({ tag, wire, n: 0n, b: take(4) });
    else throw pbError(`invalid wire type value: ${wire}`);
  }
  return out;
}

function pbExpect(f: PbField, wire: number): void {
  if (f.wire !== wire) throw pbError(`invalid wire type: ${f.wire} (expected ${wire}) for field ${f.tag}`);
}
function pbString(f: PbField): string {
  pbExpect(f, 2);
  try { return utf8.decode(f.b); } catch { throw pbError('invalid string value: data is not UTF-8 encoded'); }
}
function pbI32(f: PbField): number { pbExpect(f, 0); return Number(BigInt.asIntN(32, f.n)); }
function pbU32(f: PbField): number { pbExpect(f, 0); return Number(BigInt.asUintN(32, f.n)); }
function pbMessage(f: PbField): PbField[] { pbExpect(f, 2); return pbFields(f.b); }

function pbValue(fields: PbField[]): Value {
  let v: Value | undefined;
  for (const f of fields) {
    switch (f.tag) {
      case 1: pbExpect(f, 2); v = null; break;
      case 2: { pbExpect(f, 0); const u = BigInt.asUintN(64, f.n); v = BigInt.asIntN(64, (u >> 1n) ^ -(u & 1n)); break; }
      case 3: pbExpect(f, 1); v = Buffer.from(f.b).readDoubleLE(0); break;
      case 4: v = pbString(f); break;
      case 5: pbExpect(f, 2); v = new Uint8Array(f.b); break;
    }
  }
  if (v === undefined) throw new ProtocolError('Value type not recognized');
  return v;
}

function pbStmt(fields: PbField[]): ProtoStmt {
  const stmt: ProtoStmt = { sql: undefined, sqlId: undefined, args: [], namedArgs: [], wantRows: true };
  for (const f of fields) {
    if (f.tag === 1) stmt.sql = pbString(f);
    else if (f.tag === 2) stmt.sqlId = pbI32(f);
    else if (f.tag === 3) stmt.args.push(pbValue(pbMessage(f)));
    else if (f.tag === 4) {
      let name = '';
      let value: Value | undefined;
      for (const g of pbMessage(f)) {
        if (g.tag === 1) name = pbString(g);
        else if (g.tag === 2) value = pbValue(pbMessage(g));
      }
      stmt.namedArgs.push({ name, value: value === undefined ? pbValue([]) : value });
    } else if (f.tag === 5) { pbExpect(f, 0); stmt.wantRows = f.n !== 0n; }
  }
  return stmt;
}

function pbCond(fields: PbField[]): Cond {
  let cond: Cond | undefined;
  for (const f of fields) {
    switch (f.tag) {
      case 1: cond = { type: 'ok', step: pbU32(f) }; break;
      case 2: cond = { type: 'error', step: pbU32(f) }; break;
      case 3: cond = { type: 'not', cond: pbCond(pbMessage(f)) }; break;
      case 4: case 5: {
        const conds = pbMessage(f).filter((g) => g.tag === 1).map((g) => pbCond(pbMessage(g)));
        cond = { type: f.tag === 4 ? 'and' : 'or', conds };
        break;
      }
      case 6: cond = { type: 'is_autocommit' }; break;
    }
  }
  if (!cond) throw new ProtocolError('BatchCond type not recognized');
  return cond;
}

function pbBatch(fields: PbField[]): ProtoBatch {
  return {
    steps: fields.filter((f) => f.tag === 1).map((f) => {
      let condition: Cond | undefined;
      let stmt: ProtoStmt | undefined;
      for (const g of pbMessage(f)) {
        if (g.tag === 1) condition = pbCond(pbMessage(g));
        else if (g.tag === 2) stmt = pbStmt(pbMessage(g));
      }
      return { condition, stmt: stmt ?? pbStmt([]) };
    }),
  };
}

function pbSqlRef(fields: PbField[]): { sql: string | undefined; sqlId: number | undefined } {
  let sql: string | undefined;
  let sqlId: number | undefined;
  for (const f of fields) {
    if (f.tag === 1) sql = pbString(f);
    else if (f.tag === 2) sqlId = pbI32(f);
  }
  return { sql, sqlId };
}

function pbRequest(fields: PbField[]): StreamRequest {
  let req: StreamRequest | undefined;
  for (const f of fields) {
    const inner = f.tag >= 1 && f.tag <= 8 ? pbMessage(f) : [];
    const first = (tag: number) => inner.find((g) => g.tag === tag);
    switch (f.tag) {
      case 1: req = { type: 'close' }; break;
      case 2: { const s = first(1); req = { type: 'execute', stmt: pbStmt(s ? pbMessage(s) : []) }; break; }
      case 3: { const b = first(1); req = { type: 'batch', batch: pbBatch(b ? pbMessage(b) : []) }; break; }
      case 4: req = { type: 'sequence', ...pbSqlRef(inner) }; break;
      case 5: req = { type: 'describe', ...pbSqlRef(inner) }; break;
      case 6: {
        const id = first(1);
        const sql = first(2);
        req = { type: 'store_sql', sqlId: id ? pbI32(id) : 0, sql: sql ? pbString(sql) : '' };
        break;
      }
      case 7: { const id = first(1); req = { type: 'close_sql', sqlId: id ? pbI32(id) : 0 }; break; }
      case 8: req = { type: 'get_autocommit' }; break;
    }
  }
  if (!req) throw new ProtocolError('StreamRequest type not recognized');
  return req;
}

function pbPipelineReq(body: Buffer): PipelineReq {
  const out: PipelineReq = { baton: undefined, requests: [] };
  for (const f of pbFields(body)) {
    if (f.tag === 1) out.baton = pbString(f);
    else if (f.tag === 2) out.requests.push(pbRequest(pbMessage(f)));
  }
  return out;
}

function pbCursorReq(body: Buffer): CursorReq {
  const out: CursorReq = { baton: undefined, batch: { steps: [] } };
  for (const f of pbFields(body)) {
    if (f.tag === 1) out.baton = pbString(f);
    else if (f.tag === 2) out.batch = pbBatch(pbMessage(f));
  }
  return out;
}

class PbWriter {
  private buf = Buffer.allocUnsafe(256);
  private pos = 0;
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  varint(v: number | bigint): void {
    this.ensure(10);
    if (typeof v === 'number' && v >= 0 && v < 2 ** 31) {
      do {
        let byte = v & 0x7f;
        v >>>= 7;
        if (v) byte |= 0x80;
        this.buf[this.pos++] = byte;
      } while (v);
      return;
    }
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x) byte |= 0x80;
      this.buf[this.pos++] = byte;
    } while (x);
  }
  private key(tag: number, wire: number): void { this.varint((tag << 3) | wire); }
  uint(tag: number, v: number | bigint): void { this.key(tag, 0); this.varint(v); }
  /** A proto3 scalar: left out when it is the default. */
  uintNonZero(tag: number, v: number): void { if (v !== 0) this.uint(tag, v); }
  sint64(tag: number, v: bigint): void { this.key(tag, 0); this.varint(BigInt.asUintN(64, (v << 1n) ^ (v >> 63n))); }
  double(tag: number, v: number): void { this.key(tag, 1); this.ensure(8); this.buf.writeDoubleLE(v, this.pos); this.pos += 8; }
  bytes(tag: number, b: Uint8Array): void { this.key(tag, 2); this.varint(b.byteLength); this.ensure(b.byteLength); this.buf.set(b, this.pos); this.pos += b.byteLength; }
  string(tag: number, s: string): void { this.bytes(tag, Buffer.from(s, 'utf8')); }
  message(tag: number, fill: (w: PbWriter) => void): void { const w = new PbWriter(); fill(w); this.bytes(tag, w.finish()); }
  finish(): Uint8Array { return this.buf.subarray(0, this.pos); }
}

const pbNothing = () => undefined;
function pbWriteValue(w: PbWriter, v: Value): void {
  if (v === null) w.message(1, pbNothing);
  else if (typeof v === 'bigint') w.sint64(2, v);
  else if (typeof v === 'number') w.double(3, v);
  else if (typeof v === 'string') w.string(4, v);
  else w.bytes(5, v);
}
function pbWriteCol(w: PbWriter, c: Col): void {
  if (c.name !== null) w.string(1, c.name);
  if (c.decltype !== null) w.string(2, c.decltype);
}
function pbWriteError(w: PbWriter, e: HError): void {
  if (e.message) w.string(1, e.message);
  if (e.code) w.string(2, e.code);
}
function pbWriteStmtResult(w: PbWriter, r: StmtResult): void {
  for (const c of r.cols) w.message(1, (x) => pbWriteCol(x, c));
  for (const row of r.rows) w.message(2, (x) => { for (const v of row) x.message(1, (y) => pbWriteValue(y, v)); });
  w.uintNonZero(3, r.affectedRowCount);
  if (r.lastInsertRowid !== null) w.sint64(4, r.lastInsertRowid);
  w.uintNonZero(6, r.rowsRead);
  w.uintNonZero(7, r.rowsWritten);
  if (r.queryDurationMs !== 0) w.double(8, r.queryDurationMs);
}
function pbWriteResponse(w: PbWriter, r: StreamResponse): void {
  switch (r.type) {
    case 'close': w.message(1, pbNothing); break;
    case 'execute': w.message(2, (x) => x.message(1, (y) => pbWriteStmtResult(y, r.result))); break;
    case 'batch': w.message(3, (x) => x.message(1, (y) => {
      r.result.stepResults.forEach((s, i) => { if (s) y.message(1, (z) => { z.uint(1, i); z.message(2, (q) => pbWriteStmtResult(q, s)); }); });
      r.result.stepErrors.forEach((e, i) => { if (e) y.message(2, (z) => { z.uint(1, i); z.message(2, (q) => pbWriteError(q, e)); }); });
    })); break;
    case 'sequence': w.message(4, pbNothing); break;
    case 'describe': w.message(5, (x) => x.message(1, (y) => {
      for (const p of r.result.params) y.message(1, (z) => { if (p.name !== null) z.string(1, p.name); });
      for (const c of r.result.cols) y.message(2, (z) => { if (c.name) z.string(1, c.name); if (c.decltype !== null) z.string(2, c.decltype); });
      if (r.result.isExplain) y.uint(3, 1);
      if (r.result.isReadonly) y.uint(4, 1);
    })); break;
    case 'store_sql': w.message(6, pbNothing); break;
    case 'close_sql': w.message(7, pbNothing); break;
    case 'get_autocommit': w.message(8, (x) => { if (r.isAutocommit) x.uint(1, 1); }); break;
  }
}

function pipelineRespPb(baton: string | null, results: StreamResult[]): Uint8Array {
  const w = new PbWriter();
  if (baton !== null) w.string(1, baton);
  for (const r of results) {
    w.message(3, (x) => {
      if (r.type === 'ok') x.message(1, (y) => pbWriteResponse(y, r.response));
      else x.message(2, (y) => pbWriteError(y, r.error));
    });
  }
  return w.finish();
}

function pbDelimited(fill: (w: PbWriter) => void): Uint8Array {
  const inner = new PbWriter();
  fill(inner);
  const msg = inner.finish();
  const w = new PbWriter();
  w.varint(msg.byteLength);
  return Buffer.concat([w.finish(), msg]);
}

function pbWriteCursorEntry(w: PbWriter, e: CursorEntry): void {
  switch (e.type) {
    case 'step_begin': w.message(1, (x) => { x.uintNonZero(1, e.step); for (const c of e.cols) x.message(2, (y) => pbWriteCol(y, c)); }); break;
    case 'step_end': w.message(2, (x) => { x.uintNonZero(1, e.affectedRowCount); if (e.lastInsertRowid !== null) x.sint64(2, e.lastInsertRowid); }); break;
    case 'step_error': w.message(3, (x) => { x.uintNonZero(1, e.step); x.message(2, (y) => pbWriteError(y, e.error)); }); break;
    case 'row': w.message(4, (x) => { for (const v of e.row) x.message(1, (y) => pbWriteValue(y, v)); }); break;
    case 'error': w.message(5, (x) => pbWriteError(x, e.error)); break;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP

type Encoding = 'json' | 'protobuf';
const ROUTES: Record<string, { endpoint: 'pipeline' | 'cursor'; version: number; encoding: Encoding }> = {
  '/v2/pipeline': { endpoint: 'pipeline', version: 2, encoding: 'json' },
  '/v3/pipeline': { endpoint: 'pipeline', version: 3, encoding: 'json' },
  '/v3-protobuf/pipeline': { endpoint: 'pipeline', version: 3, encoding: 'protobuf' },
  '/v3/cursor': { endpoint: 'cursor', version: 3, encoding: 'json' },
  '/v3-protobuf/cursor': { endpoint: 'cursor', version: 3, encoding: 'protobuf' },
};

function send(res: ServerResponse, status: number, contentType: string | null, body: string | Uint8Array): void {
  const headers: Record<string, string | number> = { 'content-length': Buffer.byteLength(body) };
  if (contentType) headers['content-type'] = contentType;
  res.writeHead(status, headers);
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The reason a request is refused, or null (sqld's AuthError texts). */
function authFailure(ctx: Ctx, req: IncomingMessage): string | null {
  if (ctx.authToken === undefined) return null;
  const header = req.headers.authorization;
  if (!header) return 'The `Authorization` HTTP header is required but was not specified';
  const m = /^bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return 'The `Authorization` HTTP header has an unsupported scheme';
  const given = Buffer.from(m[1]!);
  const expected = Buffer.from(ctx.authToken);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'The JWT is invalid';
  return null;
}

async function handleHttp(ctx: Ctx, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const body = await readBody(req);
  if (req.method === 'GET' || req.method === 'HEAD') {
    if (path === '/health') return send(res, 200, null, '');
    if (path === '/version') return send(res, 200, 'text/plain', 'hrana-server (a sqld stand-in for tests)');
    if (path === '/v2' || path === '/v3' || path === '/v3-protobuf') return send(res, 200, 'text/plain', 'Hello, this is HTTP API v2 (Hrana over HTTP)');
  }
  const route = ROUTES[path];
  if (!route) return send(res, 404, null, '');
  if (req.method !== 'POST') return send(res, 405, null, '');
  ctx.stats.requests++;
  const refused = authFailure(ctx, req);
  if (refused) return send(res, 401, 'application/json', JSON.stringify({ error: `Unauthorized: \`${refused}\`` }));
  try {
    if (route.endpoint === 'pipeline') {
      const parsed = route.encoding === 'json' ? jsonPipelineReq(body) : pbPipelineReq(body);
      const { baton, results } = await handlePipeline(ctx, parsed, route.version);
      if (route.encoding === 'json') send(res, 200, 'application/json', pipelineRespJson(baton, results));
      else send(res, 200, 'application/x-protobuf', pipelineRespPb(baton, results));
    } else {
      const parsed = route.encoding === 'json' ? jsonCursorReq(body) : pbCursorReq(body);
      const { baton, entries } = await handleCursor(ctx, parsed, route.version);
      if (route.encoding === 'json') {
        const lines = [JSON.stringify({ baton, base_url: null }), ...entries.map((e) => JSON.stringify(cursorEntryJson(e)))];
        send(res, 200, 'text/plain', lines.map((l) => `${l}\n`).join(''));
      } else {
        const parts = [pbDelimited((w) => { if (baton !== null) w.string(1, baton); }), ...entries.map((e) => pbDelimited((w) => pbWriteCursorEntry(w, e)))];
        send(res, 200, 'application/octet-stream', Buffer.concat(parts));
      }
    }
  } catch (e) {
    if (e instanceof ProtocolError) return send(res, 400, 'text/plain', e.message);
    if (e instanceof StreamExpired) {
      const err: HError = { message: e.message, code: e.code };
      if (route.encoding === 'json') return send(res, 500, 'application/json', JSON.stringify(err));
      const w = new PbWriter();
      pbWriteError(w, err);
      return send(res, 500, 'application/x-protobuf', w.finish());
    }
    const message = e instanceof Error ? e.message : String(e);
    return send(res, 500, 'application/json', JSON.stringify({ error: `Internal Error: \`${message}\`` }));
  }
}

/** Starts the server on 127.0.0.1 over the libSQL file at `opts.path`. */
export async function startHranaServer(opts: HranaServerOptions): Promise<HranaServer> {
  const ctx: Ctx = {
    path: opts.path,
    authToken: opts.authToken,
    streamIdleMs: opts.streamIdleMs ?? 10_000,
    txnTimeoutMs: opts.txnTimeoutMs ?? 5_000,
    busyTimeoutMs: opts.busyTimeoutMs ?? 5_000,
    maxResponseBytes: opts.maxResponseBytes ?? 10_000_000,
    batonKey: randomBytes(32),
    handles: new Map(),
    slot: null,
    slotWaiters: new Set(),
    sqlCache: new Map(),
    closed: false,
    stats: { requests: 0, streams: 0 },
  };
  // Like sqld, hold one connection for the server's life: the WAL is not checkpointed and
  // removed whenever the last stream closes.
  const keeper = openConn(ctx);
  for (let attempt = 0; ; attempt++) {
    try {
      keeper.exec('PRAGMA journal_mode = WAL');
      break;
    } catch (e) {
      if (sqliteFailure(e)?.base !== 5 || attempt >= 100) { keeper.close(); throw e; }
      await sleep(20);
    }
  }
  const server = createServer((req, res) => {
    handleHttp(ctx, req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, 'application/json', JSON.stringify({ error: `Internal Error: \`${e instanceof Error ? e.message : String(e)}\`` }));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const { port } = server.address() as AddressInfo;
  const stats = Object.defineProperty(ctx.stats, 'openStreams', {
    enumerable: true,
    get: () => [...ctx.handles.values()].filter((h) => h.state !== 'expired').length,
  }) as HranaServerStats;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    async close() {
      if (ctx.closed) return;
      ctx.closed = true;
      for (const handle of ctx.handles.values()) {
        if (handle.state === 'expired') continue;
        clearTimeout(handle.stream.timer);
        closeDb(ctx, handle.stream);
      }
      ctx.handles.clear();
      freeSlot(ctx);
      keeper.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
