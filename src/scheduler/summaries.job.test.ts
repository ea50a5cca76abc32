import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { and, eq, like } from 'drizzle-orm';
import { outbox, selfEvaluations, units } from '../../db/schema';
import { actionOf, createHarness } from '../test/harness';
import { buildDeps, silentLogger } from '../deps';
import { createCalendar } from '../domain/calendar';
import type { OutboxPayload } from '../store/outbox.repo';
import { createScheduler } from './tick';
import { periodBefore, stageSections, summaryJobs } from './summaries.job';

type H = Awaited<ReturnType<typeof createHarness>>;
const at = (s: string) => Date.parse(`${s}+08:00`);

describe('periodBefore', () => {
  it.each([
    ['month', '2026-10', { id: '2026-09', label: '2026年9月', from: '2026-09-01', to: '2026-09-30' }],
    ['month', '2027-01', { id: '2026-12', label: '2026年12月', from: '2026-12-01', to: '2026-12-31' }],
    ['month', '2028-03', { id: '2028-02', label: '2028年2月', from: '2028-02-01', to: '2028-02-29' }],
    ['quarter', '2026-Q4', { id: '2026-Q3', label: '2026年第三季度', from: '2026-07-01', to: '2026-09-30' }],
    ['quarter', '2027-Q1', { id: '2026-Q4', label: '2026年第四季度', from: '2026-10-01', to: '2026-12-31' }],
  ] as const)('%s before %s', (kind, slot, expected) => {
    expect(periodBefore(kind, slot)).toEqual({ kind, ...expected });
  });
});

describe('月小结 and 季大结', () => {
  let h: H;
  beforeEach(async () => {
    h = await createHarness({ now: at('2026-09-14T08:00:00') });
  });
  afterEach(async () => h.close());

  it('go to evaluators and leaders on the first working day after the period, once, with the late units', async () => {
    const evaluator = (await h.personByMobile('13800000013')).id;
    const leader = (await h.personByMobile('13800000014')).id;
    const consoleCard = [...(await h.messages(evaluator))].reverse().find((m) => m.subject.includes('console'))!.card;
    await h.act(evaluator, actionOf(consoleCard, 'campaign.open-self-eval'), { due: '2026-09-30' });
    const [library] = await h.db.select({ id: units.id }).from(units).where(eq(units.code, 'HA-LIB'));
    await h.db.update(selfEvaluations).set({ status: 'submitted' }).where(eq(selfEvaluations.unitId, library!.id));

    const calendar = createCalendar();
    const scheduler = createScheduler(buildDeps(h.db, { clock: h.now, log: silentLogger }), summaryJobs(calendar, [stageSections]));
    const summaries = () => h.db.select({ key: outbox.dedupeKey, personId: outbox.personId, payload: outbox.payload }).from(outbox).where(like(outbox.dedupeKey, 'summary:%'));
    // The first run on 14 September sends August's and Q2's summaries, if anything fell due: nothing did.
    expect(await scheduler.tick(at('2026-09-14T09:00:00'))).toMatchObject([{ job: 'summary-month', status: 'skipped' }, { job: 'summary-quarter', status: 'skipped' }]);
    // 1 October is a holiday (国庆 1–7): the first working day of October is the 8th.
    await scheduler.tick(at('2026-10-01T09:00:00'));
    await scheduler.tick(at('2026-10-07T18:00:00'));
    expect(await summaries()).toHaveLength(0);
    await scheduler.tick(at('2026-10-08T09:00:00'));
    await scheduler.tick(at('2026-10-08T10:00:00'));
    const sent = await summaries();
    expect(sent.map((s) => s.key).sort()).toEqual([`summary:2026-09:${evaluator}`, `summary:2026-09:${leader}`, `summary:2026-Q3:${evaluator}`, `summary:2026-Q3:${leader}`].sort());
    const card = (sent.find((s) => s.key === `summary:2026-09:${leader}`)!.payload as OutboxPayload).card;
    expect(card.header.title).toBe('月小结 · 2026年9月');
    const text = JSON.stringify(card);
    expect(text).toContain('共有 **6** 项填报任务，已完成 **1** 项（16.7%），逾期 **5** 项');
    expect(text).toContain('县疾病预防控制中心（公益一类）');
    expect(text).not.toContain('县图书馆（');
    expect(card.elements.some((e) => e.type === 'chart')).toBe(true);
    const quarter = (sent.find((s) => s.key === `summary:2026-Q3:${evaluator}`)!.payload as OutboxPayload).card;
    expect(quarter.header.title).toBe('季大结 · 2026年第三季度');
    // Nothing twice, also from a second scheduler (another instance).
    await createScheduler(buildDeps(h.db, { clock: h.now, log: silentLogger }), summaryJobs(calendar, [stageSections])).tick(at('2026-10-09T09:00:00'));
    expect(await h.db.select().from(outbox).where(and(like(outbox.dedupeKey, 'summary:%')))).toHaveLength(4);
  });
});
