import { createClient, type Client } from '@libsql/client';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDb, type Db } from '../../db/client';
import { applyMigrations } from '../../db/migrate';
import type { Config } from '../config/env';
import { exclusive } from '../store/serialize';

/** Node: opens the configured libSQL database (creating a file's folder) and migrates it. */
export async function openDatabase(config: Pick<Config, 'DATABASE_URL' | 'DATABASE_AUTH_TOKEN'>, opts: { migrate?: boolean } = {}): Promise<{ db: Db; client: Client; close: () => void }> {
  const url = config.DATABASE_URL;
  if (url.startsWith('file:')) {
    const path = url.startsWith('file://') ? fileURLToPath(url) : url.slice('file:'.length);
    mkdirSync(dirname(path), { recursive: true });
  }
  // The busy timeout applies to every pooled connection. The driver waits synchronously,
  // blocking the event loop, so it is short: exclusive() in src/store/serialize.ts retries a
  // write that meets another process's lock after an asynchronous pause instead.
  const client = createClient({ url, timeout: 50, ...(config.DATABASE_AUTH_TOKEN ? { authToken: config.DATABASE_AUTH_TOKEN } : {}) });
  // WAL lets readers work beside the writer and makes each commit one append, not a
  // rewrite: the server writes on every click and every delivered card.
  if (url.startsWith('file:')) await client.execute('PRAGMA journal_mode = WAL');
  const db = createDb(client);
  if (opts.migrate !== false) await exclusive(db, () => applyMigrations(db));
  return { db, client, close: () => client.close() };
}
