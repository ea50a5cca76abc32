import { asc, eq, and } from 'drizzle-orm';
import { auditLog } from '../../db/schema';
import type { Executor } from './db';
import type { Platform } from './org.repo';

/**
 * Where an audited action came from: the chat platform it was taken on (the inbound event's),
 * `cli` for an operator's command (and the demo seeded at start-up), `scheduler` for a job.
 */
export type AuditSource = Platform | 'cli' | 'scheduler';

export interface AuditEntry {
  at: number;
  actorId: number | null;
  /** Required, so every writer says where the action came from (an appeal asks "who, and how"). */
  platform: AuditSource;
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
    platform: e.platform,
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
