/**
 * A month of the 自评 stage simulated hour by hour with a fake clock, through the real scheduler,
 * database and outbox: who is reminded when, around the 2026 National Day holiday and its 调休
 * workdays; nobody who is done; heads and then leaders when it stays late; exactly once with
 * duplicate ticks and a restart in between.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { and, eq, like } from 'drizzle-orm';
import { campaigns, outbox, selfEvaluations, units } from '../../db/schema';
import { actionOf, createHarness } from '../test/harness';
import { buildDeps, silentLogger } from '../deps';
import { createCalendar } from '../domain/calendar';
import { shanghaiDate } from '../domain/time';
import type { OutboxPayload } from '../store/outbox.repo';
import { createScheduler } from './tick';
import { reminderJob, stageSource } from './reminders.job';

type H = Awaited<ReturnType<typeof createHarness>>;
const at = (s: string) => Date.parse(`${s}+08:00`);
const HOUR = 3600_000;

describe('reminders over a month, tick by tick', () => {
  let h: H;
  let ids: Record<'cdcFiller' | 'cdcHead' | 'libFiller' | 'evaluator' | 'leader', number>;
  beforeEach(async () => {
    h = await createHarness({ now: at('2026-09-14T08:00:00') });
    ids = {
      cdcFiller: (await h.personByMobile('13800000001')).id,
      cdcHead: (await h.personByMobile('13800000002')).id,
      libFiller: (await h.personByMobile('13800000003')).id,
      evaluator: (await h.personByMobile('13800000013')).id,
      leader: (await h.personByMobile('13800000014')).id,
    };
  });
  afterEach(async () => h.close());

  /** Reminder rows in the outbox: "date kind" per person, from the dedupe keys. */
  async function remindersOf(personId: number): Promise<string[]> {
    const rows = await h.db.select({ key: outbox.dedupeKey, createdAt: outbox.createdAt }).from(outbox).where(and(eq(outbox.personId, personId), like(outbox.dedupeKey, 'remind:%')));
    return rows.map((r) => `${shanghaiDate(r.createdAt)} ${r.key.split(':')[1]}`).sort();
  }

  it('reminds on working days before, on and after the deadline, escalates, and never twice', async () => {
    const consoleCard = [...(await h.messages(ids.evaluator))].reverse().find((m) => m.subject.includes('console'))!.card;
    // Due Wednesday 30 September, the day before the National Day holiday (10-01..10-07).
    const opened = await h.act(ids.evaluator, actionOf(consoleCard, 'campaign.open-self-eval'), { due: '2026-09-30' });
    expect(opened.toast?.type).toBe('success');

    const calendar = createCalendar();
    const deps = () => buildDeps(h.db, { clock: h.now, log: silentLogger });
    let scheduler = createScheduler(deps(), [reminderJob(calendar, [stageSource])]);
    const [library] = await h.db.select({ id: units.id }).from(units).where(eq(units.code, 'HA-LIB'));
    const end = at('2026-10-20T23:00:00');
    while (h.now() < end) {
      h.advance(HOUR);
      const now = h.now();
      // Two ticks each hour, as two instances would.
      await Promise.all([scheduler.tick(now), scheduler.tick(now)]);
      // A restart on 8 October in the morning: a new scheduler on the same database.
      if (shanghaiDate(now) === '2026-10-08' && now === at('2026-10-08T10:00:00')) scheduler = createScheduler(deps(), [reminderJob(calendar, [stageSource])]);
      // The library submits on Monday 28 September: no reminder after that.
      if (now === at('2026-09-28T15:00:00')) await h.db.update(selfEvaluations).set({ status: 'submitted' }).where(eq(selfEvaluations.unitId, library!.id));
    }

    // The CDC filler never submits: 3 and 1 working days before (Thu 24th: Fri 25th is 中秋节
    // and the weekend does not count; Tue 29th), on the day (urgent), then every working day
    // after it, skipping the National Day holiday and including the 调休 Saturday 10 October.
    const afterDue = ['2026-10-08', '2026-10-09', '2026-10-10', '2026-10-12', '2026-10-13', '2026-10-14', '2026-10-15', '2026-10-16', '2026-10-19', '2026-10-20'];
    expect(await remindersOf(ids.cdcFiller)).toEqual(['2026-09-24 before', '2026-09-29 before', '2026-09-30 due', ...afterDue.map((d) => `${d} overdue`)]);
    // The head from the 3rd overdue working day on (10-08 is the 1st, 10-10 the 3rd).
    expect(await remindersOf(ids.cdcHead)).toEqual(afterDue.slice(2).map((d) => `${d} overdue`));
    // The library filler only before submitting.
    expect(await remindersOf(ids.libFiller)).toEqual(['2026-09-24 before']);
    // The leader: one digest a day from the 5th overdue working day (10-13).
    expect(await remindersOf(ids.leader)).toEqual(afterDue.slice(4).map((d) => `${d} leader-digest`));
    // The evaluator is not reminded.
    expect(await remindersOf(ids.evaluator)).toEqual([]);

    // The due-day reminder is urgent (加急), the others are not.
    const rows = await h.db.select({ key: outbox.dedupeKey, payload: outbox.payload }).from(outbox).where(eq(outbox.personId, ids.cdcFiller));
    const urgent = rows.filter((r) => (r.payload as OutboxPayload).urgent === 'app').map((r) => r.key.split(':')[1]);
    expect(urgent).toEqual(['due']);
    // A reminder's card opens the 自评 form.
    const due = rows.find((r) => r.key.startsWith('remind:due:'))!;
    const card = (due.payload as OutboxPayload).card;
    expect(card.header.title).toContain('单位自评');
    expect(actionOf(card, 'self-eval.open').value).toMatchObject({ evaluationId: expect.any(Number) });

    // The leader's digest lists the five late units (the library submitted).
    const digest = await h.db.select({ payload: outbox.payload }).from(outbox).where(and(eq(outbox.personId, ids.leader), like(outbox.dedupeKey, 'remind:leader-digest:%2026-10-13')));
    const table = (digest[0]!.payload as OutboxPayload).card.elements.find((e) => e.type === 'table');
    expect(table && table.type === 'table' ? table.rows.length : 0).toBe(5);
  }, 60_000);

  it('a campaign\'s policy override changes the rhythm; a closed campaign is not reminded', async () => {
    const consoleCard = [...(await h.messages(ids.evaluator))].reverse().find((m) => m.subject.includes('console'))!.card;
    await h.act(ids.evaluator, actionOf(consoleCard, 'campaign.open-self-eval'), { due: '2026-09-30' });
    const [c] = await h.db.select({ id: campaigns.id }).from(campaigns);
    await h.db.update(campaigns).set({ reminderPolicy: { before: [5], onDueDay: false } }).where(eq(campaigns.id, c!.id));
    const scheduler = createScheduler(buildDeps(h.db, { clock: h.now, log: silentLogger }), [reminderJob(createCalendar(), [stageSource])]);
    for (const day of ['2026-09-22', '2026-09-23', '2026-09-29', '2026-09-30']) await scheduler.tick(at(`${day}T10:00:00`));
    // 5 working days before 30 Sep is Tue 22 Sep (Fri 25th is 中秋节); no due-day reminder.
    expect(await remindersOf(ids.cdcFiller)).toEqual(['2026-09-22 before']);
    // Closed: nothing more, even when overdue.
    await h.db.update(campaigns).set({ status: 'closed' }).where(eq(campaigns.id, c!.id));
    await scheduler.tick(at('2026-10-08T10:00:00'));
    expect(await remindersOf(ids.cdcFiller)).toEqual(['2026-09-22 before']);
  });
});
