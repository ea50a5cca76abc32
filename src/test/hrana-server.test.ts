/**
 * The sqld stand-in, driven by the clients lvzhi uses: `@libsql/client/web` (Hrana 2 over
 * HTTP/JSON, as on Workers), hrana-client at protocol 3 (Protobuf, cursors), raw HTTP for the
 * protocol's edges, and lvzhi's own drizzle database, compared with the embedded file client.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, LibsqlBatchError, type Client, type Row } from '@libsql/client/web';
import { createClient as createFileClient } from '@libsql/client';
import { BatchCond, openHttp } from '@libsql/hrana-client';
import { startHranaServer, type HranaServer, type HranaServerOptions } from './hrana-server';
import { createDb } from '../../db/client';
import { applyMigrations } from '../../db/migrate';
import { seedDemoIfEmpty } from '../../db/seed/demo';
import { openDatabase } from '../runtime/open-db';
import { campaignUnitList, listCampaigns } from '../store/campaign.repo';
import { countUnits, listPeople } from '../store/org.repo';
import { libsqlFailure as failure } from './expect-failure';

const NOW = Date.UTC(2026, 10, 30, 1, 0, 0);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempFile(name = 'db.sqlite'): string {
  const dir = mkdtempSync(join(tmpdir(), 'lvzhi-hrana-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, name);
}

async function serve(opts: Partial<HranaServerOptions> = {}): Promise<{ server: HranaServer; path: string }> {
  const path = opts.path ?? tempFile();
  const server = await startHranaServer({ ...opts, path });
  cleanups.push(() => server.close());
  return { server, path };
}

function client(server: HranaServer, extra: { authToken?: string; intMode?: 'bigint' | 'number' } = {}): Client {
  const c = createClient({ url: server.url, intMode: 'bigint', ...extra });
  cleanups.push(() => c.close());
  return c;
}

/** A row as a plain array (blobs as byte arrays), to compare rows from different clients. */
const plain = (row: Row | undefined) => Array.from({ length: row?.length ?? 0 }, (_, i) => {
  const v = row?.[i];
  return v instanceof ArrayBuffer ? [...new Uint8Array(v)] : v;
});

async function raw(server: HranaServer, body: unknown, path = '/v2/pipeline') {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  const type = res.headers.get('content-type');
  return { status: res.status, type, text, json: type === 'application/json' ? (JSON.parse(text) as Record<string, unknown>) : null };
}

const execReq = (sql: string, args: unknown[] = []) => ({ type: 'execute', stmt: { sql, args, want_rows: true } });
type PipelineJson = { baton: string | null; results: Array<{ type: string; response?: { type: string; result?: Record<string, unknown>; is_autocommit?: boolean }; error?: { message: string; code: string } }> };

