/**
 * The scheduler core: `tick(now)` runs every job whose slot is due, once per slot. node-cron
 * calls it on Node, the Workers `scheduled()` handler at the edge. Each slot is claimed in the
 * database before it runs (src/store/job-runs.repo.ts), so two ticks, two instances or a
 * restart never run it twice; slots missed while the service was down are caught up (the
 * latest, and up to `catchUp − 1` before it). What a job sends goes through the outbox with
 * de-duplication keys, so even a run taken over after a crash never sends twice.
 */
import type { Deps } from '../deps';
import { dueSlots, type Schedule, type Slot } from '../domain/schedule';
import { claimSlot, finishSlot, lastFinishedSlot } from '../store/job-runs.repo';
import { exclusive } from '../store/serialize';

export interface JobContext {
  readonly deps: Deps;
  readonly slot: Slot;
  /** The tick's time (not the slot's start: a caught-up slot runs late). */
  readonly now: number;
}

export interface Job {
  readonly name: string;
  readonly schedule: Schedule;
  /** How many recent slots a tick may run when it finds several missed (default 1: the latest). */
  readonly catchUp?: number;
  /** A run still "running" after this long is taken over (default 10 minutes). */
  readonly leaseMs?: number;
  /** Does the work; returns a short summary (counts) kept with the run, or `{ skipped: reason }`. */
  run(ctx: JobContext): Promise<Record<string, unknown>>;
}

export interface TickReport {
  readonly job: string;
  readonly slot: string;
  readonly status: 'done' | 'failed' | 'skipped';
  readonly result?: Record<string, unknown>;
  readonly error?: string;
}

export function createScheduler(deps: Deps, jobs: readonly Job[]) {
  const names = new Set<string>();
  for (const j of jobs) {
    if (names.has(j.name)) throw new Error(`two jobs are named ${j.name}`);
    names.add(j.name);
  }
  let running: Promise<TickReport[]> | null = null;

  const runJob = async (job: Job, now: number): Promise<TickReport[]> => {
    const reports: TickReport[] = [];
    const last = await lastFinishedSlot(deps.db, job.name);
    for (const slot of dueSlots(job.schedule, now, last, job.catchUp ?? 1)) {
      const claimed = await exclusive(deps.db, () => claimSlot(deps.db, job.name, slot.id, now, job.leaseMs ?? 10 * 60_000));
      if (!claimed) continue;
      try {
        const result = await job.run({ deps, slot, now });
        const status = 'skipped' in result ? 'skipped' : 'done';
        await exclusive(deps.db, () => finishSlot(deps.db, job.name, slot.id, { status, result }, deps.clock()));
        reports.push({ job: job.name, slot: slot.id, status, result });
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e);
        deps.log.error('scheduled job failed', { job: job.name, slot: slot.id, error });
        await exclusive(deps.db, () => finishSlot(deps.db, job.name, slot.id, { status: 'failed', error }, deps.clock()));
        reports.push({ job: job.name, slot: slot.id, status: 'failed', error });
      }
    }
    return reports;
  };

  return {
    /**
     * Runs what is due at `now`, job after job. A tick that comes while another runs in this
     * process waits for it and then runs (finding the slots already taken).
     */
    async tick(now: number = deps.clock()): Promise<TickReport[]> {
      while (running) await running.catch(() => undefined);
      const work = (async () => {
        const out: TickReport[] = [];
        for (const job of jobs) out.push(...(await runJob(job, now)));
        return out;
      })();
      running = work;
      try {
        return await work;
      } finally {
        running = null;
      }
    },
  };
}
