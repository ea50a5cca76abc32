/** Database faults for tests: another connection holding the write lock, a database that refuses writes. */
import { createClient, type Client } from '@libsql/client';
import { sql } from 'drizzle-orm';
import { createDb, type Db } from '../../db/client';

/** The file behind an embedded database. */
export async function databaseFile(db: Db): Promise<string> {
  const rows = await db.all<{ file: string }>(sql`select file from pragma_database_list where name = 'main'`);
  if (!rows[0]?.file) throw new Error('not a file database');
  return rows[0].file;
}

/**
 * Another connection (as another process would) takes the write lock with BEGIN IMMEDIATE and
 * holds it until `release()`, or until `ms` have passed if given.
 */
export async function holdWriteLock(db: Db, ms?: number): Promise<{ readonly released: boolean; release: () => Promise<void> }> {
  const other = createClient({ url: `file:${await databaseFile(db)}` });
  const tx = await other.transaction('write');
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await tx.rollback();
    other.close();
  };
  if (ms !== undefined) setTimeout(() => void release(), ms);
  return {
    get released() {
      return released;
    },
    release,
  };
}

/**
 * The same database as refusing writes with SQLITE_READONLY, as a read-only file does (tests
 * run as root, where chmod does not stop writes): one connection with PRAGMA query_only.
 */
export async function readOnlyDb(db: Db): Promise<{ db: Db; client: Client }> {
  const client = createClient({ url: `file:${await databaseFile(db)}`, concurrency: 1 });
  await client.execute('PRAGMA query_only = 1');
  return { db: createDb(client), client };
}