describe('hrana server: the web client', () => {
  let server: HranaServer;
  let path: string;
  let db: Client;
  beforeAll(async () => {
    ({ server, path } = await serve());
    db = client(server);
    await db.execute('CREATE TABLE u (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)');
  });

  it('executes with positional and named arguments, bound as sqld binds them', async () => {
    const pos = await db.execute({ sql: 'SELECT ? AS a, ? AS b, ?2 AS again', args: [41n, '乙'] });
    expect(pos.columns).toEqual(['a', 'b', 'again']);
    expect(plain(pos.rows[0])).toEqual([41n, '乙', '乙']);

    const named = await db.execute({ sql: 'SELECT :a AS a, @b AS b, $c AS c, :a + 1 AS d', args: { a: 1n, '@b': 'two', $c: null } });
    expect(plain(named.rows[0])).toEqual([1n, 'two', null, 2n]);

    // The embedded client binds NULL for a missing argument and ignores extras; sqld refuses both.
    const missing = await failure(db.execute({ sql: 'SELECT :a, :b', args: { a: 1 } }));
    expect(missing.code).toBe('ARGS_INVALID');
    expect(missing.message).toContain('value for parameter :b not found');
    expect((await failure(db.execute({ sql: 'SELECT ?', args: [1, 2] }))).code).toBe('ARGS_INVALID');
  });

  it('round-trips every value type exactly as the embedded client reads it', async () => {
    const text = '履职评估 — 中文 😀';
    const blob = new Uint8Array([0, 1, 2, 250, 255]);
    await db.execute('CREATE TABLE v (k INTEGER PRIMARY KEY, i INTEGER, f REAL, t TEXT, b BLOB, n)');
    const ins = await db.execute({ sql: 'INSERT INTO v (i, f, t, b, n) VALUES (?, ?, ?, ?, ?)', args: [9223372036854775807n, 1.5, text, blob, null] });
    expect(ins.rowsAffected).toBe(1);
    expect(ins.lastInsertRowid).toBe(1n);
    await db.batch([
      { sql: 'INSERT INTO v (i, f, t) VALUES (?, ?, ?)', args: [-9223372036854775808n, 1e-300, ''] },
      { sql: 'INSERT INTO v (i, f, t) VALUES (?, ?, ?)', args: [9007199254740993n, 2, 'x'] },
    ], 'write');

    const sql = 'SELECT k, i, f, t, b, n, typeof(i), typeof(f), typeof(b) FROM v ORDER BY k';
    const overHttp = await db.execute(sql);
    expect(overHttp.rows.map(plain)).toEqual([
      [1n, 9223372036854775807n, 1.5, text, [0, 1, 2, 250, 255], null, 'integer', 'real', 'blob'],
      [2n, -9223372036854775808n, 1e-300, '', null, null, 'integer', 'real', 'null'],
      [3n, 9007199254740993n, 2, 'x', null, null, 'integer', 'real', 'null'],
    ]);
    const file = createFileClient({ url: `file:${path}`, intMode: 'bigint' });
    try {
      const direct = await file.execute(sql);
      expect(overHttp.rows.map(plain)).toEqual(direct.rows.map(plain));
      expect(overHttp.columns).toEqual(direct.columns);
      expect(overHttp.columnTypes).toEqual(direct.columnTypes);
    } finally {
      file.close();
    }
  });

  it('runs a write batch atomically: a failing statement rolls the whole batch back', async () => {
    const ok = await db.batch(['INSERT INTO u (name) VALUES (\'甲\')', 'SELECT count(*) FROM u'], 'write');
    expect(ok[1]?.rows[0]?.[0]).toBe(1n);
    const err = await failure(db.batch([
      { sql: 'INSERT INTO u (name) VALUES (?)', args: ['乙'] },
      { sql: 'INSERT INTO u (name) VALUES (?)', args: ['甲'] },
      { sql: 'INSERT INTO u (name) VALUES (?)', args: ['丙'] },
    ], 'write'));
    expect(err).toBeInstanceOf(LibsqlBatchError);
    expect((err as LibsqlBatchError).statementIndex).toBe(1);
    expect(err.code).toBe('SQLITE_CONSTRAINT');
    expect(plain((await db.execute('SELECT group_concat(name) FROM u')).rows[0])).toEqual(['甲']);
  });

  it('holds an interactive transaction across requests on one stream, then commits', async () => {
    const other = client(server);
    const streams = server.stats.streams;
    const tx = await db.transaction('write');
    await tx.execute({ sql: 'INSERT INTO u (name) VALUES (?)', args: ['丁'] });
    await tx.execute({ sql: 'INSERT INTO u (name) VALUES (?)', args: ['戊'] });
    expect((await tx.execute('SELECT count(*) FROM u')).rows[0]?.[0]).toBe(3n);
    // Another stream reads the committed state without waiting for the writer (WAL).
    expect((await other.execute('SELECT count(*) FROM u')).rows[0]?.[0]).toBe(1n);
    await tx.commit();
    expect(tx.closed).toBe(true);
    expect((await other.execute('SELECT count(*) FROM u')).rows[0]?.[0]).toBe(3n);
    // The transaction was one stream; each other.execute a stream of its own.
    expect(server.stats.streams - streams).toBe(3);
  });

  it('rolls an interactive transaction back, explicitly or when it is closed', async () => {
    const tx = await db.transaction('write');
    await tx.execute({ sql: 'INSERT INTO u (name) VALUES (?)', args: ['己'] });
    await tx.rollback();
    const tx2 = await db.transaction('write');
    await tx2.execute({ sql: 'INSERT INTO u (name) VALUES (?)', args: ['庚'] });
    tx2.close();
    await sleep(50);
    const names = (await db.execute('SELECT name FROM u ORDER BY id')).rows.map((r) => r[0]);
    expect(names).toEqual(['甲', '丁', '戊']);
    // …and the lock went with it: a new write transaction starts at once.
    const tx3 = await db.transaction('write');
    await tx3.execute('DELETE FROM u WHERE name = \'戊\'');
    await tx3.commit();
    expect((await db.execute('SELECT count(*) FROM u')).rows[0]?.[0]).toBe(2n);
  });

  it('reports a UNIQUE violation with the embedded client\'s code (Hrana has no extended code)', async () => {
    const file = createFileClient({ url: `file:${path}` });
    try {
      const embedded = await failure(file.execute({ sql: 'INSERT INTO u (name) VALUES (?)', args: ['甲'] }));
      const http = await failure(db.execute({ sql: 'INSERT INTO u (name) VALUES (?)', args: ['甲'] }));
      expect(embedded.code).toBe('SQLITE_CONSTRAINT');
      expect(embedded.extendedCode).toBe('SQLITE_CONSTRAINT_UNIQUE');
      expect(http.code).toBe(embedded.code);
      expect(http.extendedCode).toBeUndefined();
      expect(http.message).toBe('SQLITE_CONSTRAINT: SQLite error: UNIQUE constraint failed: u.name');
      const notNull = await failure(db.execute('INSERT INTO u (name) VALUES (NULL)'));
      expect(notNull.code).toBe('SQLITE_CONSTRAINT');
    } finally {
      file.close();
    }
  });

  it('serves two clients at once: a writer waits for the other\'s transaction instead of failing', async () => {
    const a = client(server);
    const b = client(server);
    await a.execute('CREATE TABLE w (who TEXT, at INTEGER)');
    const tx = await a.transaction('write');
    await tx.execute('INSERT INTO w VALUES (\'a\', 1)');
    let committed = 0;
    let bDone = 0;
    const bWrite = b.execute('INSERT INTO w VALUES (\'b\', 2)').then(() => { bDone = performance.now(); });
    // A reader is never blocked, and sees only committed rows.
    expect((await b.execute('SELECT count(*) FROM w')).rows[0]?.[0]).toBe(0n);
    await sleep(150);
    expect(bDone).toBe(0);
    committed = performance.now();
    await tx.commit();
    await bWrite;
    expect(bDone).toBeGreaterThanOrEqual(committed);
    // Many concurrent autocommit writes from both clients all land.
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).execute({ sql: 'INSERT INTO w VALUES (?, ?)', args: ['n', i] })));
    expect(plain((await a.execute('SELECT count(*), sum(at) FROM w WHERE who = \'n\'')).rows[0])).toEqual([40n, 780n]);
    expect(plain((await a.execute('SELECT group_concat(who) FROM (SELECT who FROM w WHERE who != \'n\' ORDER BY at)')).rows[0])).toEqual(['a,b']);
  });

  it('reports SQLITE_BUSY for a deferred transaction whose snapshot went stale, and stays usable', async () => {
    const other = client(server);
    await db.execute('CREATE TABLE s (x)');
    const tx = await db.transaction('deferred');
    expect((await tx.execute('SELECT count(*) FROM s')).rows[0]?.[0]).toBe(0n);
    await other.execute('INSERT INTO s VALUES (1)');
    const err = await failure(tx.execute('INSERT INTO s VALUES (2)'));
    expect(err.code).toBe('SQLITE_BUSY');
    expect(err.message).toContain('SQLite error: database is locked');
    // As on sqld the transaction is still open, and ends cleanly.
    await tx.commit();
    await other.execute('INSERT INTO s VALUES (3)');
    expect((await db.execute('SELECT group_concat(x) FROM s')).rows[0]?.[0]).toBe('1,3');
  });

  it('waits busyTimeoutMs for a lock held outside the server, then gives SQLITE_BUSY and recovers', async () => {
    const { server: s2, path: p2 } = await serve({ busyTimeoutMs: 200 });
    const web = client(s2);
    await web.execute('CREATE TABLE x (v)');
    const outside = createFileClient({ url: `file:${p2}` });
    try {
      const held = await outside.transaction('write');
      await held.execute('INSERT INTO x VALUES (\'outside\')');
      const tx = await web.transaction('deferred');
      await tx.execute('SELECT count(*) FROM x');
      const started = performance.now();
      const err = await failure(tx.execute('INSERT INTO x VALUES (\'web\')'));
      expect(err.code).toBe('SQLITE_BUSY');
      expect(performance.now() - started).toBeGreaterThanOrEqual(150);
      await held.commit();
      await tx.execute('INSERT INTO x VALUES (\'web\')');
      await tx.commit();
      // Nothing of the server's holds the lock now: the outside writer gets it at once.
      const again = await outside.transaction('write');
      await again.execute('INSERT INTO x VALUES (\'outside 2\')');
      await again.commit();
      expect((await outside.execute('SELECT group_concat(v) FROM x')).rows[0]?.[0]).toBe('outside,web,outside 2');
    } finally {
      outside.close();
    }
  });

  it('runs several statements with executeMultiple, stopping at the first error', async () => {
    await db.executeMultiple('CREATE TABLE m (x); INSERT INTO m VALUES (1); INSERT INTO m VALUES (2);');
    expect((await db.execute('SELECT sum(x) FROM m')).rows[0]?.[0]).toBe(3n);
    const err = await failure(db.executeMultiple('INSERT INTO m VALUES (10); INSERT INTO nope VALUES (1); INSERT INTO m VALUES (100);'));
    expect(err.code).toBe('SQL_INPUT_ERROR');
    expect((await db.execute('SELECT sum(x) FROM m')).rows[0]?.[0]).toBe(13n);
  });
});

