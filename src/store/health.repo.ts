import { sql } from 'drizzle-orm';
import { inboundEvents } from '../../db/schema';
import type { Db } from './db';
import { exclusive } from './serialize';

/**
 * Real round trips to the database, for /healthz: a read, and a write that takes the write lock
 * and changes nothing (no row, no WAL frame), so a database that refuses writes (a read-only
 * file, a read-only token) is reported, not only one that cannot be reached.
 */
export async function checkDatabase(db: Db): Promise<boolean> {
  const rows = await db.all<{ ok: number }>(sql`select 1 as ok`);
  if (rows[0]?.ok !== 1) return false;
  await exclusive(db, () => db.run(sql`update ${inboundEvents} set ${sql.identifier(inboundEvents.platform.name)} = ${inboundEvents.platform} where 0`));
  return true;
}
