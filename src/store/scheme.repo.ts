import { and, eq } from 'drizzle-orm';
import { indicators, schemes } from '../../db/schema';
import { flattenIndicators, type SchemeFile } from '../domain/scheme';
import type { Executor } from './db';

/** Stores a validated scheme and its indicator rows; a scheme already stored (same code and version) is reused. */
export async function installScheme(db: Executor, scheme: SchemeFile, now: number): Promise<{ id: number; created: boolean }> {
  const existing = await db.select({ id: schemes.id }).from(schemes).where(and(eq(schemes.code, scheme.code), eq(schemes.version, scheme.version))).limit(1);
  if (existing[0]) return { id: existing[0].id, created: false };
  const [row] = await db
    .insert(schemes)
    .values({ code: scheme.code, version: scheme.version, name: scheme.name, description: scheme.description, definition: scheme, createdAt: now })
    .returning({ id: schemes.id });
  if (!row) throw new Error('scheme not stored');
  await db.insert(indicators).values(flattenIndicators(scheme).map((r) => ({ ...r, schemeId: row.id })));
  return { id: row.id, created: true };
}