describe('hrana server: the protocol as sqld speaks it', () => {
  let server: HranaServer;
  beforeAll(async () => {
    ({ server } = await serve());
    await raw(server, { requests: [execReq('CREATE TABLE t (id INTEGER PRIMARY KEY, x)'), { type: 'close' }] });
  });

  it('answers the version probes and nothing else', async () => {
    for (const p of ['/v2', '/v3', '/v3-protobuf']) expect((await fetch(`${server.url}${p}`)).status).toBe(200);
    expect((await fetch(`${server.url}/v4`)).status).toBe(404);
    expect((await fetch(`${server.url}/v2/pipeline`)).status).toBe(405);
  });

  it('encodes values as Hrana does: integers as strings, unpadded base64 blobs, rowids for INSERTs only', async () => {
    const r = await raw(server, {
      requests: [
        execReq('INSERT INTO t (x) VALUES (?)', [{ type: 'blob', base64: 'AAEC/w==' }]),
        execReq('SELECT 9223372036854775807 AS big, x, 0.5 AS f, NULL AS n FROM t'),
        execReq('UPDATE t SET x = x'),
        { type: 'close' },
      ],
    });
    expect(r.status).toBe(200);
    const body = r.json as PipelineJson;
    expect(body.baton).toBeNull();
    const [ins, sel, upd, close] = body.results;
    expect(ins?.response?.result).toMatchObject({ affected_row_count: 1, last_insert_rowid: '1', rows: [] });
    expect(sel?.response?.result).toMatchObject({
      cols: [{ name: 'big', decltype: null }, { name: 'x', decltype: null }, { name: 'f', decltype: null }, { name: 'n', decltype: null }],
      rows: [[{ type: 'integer', value: '9223372036854775807' }, { type: 'blob', base64: 'AAEC/w' }, { type: 'float', value: 0.5 }, { type: 'null' }]],
      affected_row_count: 0,
      last_insert_rowid: null,
    });
    expect(upd?.response?.result).toMatchObject({ affected_row_count: 1, last_insert_rowid: null });
    expect(close).toEqual({ type: 'ok', response: { type: 'close' } });
  });

  it('refuses an unknown request type with HTTP 400 and a clear message', async () => {
    const r = await raw(server, { requests: [{ type: 'frobnicate' }] });
    expect(r.status).toBe(400);
    expect(r.type).toBe('text/plain');
    expect(r.text).toContain('unknown variant `frobnicate`, expected one of `close`, `execute`, `batch`');
    const missing = await raw(server, { requests: [{ type: 'execute' }] });
    expect(missing.status).toBe(400);
    expect(missing.text).toContain('missing field `stmt`');
  });

  it('keeps a stream on one connection by baton, each baton good for one request', async () => {
    const first = (await raw(server, { requests: [execReq('BEGIN'), execReq('INSERT INTO t (x) VALUES (7)')] })).json as PipelineJson;
    const b1 = first.baton;
    expect(b1).toMatch(/^[A-Za-z0-9+/]{64}$/);
    const second = (await raw(server, { baton: b1, requests: [execReq('SELECT count(*) FROM t WHERE x = 7')] })).json as PipelineJson;
    expect(second.results[0]?.response?.result?.rows).toEqual([[{ type: 'integer', value: '1' }]]);
    // A spent baton is refused; the stream itself lives on (sqld never acquired it).
    const reused = await raw(server, { baton: b1, requests: [execReq('SELECT 1')] });
    expect(reused.status).toBe(400);
    expect(reused.type).toBe('text/plain');
    expect(reused.text).toBe('Received a baton that has already been used');
    const third = (await raw(server, { baton: second.baton, requests: [execReq('SELECT count(*) FROM t WHERE x = 7')] })).json as PipelineJson;
    expect(third.results[0]?.response?.result?.rows).toEqual([[{ type: 'integer', value: '1' }]]);
    // A protocol error inside the stream's own pipeline drops it: its transaction and its batons.
    const broken = await raw(server, { baton: third.baton, requests: [{ type: 'execute', stmt: { sql_id: 99 } }] });
    expect(broken.status).toBe(400);
    expect(broken.text).toBe('SQL text 99 not found');
    const after = await raw(server, { baton: third.baton, requests: [execReq('SELECT 1')] });
    expect(after.text).toBe('Received an invalid baton');
    const count = (await raw(server, { requests: [execReq('SELECT count(*) FROM t WHERE x = 7')] })).json as PipelineJson;
    expect(count.results[0]?.response?.result?.rows).toEqual([[{ type: 'integer', value: '0' }]]);
    const forged = await raw(server, { baton: Buffer.alloc(48).toString('base64'), requests: [] });
    expect(forged.status).toBe(400);
    expect(forged.text).toBe('Received an invalid baton');
  });

  it('gives sqld\'s codes for statements it will not run', async () => {
    const r = (await raw(server, {
      requests: [
        execReq('SELECT 1; SELECT 2'),
        execReq('  -- nothing\n'),
        execReq('PRAGMA journal_mode = WAL'),
        execReq('selec 1'),
        execReq('SELECT * FROM nope'),
        execReq('ATTACH \'x.db\' AS x'),
        { type: 'execute', stmt: { sql: 'SELECT ?, :a', args: [{ type: 'null' }], named_args: [{ name: 'a', value: { type: 'null' } }] } },
        execReq('COMMIT'),
        { type: 'close' },
      ],
    })).json as PipelineJson;
    expect(r.results.map((x) => x.error?.code)).toEqual([
      'SQL_MANY_STATEMENTS', 'SQL_NO_STATEMENT', 'SQL_PARSE_ERROR', 'SQL_PARSE_ERROR', 'SQL_INPUT_ERROR', 'SQL_PARSE_ERROR',
      'ARGS_BOTH_POSITIONAL_AND_NAMED', 'SQLITE_UNKNOWN', undefined,
    ]);
    expect(r.results[4]?.error?.message).toBe('SQL input error: no such table: nope (at offset 14)');
    expect(r.results[7]?.error?.message).toBe('SQLite error: cannot commit - no transaction is active');
  });

  it('parses a whole batch before running it, and evaluates step conditions', async () => {
    const bad = (await raw(server, {
      requests: [{ type: 'batch', batch: { steps: [{ stmt: { sql: 'INSERT INTO t (x) VALUES (99)' } }, { stmt: { sql: 'selec 1' } }] } }, { type: 'close' }],
    })).json as PipelineJson;
    expect(bad.results[0]?.error?.code).toBe('SQL_PARSE_ERROR');
    const good = (await raw(server, {
      requests: [{
        type: 'batch',
        batch: {
          steps: [
            { stmt: { sql: 'INSERT INTO t (id, x) VALUES (1000, 1)' } },
            { stmt: { sql: 'INSERT INTO t (id, x) VALUES (1000, 2)' } },
            { condition: { type: 'ok', step: 1 }, stmt: { sql: 'SELECT 1' } },
            { condition: { type: 'error', step: 1 }, stmt: { sql: 'SELECT count(*) FROM t WHERE x = 99' } },
            { condition: { type: 'and', conds: [{ type: 'ok', step: 0 }, { type: 'not', cond: { type: 'ok', step: 2 } }] }, stmt: { sql: 'SELECT 3' } },
          ],
        },
      }, { type: 'close' }],
    })).json as PipelineJson;
    const result = good.results[0]?.response?.result as { step_results: Array<{ rows: unknown[] } | null>; step_errors: Array<{ code: string } | null> };
    expect(result.step_results.map((s) => (s ? s.rows : null))).toEqual([[], null, null, [[{ type: 'integer', value: '0' }]], [[{ type: 'integer', value: '3' }]]]);
    expect(result.step_errors.map((e) => e?.code ?? null)).toEqual([null, 'SQLITE_CONSTRAINT', null, null, null]);
    const badRef = await raw(server, { requests: [{ type: 'batch', batch: { steps: [{ condition: { type: 'ok', step: 0 }, stmt: { sql: 'SELECT 1' } }] } }] });
    expect(badRef.status).toBe(400);
    const v2 = await raw(server, { requests: [{ type: 'batch', batch: { steps: [{ stmt: { sql: 'SELECT 1' } }, { condition: { type: 'is_autocommit' }, stmt: { sql: 'SELECT 1' } }] } }] });
    expect(v2.status).toBe(400);
    expect(v2.text).toContain('hrana3');
  });

  it('stores SQL texts per stream, within sqld\'s limits', async () => {
    const r = (await raw(server, {
      requests: [
        { type: 'store_sql', sql_id: 1, sql: 'SELECT ? * 2' },
        { type: 'execute', stmt: { sql_id: 1, args: [{ type: 'integer', value: '21' }] } },
        { type: 'store_sql', sql_id: 2, sql: `SELECT '${'长'.repeat(1700)}'` },
        { type: 'close_sql', sql_id: 1 },
      ],
    })).json as PipelineJson;
    expect(r.results[1]?.response?.result?.rows).toEqual([[{ type: 'integer', value: '42' }]]);
    // 1,700 characters but 5,109 bytes: the client's cache would send it, sqld refuses it.
    expect(r.results[2]?.error?.code).toBe('SQL_STORE_TOO_LARGE');
    const gone = await raw(server, { baton: r.baton, requests: [{ type: 'execute', stmt: { sql_id: 1 } }] });
    expect(gone.status).toBe(400);
    expect(gone.text).toBe('SQL text 1 not found');
  });

  it('answers get_autocommit on version 3 only', async () => {
    const v2 = await raw(server, { requests: [{ type: 'get_autocommit' }] });
    expect(v2.status).toBe(400);
    const v3 = (await raw(server, { requests: [{ type: 'get_autocommit' }, execReq('BEGIN'), { type: 'get_autocommit' }, { type: 'close' }] }, '/v3/pipeline')).json as PipelineJson;
    expect(v3.results.map((x) => x.response?.is_autocommit)).toEqual([true, undefined, false, undefined]);
  });

  it('streams a cursor as JSON lines on /v3/cursor', async () => {
    const res = await fetch(`${server.url}/v3/cursor`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ batch: { steps: [{ stmt: { sql: 'SELECT id FROM t WHERE id = 1000' } }, { stmt: { sql: 'SELECT * FROM nope' } }] } }),
    });
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(typeof lines[0]?.baton).toBe('string');
    expect(lines.slice(1).map((l) => l.type)).toEqual(['step_begin', 'row', 'step_end', 'step_error']);
    expect(lines[2]).toEqual({ type: 'row', row: [{ type: 'integer', value: '1000' }] });
  });

  it('limits a response to 10 MB as sqld does', async () => {
    const { server: small } = await serve({ maxResponseBytes: 2000 });
    const c = client(small);
    const err = await failure(c.execute('WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) SELECT i FROM n'));
    expect(err.code).toBe('RESPONSE_TOO_LARGE');
    expect((await c.execute('SELECT 1')).rows.length).toBe(1);
  });
});

