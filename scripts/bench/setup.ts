/** Bench fixtures: a libSQL file with many units, each with a filler mapped to Feishu, and the 自评 stage open. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { identities } from '../../db/schema';
import { loadSchemeFile, DEMO_SCHEME_FILE } from '../../db/seed/demo';
import { openDatabase } from '../../src/runtime/open-db';
import { importUnitsAndPeople, type ImportRecord } from '../../src/store/import.repo';
import { installScheme } from '../../src/store/scheme.repo';
import { allUnitIds, createCampaign, openSelfEvaluationStage } from '../../src/store/campaign.repo';
import { writeTransaction } from '../../src/store/serialize';

export async function createBenchDatabase(url: string, units: number, now: number) {
  const { db, close } = await openDatabase({ DATABASE_URL: url });
  const records: ImportRecord[] = [];
  for (let i = 1; i <= units; i++) {
    const unit = { code: `U${i}`, name: `测试单位${i}`, groupName: i % 2 ? '公益一类' : '公益二类', supervisingDept: '主管部门' };
    records.push({ row: i + 1, unit, name: `填报员${i}`, mobile: `139${String(i).padStart(8, '0')}`, email: null, roles: ['filler'] });
  }
  records.push({ row: units + 2, unit: null, name: '评估员', mobile: '13700000000', email: null, roles: ['evaluator'] });
  await importUnitsAndPeople(db, records, now, null, 'bench');
  const scheme = await loadSchemeFile(DEMO_SCHEME_FILE);
  const campaignId = await writeTransaction(db, async (tx) => {
    const { id: schemeId } = await installScheme(tx, scheme, now);
    const id = await createCampaign(tx, { schemeId, name: '压测评估', year: 2026, unitIds: await allUnitIds(tx) }, now);
    await openSelfEvaluationStage(tx, id, now + 30 * 86_400_000, now);
    return id;
  });
  const persons = await db.query.people.findMany({ columns: { id: true, mobile: true } });
  await db.insert(identities).values(persons.map((p) => ({ personId: p.id, platform: 'feishu' as const, externalId: `ou_${p.id}` }))).onConflictDoNothing();
  const evaluations = await db.query.selfEvaluations.findMany({ columns: { id: true, unitId: true } });
  const fillers = await db.query.roles.findMany({ where: (r, { eq }) => eq(r.role, 'filler'), columns: { personId: true, unitId: true } });
  const byUnit = new Map(fillers.map((f) => [f.unitId, f.personId]));
  close();
  return { campaignId, targets: evaluations.map((e) => ({ evaluationId: e.id, openId: `ou_${byUnit.get(e.unitId)}` })) };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts a TypeScript entry in a child process and waits until GET <health> answers 200. */
export async function startChild(entry: string, env: Record<string, string>, healthUrl: string | null): Promise<ChildProcess> {
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', entry], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += String(d)));
  if (!healthUrl) return child;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${entry} exited: ${stderr}`);
    try {
      if ((await fetch(healthUrl)).ok) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${entry} did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
