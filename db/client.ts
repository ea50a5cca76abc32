import { drizzle } from 'drizzle-orm/libsql/web';
import type { Client } from '@libsql/client';
import * as schema from './schema';

/**
 * Wraps a libSQL client (file, HTTP or in-memory: the runtime picks the driver). The web
 * entry of drizzle's libSQL driver is used because it pulls in only the HTTP client, so the
 * worker bundle never reaches the native Node client; given a client, it just wraps it.
 */
export function createDb(client: Client) {
  return drizzle(client, { schema });
}

export type Db = ReturnType<typeof createDb>;
export { schema };
