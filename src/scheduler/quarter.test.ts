/**
 * A whole quarter (July–September 2026) of the demo's ledgers through the real scheduler with
 * every job (ledger periods, reminders, summaries), ticked through each day with a fake clock:
 * new entries each month, reminders only on working days (中秋 on 25 September is a holiday),
 * none to those who submitted, heads and then leaders when an entry stays late, exactly once
 * with duplicate ticks and a restart, and the 月小结 on the first working day of each month.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { and, eq, like } from 'drizzle-orm';
import { ledgerDefinitions, ledgerEntries, outbox, units } from '../../db/schema';
import { createHarness } from '../test/harness';
import { buildDeps, silentLogger } from '../deps';
import { createCalendar } from '../domain/calendar';
import { shanghaiDate } from '../domain/time';
import { createScheduler } from './tick';
import { defaultJobs } from './jobs';

type H = Awaited<ReturnType<typeof createHarness>>;
const at = (s: string) => Date.parse(`${s}+08:00`);
const DAY = 24 * 3600_000;

describe('a quarter of ledgers, tick by tick', () => {
  let h: H;
  beforeEach(async () => {
    h = await createHarness({ now: at('2026-07-01T08:00:00') });
  });
  afterEach(async () => h.close());

  it('creates each month\'s entries, reminds on working days only, escalates, stops when submitted, and sends each summary once', async () => {
    const calendar = createCalendar();
    const deps = () => buildDeps(h.db, { clock: h.now, log: silentLogger });
    let scheduler = createScheduler(deps(), defaultJobs(calendar));
    const cdcFiller = (await h.personByMobile('13800000001')).id;
    const cdcHead = (await h.personByMobile('13800000002')).id;
    const libFiller = (await h.personByMobile('13800000003')).id;
    const leader = (await h.personByMobile('13800000014')).id;
    const [hazard] = await h.db.select({ id: ledgerDefinitions.id }).from(ledgerDefinitions).where(eq(ledgerDefinitions.code, 'safety-hazard-monthly-report'));
    const [library] = await h.db.select({ id: units.id }).from(units).where(eq(units.code, 'HA-LIB'));

    for (let day = at('2026-07-01T00:00:00'); day <= at('2026-09-30T00:00:00'); day += DAY) {
      for (const time of ['00:30', '09:30', '09:30', '15:00']) {
        const now = Date.parse(`${shanghaiDate(day)}T${time}:00+08:00`);
        h.advance(now - h.now());
        await scheduler.tick(now);
      }
      // A restart on 1 September.
      if (shanghaiDate(day) === '2026-09-01') scheduler = createScheduler(deps(), defaultJobs(calendar));
      // The library submits each 隐患 report on the 20th.
      if (shanghaiDate(day).endsWith('-20')) {
        await h.db.update(ledgerEntries).set({ status: 'submitted', submittedAt: h.now() }).where(and(eq(ledgerEntries.unitId, library!.id), eq(ledgerEntries.definitionId, hazard!.id), eq(ledgerEntries.period, shanghaiDate(day).slice(0, 7))));
      }
    }

    // One 隐患 entry per unit and month, created by the ledger job.
    const entries = await h.db.select({ id: ledgerEntries.id, unitId: ledgerEntries.unitId, period: ledgerEntries.period }).from(ledgerEntries).where(eq(ledgerEntries.definitionId, hazard!.id));
    expect(new Set(entries.map((e) => e.period))).toEqual(new Set(['2026-07', '2026-08', '2026-09']));
    expect(entries).toHaveLength(6 * 3);
    const entryOf = (unitId: number, period: string) => entries.find((e) => e.unitId === unitId && e.period === period)!.id;

    const reminders = await h.db.select({ key: outbox.dedupeKey, personId: outbox.personId, createdAt: outbox.createdAt }).from(outbox).where(like(outbox.dedupeKey, 'remind:%'));
    // Only on working days.
    for (const r of reminders) expect(calendar.isWorkday(shanghaiDate(r.createdAt)), r.key).toBe(true);
    const about = (personId: number, entryId: number) => reminders.filter((r) => r.personId === personId && r.key.includes(`:ledger:${entryId}:`)).map((r) => `${shanghaiDate(r.createdAt)} ${r.key.split(':')[1]}`).sort();

    const [cdc] = await h.db.select({ id: units.id }).from(units).where(eq(units.code, 'HA-CDC'));
    // July: due Saturday 25th → Monday 27th. 3 and 1 working days before, the day, then every
    // working day while the entry is open (until August's period ends).
    const july = about(cdcFiller, entryOf(cdc!.id, '2026-07'));
    expect(july.slice(0, 4)).toEqual(['2026-07-22 before', '2026-07-24 before', '2026-07-27 due', '2026-07-28 overdue']);
    expect(july.at(-1)).toBe('2026-08-31 overdue');
    // The head from the 3rd overdue working day (30 July).
    expect(about(cdcHead, entryOf(cdc!.id, '2026-07'))[0]).toBe('2026-07-30 overdue');
    // September: due Friday 25th is 中秋节 → Monday 28th; 3 working days before is the 22nd
    // (23rd, 24th, 28th follow it), 1 working day before is Thursday 24th.
    expect(about(cdcFiller, entryOf(cdc!.id, '2026-09')).slice(0, 3)).toEqual(['2026-09-22 before', '2026-09-24 before', '2026-09-28 due']);
    // The library submits on the 20th (after that day's ticks): reminded up to then, never after.
    for (const period of ['2026-07', '2026-08', '2026-09']) {
      for (const line of about(libFiller, entryOf(library!.id, period))) expect(line.slice(0, 10) <= `${period}-20`, line).toBe(true);
    }
    // The leader's digests: the first on 13 July, the 5th overdue working day of June's 登记管理
    // entries (due Sunday 5 July → Monday 6th); July's 隐患 reports join on 3 August, their 5th.
    const digests = await h.db.select({ key: outbox.dedupeKey, createdAt: outbox.createdAt, payload: outbox.payload }).from(outbox).where(and(eq(outbox.personId, leader), like(outbox.dedupeKey, 'remind:leader-digest:%')));
    const digestDays = digests.map((d) => shanghaiDate(d.createdAt)).sort();
    expect(digestDays[0]).toBe('2026-07-13');
    expect(new Set(digestDays).size).toBe(digestDays.length);
    const listsJulyHazard = (day: string) => JSON.stringify(digests.find((d) => shanghaiDate(d.createdAt) === day)?.payload ?? '').includes('2026年7月 月度隐患排查治理情况报告');
    expect(listsJulyHazard('2026-07-31')).toBe(false);
    expect(listsJulyHazard('2026-08-03')).toBe(true);

    // Summaries: July's on Monday 3 August (the 1st is a Saturday), August's on 1 September, to
    // the evaluator and the leader, once each.
    const summaries = await h.db.select({ key: outbox.dedupeKey, createdAt: outbox.createdAt }).from(outbox).where(like(outbox.dedupeKey, 'summary:%'));
    const sentOn = (id: string) => [...new Set(summaries.filter((s) => s.key.startsWith(`summary:${id}:`)).map((s) => shanghaiDate(s.createdAt)))];
    expect(sentOn('2026-07')).toEqual(['2026-08-03']);
    expect(sentOn('2026-08')).toEqual(['2026-09-01']);
    expect(summaries.filter((s) => s.key.startsWith('summary:2026-07:'))).toHaveLength(2);
  }, 120_000);
});