describe('hrana server: sqld\'s time limits', () => {
  it('expires a stream left idle, rolling its transaction back', async () => {
    const { server } = await serve({ streamIdleMs: 150 });
    const c = client(server);
    await c.execute('CREATE TABLE e (x)');
    const tx = await c.transaction('write');
    await tx.execute('INSERT INTO e VALUES (1)');
    await sleep(400);
    const err = await failure(tx.execute('INSERT INTO e VALUES (2)'));
    expect(err.code).toBe('STREAM_EXPIRED');
    expect((await c.execute('SELECT count(*) FROM e')).rows[0]?.[0]).toBe(0n);
  });

  it('times a write transaction out after txnTimeoutMs', async () => {
    const { server } = await serve({ txnTimeoutMs: 200 });
    const c = client(server);
    await c.execute('CREATE TABLE e (x)');
    const tx = await c.transaction('write');
    await tx.execute('INSERT INTO e VALUES (1)');
    await sleep(300);
    const err = await failure(tx.execute('INSERT INTO e VALUES (2)'));
    expect(err.code).toBe('TRANSACTION_TIMEOUT');
    expect((await c.execute('SELECT count(*) FROM e')).rows[0]?.[0]).toBe(0n);
  });

  it('lets a waiting writer steal the lock from a transaction past its time', async () => {
    const { server } = await serve({ txnTimeoutMs: 300 });
    const a = client(server);
    const b = client(server);
    await a.execute('CREATE TABLE e (who)');
    const tx = await a.transaction('write');
    await tx.execute('INSERT INTO e VALUES (\'a\')');
    const started = performance.now();
    await b.execute('INSERT INTO e VALUES (\'b\')');
    expect(performance.now() - started).toBeGreaterThanOrEqual(200);
    expect((await failure(tx.execute('SELECT 1'))).code).toBe('TRANSACTION_TIMEOUT');
    expect((await a.execute('SELECT group_concat(who) FROM e')).rows[0]?.[0]).toBe('b');
  });
});

