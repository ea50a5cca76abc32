import { asc, eq, and, sql } from 'drizzle-orm';
import { auditLog } from '../../db/schema';
import { bind, runStatements, type Statement } from './batch';
import type { Executor } from './db';
import { prepared } from './prepared';
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
  await runStatements([auditStatement(db, e)]);
}

/** The insert of an audit entry, for a write batch (prepared once per database handle). */
export function auditStatement(db: Executor, e: AuditEntry): Statement {
  const insert = prepared(db, 'audit', (d) =>
    d.insert(auditLog).values({
      at: sql.placeholder('at'), actorId: sql.placeholder('actorId'), platform: sql.placeholder('platform'), action: sql.placeholder('action'),
      // Encoded here: a JSON column's encoder would store an absent value as the text 'null', not NULL.
      subjectType: sql.placeholder('subjectType'), subjectId: sql.placeholder('subjectId'), before: sql`${sql.placeholder('before')}`, after: sql`${sql.placeholder('after')}`,
    }).prepare(),
  );
  const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));
  return bind(insert, {
    at: e.at, actorId: e.actorId, platform: e.platform, action: e.action, subjectType: e.subjectType, subjectId: String(e.subjectId),
    before: json(e.before), after: json(e.after),
  });
}

export async function auditTrail(db: Executor, subjectType: string, subjectId: string | number) {
  return db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.subjectType, subjectType), eq(auditLog.subjectId, String(subjectId))))
    .orderBy(asc(auditLog.id));
}
