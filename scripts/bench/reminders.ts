/**
 * reminders: 10,000 units, each with a filler mapped to Feishu and an overdue monthly 隐患 report.
 * One scheduler tick plans and enqueues every reminder (timed: plan_seconds); a second tick in the
 * same slot must add nothing; then the outbox is drained through the Feishu sender to the mock
 * Feishu API with its rate limits on (timed: drain_seconds). Duplicates and losses are counted on
 * the receiving side (the mock): every filler must get exactly one card.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identities } from '../../db/schema';
import { loadLedgerFile, LEDGER_TEMPLATES_DIR } from '../../db/seed/demo';
import { renderFeishuCards } from '../../cards/render/feishu';
import { buildDeps, silentLogger } from '../../src/deps';
import { createCalendar } from '../../src/domain/calendar';
import { createRateLimiter } from '../../src/outbox/rate-limit';
import { drainOutbox } from '../../src/outbox/sender';
import { createFeishuClient } from '../../src/platforms/feishu/client';
import { startMockFeishu } from '../../src/platforms/feishu/mock-server';
import { createFeishuSender } from '../../src/platforms/feishu/sender';
import { openDatabase } from '../../src/runtime/open-db';
import { createScheduler } from '../../src/scheduler/tick';
import { reminderJob } from '../../src/scheduler/reminders.job';
import { ledgerSource } from '../../src/scheduler/ledgers.job';
import { importUnitsAndPeople, type ImportRecord } from '../../src/store/import.repo';
import { allUnitIds } from '../../src/store/campaign.repo';
import { assignLedger, ensureLedgerEntries, installLedgerDefinition } from '../../src/store/ledger.repo';
import { outboxCounts } from '../../src/store/outbox.repo';
import { writeTransaction } from '../../src/store/serialize';

const at = (s: string) => Date.parse(`${s}+08:00`);

export async function run(args: string[]) {
  const units = Number(args[0] ?? 10_000);
  const rate = Number(args[1] ?? 1000);
  const dir = mkdtempSync(join(tmpdir(), 'lvzhi-reminders-'));
  const mock = await startMockFeishu({ appId: 'cli_rem', appSecret: 'rem-secret', rateLimits: { perSecond: rate, perMinute: rate * 60, perUserPerSecond: 5 } });
  try {
    const { db, close } = await openDatabase({ DATABASE_URL: `file:${join(dir, 'reminders.db')}` });
    // August's 隐患 report was due Tuesday 25 August; on Thursday the 27th at 09:30 it is two
    // working days late for every unit: each filler gets one overdue reminder.
    const created = at('2026-08-01T09:00:00');
    const now = at('2026-08-27T09:30:00');
    const records: ImportRecord[] = [];
    for (let i = 1; i <= units; i++) {
      records.push({ row: i + 1, unit: { code: `U${i}`, name: `测试单位${i}`, groupName: i % 2 ? '公益一类' : '公益二类', supervisingDept: '主管部门' }, name: `填报员${i}`, mobile: `139${String(i).padStart(8, '0')}`, email: null, roles: ['filler'] });
    }
    await importUnitsAndPeople(db, records, created, null, 'bench');
    const hazard = await loadLedgerFile(join(LEDGER_TEMPLATES_DIR, 'safety-hazard-monthly-report.json'));
    await writeTransaction(db, async (tx) => {
      const { id } = await installLedgerDefinition(tx, hazard, created);
      await assignLedger(tx, { definitionId: id, unitIds: await allUnitIds(tx) }, created);
      await ensureLedgerEntries(tx, created);
    });
    const persons = await db.query.people.findMany({ columns: { id: true } });
    for (let i = 0; i < persons.length; i += 2000) {
      await db.insert(identities).values(persons.slice(i, i + 2000).map((p) => ({ personId: p.id, platform: 'feishu' as const, externalId: `ou_${p.id}` }))).onConflictDoNothing();
    }

    const deps = buildDeps(db, { clock: () => now, log: silentLogger });
    const scheduler = createScheduler(deps, [reminderJob(createCalendar(), [ledgerSource])]);
    const t0 = performance.now();
    const first = await scheduler.tick(now);
    const planSeconds = (performance.now() - t0) / 1000;
    const afterFirst = await outboxCounts(db);
    // A second tick in the same slot (another instance, or a restart) runs nothing.
    const second = await createScheduler(deps, [reminderJob(createCalendar(), [ledgerSource])]).tick(now + 60_000);
    // The next hour's slot plans the same day's reminders again: the outbox keys keep them once.
    const third = await scheduler.tick(now + 3600_000);
    const afterSecond = await outboxCounts(db);

    const client = createFeishuClient({ appId: 'cli_rem', appSecret: 'rem-secret', domain: mock.url });
    const sender = createFeishuSender(deps, client, { render: renderFeishuCards, limiter: createRateLimiter({ perSecond: rate, perMinute: rate * 60, perKeyPerSecond: 5, marginMs: 20 }) });
    const t1 = performance.now();
    for (;;) {
      await drainOutbox(deps, sender, { concurrency: 16, batch: 200 });
      if ((await outboxCounts(db)).pending === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const drainSeconds = (performance.now() - t1) / 1000;
    const counts = await outboxCounts(db);
    close();

    const perReceiver = new Map<string, number>();
    for (const m of mock.state.messages) perReceiver.set(m.receive_id, (perReceiver.get(m.receive_id) ?? 0) + 1);
    const duplicates = [...perReceiver.values()].reduce((s, n) => s + Math.max(0, n - 1), 0);
    const lost = units - perReceiver.size;
    console.error(`first tick: ${JSON.stringify(first)}; second tick: ${JSON.stringify(second)}; next hour: ${JSON.stringify(third)}; outbox after the first tick ${JSON.stringify(afterFirst)}, after the second ${JSON.stringify(afterSecond)}, at the end ${JSON.stringify(counts)}; 429s: ${mock.state.rateLimited}; mock limit ${rate}/s`);
    return {
      units,
      plan_seconds: Number(planSeconds.toFixed(3)),
      drain_seconds: Number(drainSeconds.toFixed(2)),
      duplicates,
      lost,
      repeat_ticks_added: afterSecond.pending + afterSecond.sent - (afterFirst.pending + afterFirst.sent),
    };
  } finally {
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
