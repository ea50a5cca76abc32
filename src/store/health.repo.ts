import { sql } from 'drizzle-orm';
import type { Executor } from './db';

/** A real round trip to the database, for /healthz. */
export async function checkDatabase(db: Executor): Promise<boolean> {
  const rows = await db.all<{ ok: number }>(sql`select 1 as ok`);
  return rows[0]?.ok === 1;
}
