import { asc, eq, and } from 'drizzle-orm';
import { auditLog } from '../../db/schema';
import type { Executor } from './db';

export interface AuditEntry {
  at: number;
  actorId: number | null;
  action: string;
  subjectType: string;
  subjectId: string | number;
  before?: unknown;
  after?: unknown;
}

export async function appendAudit(db: Executor, e: AuditEntry): Promise<void> {
  await db.insert(auditLog).values({
    at: e.at,
    actorId: e.actorId,
    action: e.action,
    subjectType: e.subjectType,
    subjectId: String(e.subjectId),
    before: e.before ?? null,
    after: e.after ?? null,
  });
}

export async function auditTrail(db: Executor, subjectType: string, subjectId: string | number) {
  return db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.subjectType, subjectType), eq(auditLog.subjectId, String(subjectId))))
    .orderBy(asc(auditLog.id));
}
