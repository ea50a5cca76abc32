import { createClient, type Client } from '@libsql/client';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDb, type Db } from '../../db/client';
import { applyMigrations } from '../../db/migrate';
import type { Config } from '../config/env';
import { exclusive } from '../store/serialize';
import { createFileClient } from './libsql-file';

/** Node: opens the configured libSQL database (creating a file's folder) and migrates it. */
export async function openDatabase(
  config: Pick<Config, 'DATABASE_URL' | 'DATABASE_AUTH_TOKEN'>,
  opts: { migrate?: boolean; /** Wraps the client drizzle uses (tests count its statements). */ wrapClient?: (client: Client) => Client } = {},
): Promise<{ db: Db; client: Client; close: () => void }> {
  const url = config.DATABASE_URL;
  const path = url.startsWith('file://') ? fileURLToPath(url) : url.startsWith('file:') ? url.slice('file:'.length) : null;
  if (path !== null) mkdirSync(dirname(path), { recursive: true });
  // The busy timeout applies to every pooled connection. The driver waits synchronously,
  // blocking the event loop, so it is short: exclusive() in src/store/serialize.ts retries a
  // write that meets another process's lock after an asynchronous pause instead.
  // A plain file gets the client that keeps its statements prepared (libsql-file.ts); an
  // in-memory database or a URL with options, @libsql/client.
  const client = path !== null && !path.includes('?') && !path.includes(':memory:')
    ? createFileClient(path, { timeout: 50 })
    : createClient({ url, timeout: 50, ...(config.DATABASE_AUTH_TOKEN ? { authToken: config.DATABASE_AUTH_TOKEN } : {}) });
  // WAL lets readers work beside the writer and makes each commit one append, not a
  // rewrite: the server writes on every click and every delivered card.
  if (url.startsWith('file:')) await client.execute('PRAGMA journal_mode = WAL');
  const db = createDb(opts.wrapClient ? opts.wrapClient(client) : client);
  if (opts.migrate !== false) await exclusive(db, () => applyMigrations(db));
  return { db, client, close: () => client.close() };
}
