import { drizzle } from 'drizzle-orm/libsql';
import type { Client } from '@libsql/client';
import * as schema from './schema';

/** Wraps a libSQL client (file, HTTP or in-memory: the runtime picks the driver). */
export function createDb(client: Client) {
  return drizzle(client, { schema });
}

export type Db = ReturnType<typeof createDb>;
export { schema };
