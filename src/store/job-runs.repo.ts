import { and, eq, inArray, lt, or, sql } from 'drizzle-orm';
import { jobRuns } from '../../db/schema';
import type { Executor } from './db';

/** The newest slot of a job that finished (done or skipped); failed and running ones are not "run". */
export async function lastFinishedSlot(db: Executor, job: string): Promise<string | null> {
  const rows = await db
    .select({ slot: sql<string | null>`max(${jobRuns.slot})` })
    .from(jobRuns)
    .where(and(eq(jobRuns.job, job), inArray(jobRuns.status, ['done', 'skipped'])));
  return rows[0]?.slot ?? null;
}

/**
 * Claims a slot: true when this caller is to run it. A new slot is claimed by inserting its row
 * (the primary key makes the claim atomic across ticks and instances); a failed run, or a run
 * still "running" after its lease (the process died), is taken over; anything else is not.
 */
export async function claimSlot(db: Executor, job: string, slot: string, now: number, leaseMs: number): Promise<boolean> {
  const rows = await db
    .insert(jobRuns)
    .values({ job, slot, status: 'running', startedAt: now })
    .onConflictDoUpdate({
      target: [jobRuns.job, jobRuns.slot],
      set: { status: 'running', startedAt: now, finishedAt: null, error: null },
      setWhere: or(eq(jobRuns.status, 'failed'), and(eq(jobRuns.status, 'running'), lt(jobRuns.startedAt, now - leaseMs))),
    })
    .returning({ job: jobRuns.job });
  return rows.length > 0;
}

export async function finishSlot(db: Executor, job: string, slot: string, outcome: { status: 'done' | 'failed' | 'skipped'; result?: unknown; error?: string }, now: number): Promise<void> {
  await db
    .update(jobRuns)
    .set({ status: outcome.status, finishedAt: now, result: outcome.result ?? null, error: outcome.error ?? null })
    .where(and(eq(jobRuns.job, job), eq(jobRuns.slot, slot)));
}

export async function jobRunsOf(db: Executor, job: string) {
  return db.select().from(jobRuns).where(eq(jobRuns.job, job)).orderBy(jobRuns.slot);
}