describe('hrana server: auth', () => {
  let server: HranaServer;
  beforeAll(async () => {
    ({ server } = await serve({ authToken: 's3cret-token' }));
  });

  it('refuses requests without the token or with another, and serves the right one', async () => {
    const before = server.stats.requests;
    const none = await failure(client(server).execute('SELECT 1'));
    expect(none.code).toBe('SERVER_ERROR');
    expect(none.message).toContain('401');
    const wrong = await failure(client(server, { authToken: 'guess' }).execute('SELECT 1'));
    expect(wrong.code).toBe('SERVER_ERROR');
    const right = await client(server, { authToken: 's3cret-token' }).execute('SELECT 42');
    expect(right.rows[0]?.[0]).toBe(42n);
    const bare = await raw(server, { requests: [execReq('SELECT 1')] });
    expect(bare.status).toBe(401);
    expect(server.stats.requests - before).toBe(4);
  });
});

describe('hrana server: Hrana 3 over Protobuf (hrana-client)', () => {
  it('negotiates v3-protobuf and runs statements, cursors, conditions and sequences', async () => {
    const { server } = await serve();
    const h = openHttp(server.url, undefined, undefined, undefined, 3);
    cleanups.push(() => h.close());
    expect(await h.getVersion()).toBe(3);
    const s = h.openStream();
    h.intMode = 'bigint';
    s.intMode = 'bigint';
    await s.sequence('CREATE TABLE p (i INTEGER, t TEXT, b BLOB, f REAL); INSERT INTO p VALUES (-5, \'负五\', x\'00ff\', -0.25)');
    expect(await s.getAutocommit()).toBe(true);
    const row = await s.queryRow(['SELECT i, t, b, f, :big AS big FROM p', { big: -9223372036854775808n }]);
    expect(row.row?.[0]).toBe(-5n);
    expect(row.row?.[1]).toBe('负五');
    expect([...new Uint8Array(row.row?.[2] as ArrayBuffer)]).toEqual([0, 255]);
    expect(row.row?.[3]).toBe(-0.25);
    expect(row.row?.[4]).toBe(-9223372036854775808n);

    await s.run('BEGIN');
    expect(await s.getAutocommit()).toBe(false);
    const batch = s.batch(true);
    const one = batch.step().query('SELECT i FROM p');
    const two = batch.step().condition(BatchCond.not(BatchCond.isAutocommit(batch))).query('INSERT INTO p (i) VALUES (7) RETURNING i');
    const three = batch.step().condition(BatchCond.isAutocommit(batch)).run('SELECT 1');
    await batch.execute();
    expect((await one)?.rows.map((r) => r[0])).toEqual([-5n]);
    expect((await two)?.rows.map((r) => r[0])).toEqual([7n]);
    expect(await three).toBeUndefined();
    await s.run('ROLLBACK');

    const d = await s.describe('SELECT i, ?1, :name FROM p');
    expect(d.paramNames).toEqual(['?1', ':name']);
    expect(d.columns.map((c) => [c.name, c.decltype])).toEqual([['i', 'INTEGER'], ['?1', undefined], [':name', undefined]]);
    expect(d.isReadonly).toBe(true);
    const err = await s.run('INSERT INTO nope VALUES (1)').then(() => null, (e: unknown) => e as { code?: string });
    expect(err?.code).toBe('SQL_INPUT_ERROR');
    s.close();
  });
});

