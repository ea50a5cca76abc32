import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { and, eq, like } from 'drizzle-orm';
import { campaigns, ledgerAssignments, ledgerDefinitions, outbox } from '../../db/schema';
import { createHarness } from '../test/harness';
import { buildDeps, silentLogger } from '../deps';
import { createCalendar } from '../domain/calendar';
import { shanghaiDate } from '../domain/time';
import { createScheduler } from './tick';
import { reminderJob } from './reminders.job';
import { ledgerEntriesJob, ledgerSource } from './ledgers.job';

type H = Awaited<ReturnType<typeof createHarness>>;
const at = (s: string) => Date.parse(`${s}+08:00`);

describe('ledger reminder policy', () => {
  let h: H;
  beforeEach(async () => {
    h = await createHarness({ now: at('2026-07-01T08:00:00') });
  });
  afterEach(async () => h.close());

  async function remindedDays(personId: number) {
    const rows = await h.db.select({ key: outbox.dedupeKey, createdAt: outbox.createdAt }).from(outbox).where(and(eq(outbox.personId, personId), like(outbox.dedupeKey, 'remind:before:%')));
    return rows.map((r) => shanghaiDate(r.createdAt)).sort();
  }

  it('uses the ledger\'s own policy, and a campaign\'s overrides on top of it', async () => {
    const filler = (await h.personByMobile('13800000001')).id;
    const [hazard] = await h.db.select({ id: ledgerDefinitions.id }).from(ledgerDefinitions).where(eq(ledgerDefinitions.code, 'safety-hazard-monthly-report'));
    // Only the 隐患 report is reminded here: the 登记管理 ledger is set to remind never before.
    await h.db.update(ledgerDefinitions).set({ reminderPolicy: { before: [], onDueDay: false, overdueEvery: 0, escalateToHeadAfter: null, escalateToLeaderAfter: null } });
    await h.db.update(ledgerDefinitions).set({ reminderPolicy: { before: [2] } }).where(eq(ledgerDefinitions.id, hazard!.id));
    const scheduler = createScheduler(buildDeps(h.db, { clock: h.now, log: silentLogger }), [ledgerEntriesJob, reminderJob(createCalendar(), [ledgerSource])]);
    // July's report is due Saturday 25th → Monday 27th; 2 working days before is Thursday 23rd.
    for (const d of ['2026-07-22', '2026-07-23', '2026-07-24']) await scheduler.tick(at(`${d}T09:30:00`));
    expect(await remindedDays(filler)).toEqual(['2026-07-23']);

    // The same ledger kept for a campaign whose policy says 4 working days before.
    const [c] = await h.db.select({ id: campaigns.id }).from(campaigns);
    await h.db.update(campaigns).set({ reminderPolicy: { before: [4] } }).where(eq(campaigns.id, c!.id));
    await h.db.update(ledgerAssignments).set({ campaignId: c!.id }).where(eq(ledgerAssignments.definitionId, hazard!.id));
    // August's is due Tuesday 25th; 4 working days before is Wednesday 19th.
    for (const d of ['2026-08-01', '2026-08-19', '2026-08-21']) await scheduler.tick(at(`${d}T09:30:00`));
    expect((await remindedDays(filler)).filter((d) => d.startsWith('2026-08'))).toEqual(['2026-08-19']);
  });
});
