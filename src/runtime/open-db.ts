import { createClient } from '@libsql/client';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDb, type Db } from '../../db/client';
import { applyMigrations } from '../../db/migrate';
import type { Config } from '../config/env';

/** Node: opens the configured libSQL database (creating a file's folder) and migrates it. */
export async function openDatabase(config: Pick<Config, 'DATABASE_URL' | 'DATABASE_AUTH_TOKEN'>, opts: { migrate?: boolean } = {}): Promise<{ db: Db; close: () => void }> {
  const url = config.DATABASE_URL;
  if (url.startsWith('file:')) {
    const path = url.startsWith('file://') ? fileURLToPath(url) : url.slice('file:'.length);
    mkdirSync(dirname(path), { recursive: true });
  }
  const client = createClient({ url, ...(config.DATABASE_AUTH_TOKEN ? { authToken: config.DATABASE_AUTH_TOKEN } : {}) });
  if (url.startsWith('file:')) {
    // Wait rather than fail when the CLI and the server touch the file at once.
    await client.execute('PRAGMA busy_timeout = 5000');
    await client.execute('PRAGMA foreign_keys = ON');
  }
  const db = createDb(client);
  if (opts.migrate !== false) await applyMigrations(db);
  return { db, close: () => client.close() };
}