describe('hrana server: lvzhi over HTTP', () => {
  it('migrates, seeds the demo through drizzle transactions and answers repositories as the file does', async () => {
    const path = tempFile('lvzhi.db');
    const migrated = await openDatabase({ DATABASE_URL: `file:${path}` });
    migrated.close();
    const { server } = await serve({ path });
    const web = client(server, { intMode: 'number' });
    const db = createDb(web);
    const campaignId = await seedDemoIfEmpty(db, NOW);
    expect(campaignId).toBeTypeOf('number');
    expect(await seedDemoIfEmpty(db, NOW)).toBeNull();

    const read = async (d: typeof db) => ({
      campaigns: await listCampaigns(d),
      people: await listPeople(d),
      units: await campaignUnitList(d, campaignId ?? 0),
      anyUnit: await countUnits(d),
    });
    const overHttp = await read(db);
    expect(overHttp.campaigns.map((c) => c.id)).toEqual([campaignId]);
    expect(overHttp.people.length).toBeGreaterThan(5);
    expect(overHttp.units).toHaveLength(6);

    // The same file read directly.
    const direct = await openDatabase({ DATABASE_URL: `file:${path}` }, { migrate: false });
    try {
      expect(overHttp).toEqual(await read(direct.db));
    } finally {
      direct.close();
    }

    // And a demo seeded on a file without the server comes out the same.
    const reference = await openDatabase({ DATABASE_URL: `file:${tempFile('reference.db')}` });
    try {
      expect(await seedDemoIfEmpty(reference.db, NOW)).toBe(campaignId);
      expect(overHttp).toEqual(await read(reference.db));
      const tables = 'SELECT name FROM sqlite_master WHERE type = \'table\' AND name NOT LIKE \'sqlite_%\' AND name NOT LIKE \'__drizzle%\' ORDER BY name';
      for (const row of (await reference.client.execute(tables)).rows) {
        const count = `SELECT count(*) FROM "${String(row[0])}"`;
        expect([row[0], (await web.execute(count)).rows[0]?.[0]]).toEqual([row[0], (await reference.client.execute(count)).rows[0]?.[0]]);
      }
    } finally {
      reference.close();
    }
  });

  it('applies lvzhi\'s migrations over HTTP (drizzle\'s migrate batch) to the schema a file gets', async () => {
    const { server } = await serve();
    const web = client(server, { intMode: 'number' });
    await applyMigrations(createDb(web));
    await applyMigrations(createDb(web));
    const reference = await openDatabase({ DATABASE_URL: `file:${tempFile('schema.db')}` });
    try {
      const schema = 'SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name';
      const overHttp = (await web.execute(schema)).rows.map(plain);
      expect(overHttp.length).toBeGreaterThan(20);
      expect(overHttp).toEqual((await reference.client.execute(schema)).rows.map(plain));
      const applied = 'SELECT hash, created_at FROM __drizzle_migrations ORDER BY id';
      expect((await web.execute(applied)).rows.map(plain)).toEqual((await reference.client.execute(applied)).rows.map(plain));
    } finally {
      reference.close();
    }
  });
});
