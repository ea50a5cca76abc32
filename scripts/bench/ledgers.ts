/**
 * ledgers: 10,000 units, each with a filler and a head, keeping the monthly 隐患 report and the
 * 登记管理 ledger (assigned 90 days earlier). Timed: creating the entries that should exist
 * (40,000, set-based), the same again (nothing to create), and loading every open entry as a
 * reminder target. The unit test counts the statements instead. `npm run bench -- ledgers [units]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLedgerFile, LEDGER_TEMPLATES_DIR } from '../../db/seed/demo';
import { openDatabase } from '../../src/runtime/open-db';
import { allUnitIds } from '../../src/store/campaign.repo';
import { importUnitsAndPeople, type ImportRecord } from '../../src/store/import.repo';
import { assignLedger, ensureLedgerEntries, installLedgerDefinition, ledgerTargets } from '../../src/store/ledger.repo';
import { writeTransaction } from '../../src/store/serialize';

/** 2026-11-30 09:00 Asia/Shanghai. */
const NOW = Date.UTC(2026, 10, 30, 1);
const DAY = 86_400_000;

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await work();
  return [out, (performance.now() - t0) / 1000];
}

export async function run(args: string[]) {
  const units = Number(args[0] ?? 10_000);
  const dir = mkdtempSync(join(tmpdir(), 'lvzhi-ledgers-'));
  const { db, close } = await openDatabase({ DATABASE_URL: `file:${join(dir, 'ledgers.db')}` });
  try {
    const assigned = NOW - 90 * DAY;
    const records: ImportRecord[] = [];
    for (let i = 1; i <= units; i++) {
      const unit = { code: `U${i}`, name: `测试单位${i}`, groupName: i % 2 ? '公益一类' : '公益二类', supervisingDept: '主管部门' };
      records.push({ row: 2 * i, unit, name: `填报员${i}`, mobile: `139${String(i).padStart(8, '0')}`, email: null, roles: ['filler'] });
      records.push({ row: 2 * i + 1, unit, name: `负责人${i}`, mobile: `137${String(i).padStart(8, '0')}`, email: null, roles: ['unit_head'] });
    }
    await importUnitsAndPeople(db, records, assigned, null, 'bench');
    for (const code of ['safety-hazard-monthly-report', 'laiwu-registration-supervision']) {
      const ledger = await loadLedgerFile(join(LEDGER_TEMPLATES_DIR, `${code}.json`));
      await writeTransaction(db, async (tx) => {
        const { id } = await installLedgerDefinition(tx, ledger, assigned);
        await assignLedger(tx, { definitionId: id, unitIds: await allUnitIds(tx) }, assigned);
      });
    }
    const [first, ensureSeconds] = await timed(() => writeTransaction(db, (tx) => ensureLedgerEntries(tx, NOW)));
    const [again, rerunSeconds] = await timed(() => writeTransaction(db, (tx) => ensureLedgerEntries(tx, NOW)));
    const [targets, targetsSeconds] = await timed(() => ledgerTargets(db, NOW));
    console.error(`${units} units: created ${first.created} entries in ${ensureSeconds.toFixed(3)} s, again ${again.created} in ${rerunSeconds.toFixed(3)} s; ${targets.length} targets loaded in ${targetsSeconds.toFixed(3)} s`);
    return {
      units,
      entries: first.created,
      ensure_seconds: Number(ensureSeconds.toFixed(3)),
      rerun_seconds: Number(rerunSeconds.toFixed(3)),
      targets: targets.length,
      targets_seconds: Number(targetsSeconds.toFixed(3)),
    };
  } finally {
    close();
    rmSync(dir, { recursive: true, force: true });
  }
}
