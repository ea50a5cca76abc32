/**
 * The adapter contract (src/platforms/contract-suite.ts) a second time, inside the Workers runtime:
 * the worker entry runs under workerd (`wrangler dev`), reaches its database over HTTP through a
 * Hrana stand-in backed by a real libSQL file (src/test/hrana-server.ts), and sends to the mock
 * Feishu Open API. The simulator's form posts and Feishu's encrypted, signed callbacks go to the
 * worker over the network; a scheduled event (`/__scheduled`) reminds exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eq, like } from 'drizzle-orm';
import { campaigns, identities, jobRuns, ledgerEntries, outbox, people } from '../../db/schema';
import { monthly } from '../domain/schedule';
import { periodBefore } from '../scheduler/summaries.job';
import { createCalendar } from '../domain/calendar';
import { shanghaiDate } from '../domain/time';
import { seedDemoIfEmpty } from '../../db/seed/demo';
import { renderFeishuCards } from '../../cards/render/feishu';
import { validateFeishuCard } from '../../cards/render/feishu-validate';
import { buildDeps, silentLogger } from '../deps';
import { consoleMessages } from '../flows/campaign/console';
import { createRateLimiter } from '../outbox/rate-limit';
import { drainOutbox } from '../outbox/sender';
import { adapterContract, ENCRYPT_KEY, M, TOKEN, feishuDriver, latest, localDriver, type Backend } from '../platforms/contract-suite';
import type { CardSpec } from '../../cards/kit';
import { createFeishuClient } from '../platforms/feishu/client';
import { startMockFeishu, type MockFeishu } from '../platforms/feishu/mock-server';
import { createFeishuSender } from '../platforms/feishu/sender';
import { encryptFeishu, feishuSignature } from '../platforms/feishu/verify';
import { webhookContract } from '../platforms/feishu/webhook-contract';
import { createLocalSender } from '../platforms/local/sender';
import { createRoutingSender } from '../platforms/routing-sender';
import { enqueue, outboxCounts } from '../store/outbox.repo';
import { startHranaServer, type HranaServer } from '../test/hrana-server';
import { openDatabase } from './open-db';
import { freePort } from '../../scripts/bench/setup';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const APP = { appId: 'cli_contract', appSecret: 'contract-secret' };

/** One worker for the whole file; each test gets a fresh database file and mock behind the same ports. */
const ports = { worker: 0, hrana: 0, mock: 0 };
let worker: ChildProcess | null = null;
let workerLog = '';
let hrana: HranaServer | null = null;
let mock: MockFeishu | null = null;
let dir = '';
let current: { db: Awaited<ReturnType<typeof openDatabase>>; file: string } | null = null;
const base = () => `http://127.0.0.1:${ports.worker}`;

/** A fresh demo database served over HTTP, and a fresh mock Feishu, on the worker's ports. */
async function freshBackends(feishuAccounts: boolean) {
  await hrana?.close();
  await mock?.close();
  current?.db.close();
  const file = join(dir, `db-${Date.now()}-${Math.random().toString(36).slice(2)}.db`);
  const db = await openDatabase({ DATABASE_URL: `file:${file}` });
  await seedDemoIfEmpty(db.db, Date.now());
  mock = await startMockFeishu({ ...APP, validateCard: validateFeishuCard, port: ports.mock });
  if (feishuAccounts) {
    const all = await db.db.select({ id: people.id }).from(people);
    await db.db.insert(identities).values(all.map((p) => ({ personId: p.id, platform: 'feishu' as const, externalId: `ou_${p.id}` })));
    await enqueue(db.db, await consoleMessages(db.db, 1, 'send', 'workerd-contract', Date.now()), Date.now());
  }
  // The seed's own cards (and, with accounts, the consoles again) go out before the worker takes over.
  const deps = buildDeps(db.db, { log: silentLogger });
  const feishu = createFeishuSender(deps, createFeishuClient({ ...APP, domain: mock.url }), { render: renderFeishuCards, limiter: createRateLimiter({ perSecond: 50, perMinute: 1000, perKeyPerSecond: 5 }) });
  await drainOutbox(deps, createRoutingSender(deps, { local: createLocalSender(deps), feishu }), { concurrency: 4 });
  hrana = await startHranaServer({ path: file, port: ports.hrana });
  current = { db, file };
  return db.db;
}

