import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildDeps, silentLogger } from '../deps';
import { daily, hourly } from '../domain/schedule';
import { jobRunsOf } from '../store/job-runs.repo';
import { jobRuns } from '../../db/schema';
import { createHarness } from '../test/harness';
import { createScheduler, type Job } from './tick';

type H = Awaited<ReturnType<typeof createHarness>>;
const at = (s: string) => Date.parse(`${s}+08:00`);

describe('scheduler tick', () => {
  let h: H;
  let now: number;
  beforeEach(async () => {
    h = await createHarness();
    now = at('2026-11-30T09:30:00');
  });
  afterEach(async () => h.close());
  const deps = () => buildDeps(h.db, { clock: () => now, log: silentLogger });

  function counting(name: string, schedule = daily('09:00'), extra: Partial<Job> = {}) {
    const runs: string[] = [];
    const job: Job = { name, schedule, run: async ({ slot }) => { runs.push(slot.id); return { ran: slot.id }; }, ...extra };
    return { job, runs };
  }

  it('runs a due slot once, however many ticks and schedulers (instances) there are', async () => {
    const { job, runs } = counting('daily');
    const a = createScheduler(deps(), [job]);
    const b = createScheduler(deps(), [job]);
    const reports = await Promise.all([a.tick(now), b.tick(now), a.tick(now), b.tick(now + 1000)]);
    expect(runs).toEqual(['2026-11-30']);
    expect(reports.flat()).toEqual([{ job: 'daily', slot: '2026-11-30', status: 'done', result: { ran: '2026-11-30' } }]);
    // A restart: a new scheduler on the same database.
    await createScheduler(deps(), [job]).tick(now + 60_000);
    expect(runs).toEqual(['2026-11-30']);
    expect(await jobRunsOf(h.db, 'daily')).toMatchObject([{ slot: '2026-11-30', status: 'done', result: { ran: '2026-11-30' } }]);
  });

  it('catches up slots missed while the service was down, up to the job\'s bound', async () => {
    const { job, runs } = counting('caught', daily('09:00'), { catchUp: 3 });
    const s = createScheduler(deps(), [job]);
    await s.tick(at('2026-11-20T09:00:00'));
    expect(runs).toEqual(['2026-11-20']);
    // Down from the 21st to the 30th: the three latest missed slots run, oldest first.
    await s.tick(now);
    expect(runs).toEqual(['2026-11-20', '2026-11-28', '2026-11-29', '2026-11-30']);
    // Tick by tick afterwards: one new slot a day.
    await s.tick(at('2026-12-01T08:59:00'));
    await s.tick(at('2026-12-01T09:00:00'));
    expect(runs.slice(-1)).toEqual(['2026-12-01']);
    expect(runs).toHaveLength(5);
  });

  it('by default a tick after days down runs only the latest missed slot', async () => {
    const { job, runs } = counting('default-catch-up');
    const s = createScheduler(deps(), [job]);
    await s.tick(at('2026-11-20T09:00:00'));
    // Down from the 21st to the 30th: without a catchUp of its own the job runs once, for today.
    const reports = await s.tick(now);
    expect(runs).toEqual(['2026-11-20', '2026-11-30']);
    expect(reports.map((r) => r.slot)).toEqual(['2026-11-30']);
  });

  it('a failed run is recorded and retried at the next tick; other jobs still run', async () => {
    let fail = true;
    const flaky: Job = { name: 'flaky', schedule: hourly(), run: async () => { if (fail) throw new Error('数据库暂时不可用'); return { ok: 1 }; } };
    const { job: other, runs } = counting('other');
    const s = createScheduler(deps(), [flaky, other]);
    const first = await s.tick(now);
    expect(first).toEqual([
      { job: 'flaky', slot: '2026-11-30T09', status: 'failed', error: '数据库暂时不可用' },
      { job: 'other', slot: '2026-11-30', status: 'done', result: { ran: '2026-11-30' } },
    ]);
    expect(runs).toEqual(['2026-11-30']);
    fail = false;
    const second = await s.tick(now + 60_000);
    expect(second).toEqual([{ job: 'flaky', slot: '2026-11-30T09', status: 'done', result: { ok: 1 } }]);
  });

  it('a run left "running" by a crash is taken over only after its lease', async () => {
    const { job, runs } = counting('leased', daily('09:00'), { leaseMs: 5 * 60_000 });
    await h.db.insert(jobRuns).values({ job: 'leased', slot: '2026-11-30', status: 'running', startedAt: now - 60_000 });
    const s = createScheduler(deps(), [job]);
    await s.tick(now);
    expect(runs).toEqual([]);
    await s.tick(now + 5 * 60_000);
    expect(runs).toEqual(['2026-11-30']);
    expect((await jobRunsOf(h.db, 'leased'))[0]?.status).toBe('done');
  });

  it('a job may skip a slot with a reason, which counts as run', async () => {
    const s = createScheduler(deps(), [{ name: 'skipper', schedule: daily('09:00'), run: async () => ({ skipped: '今天不是工作日' }) }]);
    expect(await s.tick(now)).toEqual([{ job: 'skipper', slot: '2026-11-30', status: 'skipped', result: { skipped: '今天不是工作日' } }]);
    expect(await s.tick(now + 1000)).toEqual([]);
  });

  it('refuses two jobs with one name', () => {
    const { job } = counting('same');
    expect(() => createScheduler(deps(), [job, job])).toThrow(/two jobs are named same/);
  });
});
