/**
 * The file client against @libsql/client's own file mode: the same results and errors, each
 * statement prepared once per connection, and a connection that met another process's lock
 * not left refusing every later COMMIT.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClient, LibsqlError, type Client, type ResultSet } from '@libsql/client';
import { createFileClient, STATEMENT_CACHE_SIZE } from './libsql-file';
import { libsqlFailure as failure } from '../test/expect-failure';

let dir: string;
let path: string;
const opened: Client[] = [];
const open = <C extends Client>(c: C): C => (opened.push(c), c);

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lvzhi-file-client-'));
  path = join(dir, 'test.db');
  const setup = open(createClient({ url: `file:${path}` }));
  await setup.executeMultiple(`
    PRAGMA journal_mode = WAL;
    CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, data BLOB);
    INSERT INTO t (name, score, data) VALUES ('甲', 1.5, x'0102'), ('乙', NULL, NULL);`);
});
afterEach(() => {
  for (const c of opened.splice(0)) c.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What a result carries, as plain values: rows by index and by name. */
const plain = (r: ResultSet) => ({
  columns: r.columns,
  rows: r.rows.map((row) => ({ byIndex: Array.from({ length: row.length }, (_, i) => row[i] instanceof ArrayBuffer ? [...new Uint8Array(row[i] as ArrayBuffer)] : row[i]), keys: Object.keys(row) })),
  rowsAffected: r.rowsAffected,
  lastInsertRowid: r.lastInsertRowid,
});

describe('the file client', () => {
  it('answers as @libsql/client does: rows by index and by name, blobs, duplicate names, writes', async () => {
    const ours = open(createFileClient(path));
    const theirs = open(createClient({ url: `file:${path}` }));
    for (const stmt of [
      'SELECT id, name, score, data FROM t ORDER BY id',
      { sql: 'SELECT t.id, u.id, t.name AS length FROM t JOIN t AS u ON u.id = t.id WHERE t.id = ?', args: [1] },
      { sql: 'SELECT name FROM t WHERE name = :name', args: { name: '乙' } },
      { sql: 'UPDATE t SET score = ? WHERE id = ?', args: [2, 2] },
      { sql: 'INSERT INTO t (name) VALUES (?) RETURNING id, name', args: ['丙'] },
    ]) {
      const [a, b] = [await ours.execute(stmt), await theirs.execute(stmt)];
      // Each client inserted once: the RETURNING ids differ by one.
      if (typeof stmt !== 'string' && stmt.sql.startsWith('INSERT')) expect(Number(b.rows[0]![0]) - Number(a.rows[0]![0])).toBe(1);
      else expect(plain(a)).toEqual(plain(b));
    }
    expect((await ours.execute('SELECT id, name FROM t WHERE id = 1')).rows[0]).toMatchObject({ id: 1, name: '甲' });
  });

  it('prepares a statement once per connection, however often it runs', async () => {
    const client = open(createFileClient(path));
    for (let i = 0; i < 5; i++) await client.execute({ sql: 'SELECT name FROM t WHERE id = ?', args: [1] });
    await client.batch([{ sql: 'UPDATE t SET score = ? WHERE id = 1', args: [3] }, 'SELECT count(*) FROM t'], 'write');
    await client.batch([{ sql: 'UPDATE t SET score = ? WHERE id = 1', args: [4] }, 'SELECT count(*) FROM t'], 'write');
    // The select, BEGIN IMMEDIATE, the update, the count and COMMIT: five statements in all.
    expect(client.prepares()).toBe(5);
    for (let i = 0; i < STATEMENT_CACHE_SIZE + 10; i++) await client.execute(`SELECT ${i}`);
    expect((await client.execute({ sql: 'SELECT name FROM t WHERE id = ?', args: [2] })).rows[0]?.name).toBe('乙');
  });

  it('maps errors as @libsql/client does, and a failed batch writes nothing', async () => {
    const ours = open(createFileClient(path));
    const theirs = open(createClient({ url: `file:${path}` }));
    const described = (e: LibsqlError) => ({ type: e.constructor.name, code: e.code, extendedCode: e.extendedCode, message: e.message });
    const half = [{ sql: 'UPDATE t SET name = ? WHERE id = 1', args: ['改'] }, 'UPDATE t SET name = NULL WHERE id = 2'];
    const err = described(await failure(ours.batch(half, 'write')));
    expect(err).toEqual({ type: 'LibsqlBatchError', code: 'SQLITE_CONSTRAINT', extendedCode: 'SQLITE_CONSTRAINT_NOTNULL', message: expect.stringContaining('NOT NULL constraint failed: t.name') });
    expect(err).toEqual(described(await failure(theirs.batch(half, 'write'))));
    expect((await ours.execute('SELECT name FROM t WHERE id = 1')).rows[0]?.name).toBe('甲');
    expect(described(await failure(ours.execute('SELECT * FROM nothing')))).toEqual(described(await failure(theirs.execute('SELECT * FROM nothing'))));
  });

  it('keeps an interactive transaction on its own connection until it ends', async () => {
    const client = open(createFileClient(path));
    const tx = await client.transaction('write');
    await tx.execute({ sql: 'UPDATE t SET name = ? WHERE id = 1', args: ['事务中'] });
    // Another reader does not see it before the commit.
    expect((await client.execute('SELECT name FROM t WHERE id = 1')).rows[0]?.name).toBe('甲');
    await tx.commit();
    expect(tx.closed).toBe(true);
    expect((await client.execute('SELECT name FROM t WHERE id = 1')).rows[0]?.name).toBe('事务中');
    const rolled = await client.transaction('write');
    await rolled.execute('DELETE FROM t');
    await rolled.rollback();
    expect((await client.execute('SELECT count(*) AS n FROM t')).rows[0]?.n).toBe(2);
  });

  it('commits again once another process lets go of the write lock', async () => {
    const client = open(createFileClient(path, { timeout: 20 }));
    const other = open(createClient({ url: `file:${path}` }));
    const lock = await other.transaction('write');
    expect((await failure(client.execute({ sql: 'UPDATE t SET score = 9 WHERE id = 1', args: [] }))).code).toBe('SQLITE_BUSY');
    expect((await failure(client.batch(['UPDATE t SET score = 8 WHERE id = 1'], 'deferred'))).code).toBe('SQLITE_BUSY');
    expect((await failure(client.transaction('write'))).code).toBe('SQLITE_BUSY');
    await lock.rollback();
    // @libsql/client's file mode keeps the statement that met the lock running, and that
    // connection then fails every COMMIT with "SQL statements in progress".
    const tx = await client.transaction('write');
    await tx.execute('UPDATE t SET score = 7 WHERE id = 1');
    await tx.commit();
    await client.batch(['UPDATE t SET score = score + 1 WHERE id = 1'], 'deferred');
    expect((await client.execute('SELECT score FROM t WHERE id = 1')).rows[0]?.score).toBe(8);
  });
});