/** Waits until the worker's own drain (waitUntil after each action) has sent everything. */
async function settled() {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const c = await outboxCounts(current!.db.db);
    if (c.pending === 0) return;
    if (Date.now() > deadline) throw new Error(`the worker left ${c.pending} outbox rows unsent\n${workerLog.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * For work the worker acknowledges first and does after answering (a direct message): waits
 * until nothing is pending and the outbox has not grown for half a second.
 */
async function quiet() {
  const deadline = Date.now() + 15_000;
  let last = -1;
  let stableSince = Date.now();
  for (;;) {
    const c = await outboxCounts(current!.db.db);
    const total = c.pending + c.sent + c.failed;
    if (total !== last || c.pending > 0) {
      last = total;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= 500) return;
    if (Date.now() > deadline) throw new Error(`the worker's outbox did not settle\n${workerLog.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The worker under workerd, reached over the network; a fresh database and mock per test. */
function worker$(): Backend {
  return {
    name: ' on workerd',
    async setup({ feishu }) { await freshBackends(feishu); },
    async teardown() {},
    request: (path, init) => fetch(`${base()}${path}`, init),
    origin: base,
    now: () => Date.now(),
    db: () => current!.db.db,
    mock: () => mock!,
    messages: async (personId) => (await (await fetch(`${base()}/local/messages/${personId}`)).json()) as Array<{ id: number; card: CardSpec }>,
    flush: settled,
  };
}

async function startWorker() {
  const vars: Record<string, string> = {
    DATABASE_URL: `http://127.0.0.1:${ports.hrana}`,
    SIMULATOR: 'on',
    FEISHU_APP_ID: APP.appId, FEISHU_APP_SECRET: APP.appSecret, FEISHU_ENCRYPT_KEY: ENCRYPT_KEY, FEISHU_VERIFICATION_TOKEN: TOKEN,
    FEISHU_DOMAIN: `http://127.0.0.1:${ports.mock}`,
  };
  const args = [join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'dev', '--ip', '127.0.0.1', '--port', String(ports.worker), '--inspector-port', '0', '--test-scheduled', '--show-interactive-dev-session=false',
    ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`])];
  worker = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0', WRANGLER_SEND_METRICS: 'false' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  worker.stdout?.on('data', (d) => (workerLog += String(d)));
  worker.stderr?.on('data', (d) => (workerLog += String(d)));
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (worker.exitCode !== null) throw new Error(`wrangler dev exited: ${workerLog}`);
    try {
      if ((await fetch(`${base()}/healthz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`wrangler dev did not become ready:\n${workerLog}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('the worker under workerd, database over HTTP', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lvzhi-workerd-'));
    ports.worker = await freePort();
    ports.hrana = await freePort();
    ports.mock = await freePort();
    await freshBackends(false);
    await startWorker();
  }, 120_000);
  afterAll(async () => {
    if (worker?.pid && worker.exitCode === null) {
      const exited = new Promise((r) => worker!.once('exit', r));
      process.kill(-worker.pid, 'SIGTERM');
      const force = setTimeout(() => worker?.pid && process.kill(-worker.pid, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(force);
    }
    await hrana?.close();
    await mock?.close();
    current?.db.close();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  describe.each([() => localDriver(worker$()), () => feishuDriver(worker$())])('adapter contract', (make) => adapterContract(make));

  describe('Feishu webhook', () => {
    let openId = '';
    beforeEach(async () => {
      const db = await freshBackends(true);
      openId = `ou_${(await db.select({ id: people.id }).from(people).where(eq(people.mobile, M.filler)))[0]!.id}`;
    });
    async function post(payload: unknown, opts: { sign?: boolean; key?: string } = {}) {
      const raw = JSON.stringify({ encrypt: await encryptFeishu(ENCRYPT_KEY, JSON.stringify(payload)) });
      const ts = String(Math.floor(Date.now() / 1000));
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (opts.sign !== false) Object.assign(headers, { 'x-lark-request-timestamp': ts, 'x-lark-request-nonce': 'n1', 'x-lark-signature': await feishuSignature(ts, 'n1', opts.key ?? ENCRYPT_KEY, raw) });
      return fetch(`${base()}/feishu/webhook`, { method: 'POST', body: raw, headers });
    }
    webhookContract(() => ({ post, settle: quiet, mock: () => mock!, token: TOKEN, appId: APP.appId, openId }));
  });

  it('a scheduled event (Cron Trigger) runs each job once per slot and sends the due reminders and summary once', async () => {
    const db = await freshBackends(false);
    const evaluator = (await db.select({ id: people.id }).from(people).where(eq(people.mobile, M.evaluator)))[0]!.id;
    const leader = (await db.select({ id: people.id }).from(people).where(eq(people.mobile, '13800000014')))[0]!.id;
    const d = localDriver(worker$());
    const console = await latest(d, evaluator, '履职评估');
    // The worker's clock is the real one: the stage is due on the next working day and the policy
    // reminds one working day before, at any hour, so a working day today means one reminder to
    // each of the six fillers now; on a weekend or holiday the planner rightly sends nothing.
    const calendar = createCalendar();
    const today = shanghaiDate(Date.now());
    const due = calendar.addWorkdays(today, 1);
    await db.update(campaigns).set({ reminderPolicy: { before: [1], onDueDay: false, overdueEvery: 0, escalateToHeadAfter: null, escalateToLeaderAfter: null, sendFrom: '00:00', quietHours: null } });
    expect((await d.act(evaluator, console, 'campaign.open-self-eval', { due })).toast?.text).toContain('单位自评已启动');
    // A ledger entry that fell due last period, so the 月小结 has something to report whatever
    // day this runs on (it goes out once per period, to the evaluator and the leader).
    const slot = monthly('09:00', (y, m) => calendar.nextWorkday(`${y}-${String(m).padStart(2, '0')}-01`)).latest(Date.now())!;
    const period = periodBefore('month', slot.id);
    const [entry] = await db.select().from(ledgerEntries).limit(1);
    const { id: _id, ...copy } = entry!;
    await db.insert(ledgerEntries).values({ ...copy, period: period.id, dueDate: `${period.id}-25`, status: 'pending', createdAt: Date.now() });
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${base()}/__scheduled?cron=${encodeURIComponent('*/15 * * * *')}`);
      expect(res.status, workerLog.slice(-2000)).toBe(200);
    }
    await settled();
    const runs = await db.select({ job: jobRuns.job, slot: jobRuns.slot, status: jobRuns.status }).from(jobRuns);
    expect(runs.map((r) => r.job).sort()).toEqual(['ledger-entries', 'reminders', 'summary-month', 'summary-quarter']);
    expect(runs.every((r) => r.status === 'done' || r.status === 'skipped')).toBe(true);
    // The stage's reminders (the demo's ledgers have their own).
    const reminders = await db.select({ key: outbox.dedupeKey, status: outbox.status, personId: outbox.personId }).from(outbox).where(like(outbox.dedupeKey, 'remind:%:stage:%'));
    expect(reminders).toHaveLength(calendar.isWorkday(today) ? 6 : 0);
    expect(new Set(reminders.map((r) => r.personId)).size).toBe(reminders.length);
    expect(reminders.every((r) => r.status === 'sent')).toBe(true);
    const summaries = await db.select({ key: outbox.dedupeKey, status: outbox.status }).from(outbox).where(like(outbox.dedupeKey, `summary:${period.id}:%`));
    expect(summaries.map((r) => r.key).sort()).toEqual([`summary:${period.id}:${evaluator}`, `summary:${period.id}:${leader}`].sort());
    expect(summaries.every((r) => r.status === 'sent')).toBe(true);
  }, 60_000);
});
