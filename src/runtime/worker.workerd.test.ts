/**
 * The adapter contract (src/platforms/contract-suite.ts) a second time, inside the Workers runtime:
 * the worker entry runs under workerd (`wrangler dev`), reaches its database over HTTP through a
 * Hrana stand-in backed by a real libSQL file (src/test/hrana-server.ts), and sends to the mock
 * Feishu Open API. The simulator's form posts and Feishu's encrypted, signed callbacks go to the
 * worker over the network; a scheduled event at fixed instants reminds exactly once.
 *
 * Clocks: the worker runs on the real one (requests, its outbox drain); the databases are seeded
 * at fixed instants in the past, and scheduled events carry their own `scheduledTime` (Miniflare's
 * `/cdn-cgi/handler/scheduled?cron=…&time=<ms>`; wrangler's `--test-scheduled` route `/__scheduled`
 * drops `time`), so nothing here depends on today's date.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { and, eq, like } from 'drizzle-orm';
import { campaigns, identities, jobRuns, ledgerDefinitions, ledgerEntries, outbox, people, roles } from '../../db/schema';
import { endOfShanghaiDay } from '../domain/time';
import { seedDemoIfEmpty } from '../../db/seed/demo';
import { renderFeishuCards } from '../../cards/render/feishu';
import { validateFeishuCard } from '../../cards/render/feishu-validate';
import { buildDeps, silentLogger } from '../deps';
import { consoleMessages } from '../flows/campaign/console';
import { createRateLimiter } from '../outbox/rate-limit';
import { drainOutbox } from '../outbox/sender';
import { adapterContract, ENCRYPT_KEY, M, TOKEN, feishuDriver, localDriver, type Backend } from '../platforms/contract-suite';
import type { CardSpec } from '../../cards/kit';
import { createFeishuClient } from '../platforms/feishu/client';
import { startMockFeishu, type MockFeishu } from '../platforms/feishu/mock-server';
import { createFeishuSender } from '../platforms/feishu/sender';
import { encryptFeishu, feishuSignature } from '../platforms/feishu/verify';
import { webhookContract } from '../platforms/feishu/webhook-contract';
import { createLocalSender } from '../platforms/local/sender';
import { createRoutingSender } from '../platforms/routing-sender';
import { enqueue, outboxCounts } from '../store/outbox.repo';
import { openSelfEvaluationStage } from '../store/campaign.repo';
import { writeTransaction } from '../store/serialize';
import { startHranaServer, type HranaServer } from '../test/hrana-server';
import { openDatabase } from './open-db';
import { freePort } from '../../scripts/bench/setup';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const APP = { appId: 'cli_contract', appSecret: 'contract-secret' };
/** Where the contract's databases are seeded: 2026-11-30 09:00 Asia/Shanghai, in the past of the worker's clock. */
const SEEDED = Date.UTC(2026, 10, 30, 1);
/**
 * The worker's clock, which is the real one: it checks a Feishu callback's timestamp against it,
 * so the callbacks sent to it must carry the real time.
 */
// eslint-disable-next-line no-restricted-syntax -- the worker under test is a composition root on the wall clock
const workerNow = () => Date.now();

/** One worker for the whole file; each test gets a fresh database file and mock behind the same ports. */
const ports = { worker: 0, hrana: 0, mock: 0 };
let worker: ChildProcess | null = null;
let workerLog = '';
let hrana: HranaServer | null = null;
let mock: MockFeishu | null = null;
let dir = '';
let current: { db: Awaited<ReturnType<typeof openDatabase>>; file: string } | null = null;
const base = () => `http://127.0.0.1:${ports.worker}`;

let databases = 0;

/** A fresh demo database seeded at `at`, served over HTTP, and a fresh mock Feishu, on the worker's ports. */
async function freshBackends(feishuAccounts: boolean, at = SEEDED) {
  await hrana?.close();
  await mock?.close();
  current?.db.close();
  const file = join(dir, `db-${++databases}.db`);
  const db = await openDatabase({ DATABASE_URL: `file:${file}` });
  await seedDemoIfEmpty(db.db, at);
  // The mock models Feishu's own clock, which runs in real time (tokens, rate windows).
  mock = await startMockFeishu({ ...APP, validateCard: validateFeishuCard, port: ports.mock });
  if (feishuAccounts) {
    const all = await db.db.select({ id: people.id }).from(people);
    await db.db.insert(identities).values(all.map((p) => ({ personId: p.id, platform: 'feishu' as const, externalId: `ou_${p.id}` })));
    await enqueue(db.db, await consoleMessages(db.db, 1, 'send', 'workerd-contract', at), at);
  }
  // The seed's own cards (and, with accounts, the consoles again) go out before the worker takes over.
  const deps = buildDeps(db.db, { clock: () => at, log: silentLogger });
  const feishu = createFeishuSender(deps, createFeishuClient({ ...APP, domain: mock.url }), { render: renderFeishuCards, limiter: createRateLimiter({ perSecond: 50, perMinute: 1000, perKeyPerSecond: 5 }) });
  await drainOutbox(deps, createRoutingSender(deps, { local: createLocalSender(deps), feishu }), { concurrency: 4 });
  hrana = await startHranaServer({ path: file, port: ports.hrana });
  current = { db, file };
  return db.db;
}

/** Waits until the worker's own drain (waitUntil after each action) has sent everything. */
async function settled() {
  const deadline = performance.now() + 15_000;
  for (;;) {
    const c = await outboxCounts(current!.db.db);
    if (c.pending === 0) return;
    if (performance.now() > deadline) throw new Error(`the worker left ${c.pending} outbox rows unsent\n${workerLog.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * For work the worker acknowledges first and does after answering (a direct message): waits
 * until nothing is pending and the outbox has not grown for half a second.
 */
async function quiet() {
  const deadline = performance.now() + 15_000;
  let last = -1;
  let stableSince = performance.now();
  for (;;) {
    const c = await outboxCounts(current!.db.db);
    const total = c.pending + c.sent + c.failed;
    if (total !== last || c.pending > 0) {
      last = total;
      stableSince = performance.now();
    } else if (performance.now() - stableSince >= 500) return;
    if (performance.now() > deadline) throw new Error(`the worker's outbox did not settle\n${workerLog.slice(-2000)}`);
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
    now: workerNow,
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
  const args = [join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'dev', '--ip', '127.0.0.1', '--port', String(ports.worker), '--inspector-port', '0', '--show-interactive-dev-session=false',
    ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`])];
  worker = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0', WRANGLER_SEND_METRICS: 'false' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  worker.stdout?.on('data', (d) => (workerLog += String(d)));
  worker.stderr?.on('data', (d) => (workerLog += String(d)));
  const deadline = performance.now() + 90_000;
  for (;;) {
    if (worker.exitCode !== null) throw new Error(`wrangler dev exited: ${workerLog}`);
    try {
      if ((await fetch(`${base()}/healthz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`wrangler dev did not become ready:\n${workerLog}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The instants the scheduled event runs at (Asia/Shanghai), all in the past of the worker's clock
 * so that what they enqueue is due for its drain. Slots: the monthly and quarterly summaries run
 * on the first working day at 09:00 and cover the month or quarter before.
 */
const SCHEDULED: ReadonlyArray<{
  name: string;
  at: string;
  /** The stage's due date: one working day after `at` on working days. */
  due: string;
  workday: boolean;
  slots: { month: string; quarter: string };
  /** The periods summarised: the month always (a 隐患 report falls due in it), the quarter when that month is in it. */
  summaries: { month: string; quarter: string | null };
  /** The demo's 登记管理 entry of last month falls due today (on the 5th). */
  ledgerDueToday?: boolean;
}> = [
  { name: 'a working day', at: '2026-11-18T10:00', due: '2026-11-19', workday: true, slots: { month: '2026-11', quarter: '2026-Q4' }, summaries: { month: '2026-10', quarter: null } },
  { name: 'a Saturday', at: '2026-11-21T10:00', due: '2026-11-24', workday: false, slots: { month: '2026-11', quarter: '2026-Q4' }, summaries: { month: '2026-10', quarter: null } },
  // 国庆: the month's first working day (10-08) has not come, so September's slot summarises August.
  { name: '国庆, a Monday off', at: '2026-10-05T10:00', due: '2026-10-09', workday: false, slots: { month: '2026-09', quarter: '2026-Q3' }, summaries: { month: '2026-08', quarter: null } },
  { name: 'the 5th of a month', at: '2026-11-05T10:00', due: '2026-11-06', workday: true, slots: { month: '2026-11', quarter: '2026-Q4' }, summaries: { month: '2026-10', quarter: null }, ledgerDueToday: true },
  // 元旦 takes 01-01..01-03; Sunday 01-04 is a 调休 working day and the first of the year.
  { name: 'the year boundary, a 调休 Sunday', at: '2026-01-04T10:00', due: '2026-01-05', workday: true, slots: { month: '2026-01', quarter: '2026-Q1' }, summaries: { month: '2025-12', quarter: '2025-Q4' } },
];

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
      const ts = String(Math.floor(workerNow() / 1000));
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (opts.sign !== false) Object.assign(headers, { 'x-lark-request-timestamp': ts, 'x-lark-request-nonce': 'n1', 'x-lark-signature': await feishuSignature(ts, 'n1', opts.key ?? ENCRYPT_KEY, raw) });
      return fetch(`${base()}/feishu/webhook`, { method: 'POST', body: raw, headers });
    }
    webhookContract(() => ({ post, settle: quiet, mock: () => mock!, token: TOKEN, appId: APP.appId, openId }));
  });

  describe('a scheduled event (Cron Trigger) at a fixed instant', () => {
    it.each(SCHEDULED)('$name, $at: each job runs once per slot, the due reminders and summaries go out once', async (c) => {
      const T = Date.parse(`${c.at}+08:00`);
      const today = c.at.slice(0, 10);
      const db = await freshBackends(false, T);
      const personOf = async (mobile: string) => (await db.select({ id: people.id }).from(people).where(eq(people.mobile, mobile)))[0]!.id;
      const evaluator = await personOf(M.evaluator);
      const leader = await personOf('13800000014');
      const fillers = (await db.select({ id: roles.personId }).from(roles).where(eq(roles.role, 'filler'))).map((r) => r.id).sort((a, b) => a - b);
      expect(fillers).toHaveLength(6);
      // The stage opens at T, straight in the store: the worker's own request path runs on the real
      // clock. The policy reminds one working day before the due date, at any hour.
      const [campaign] = await db.select({ id: campaigns.id }).from(campaigns);
      expect((await writeTransaction(db, (tx) => openSelfEvaluationStage(tx, campaign!.id, endOfShanghaiDay(c.due)!, T))).opened).toBe(true);
      await db.update(campaigns).set({ reminderPolicy: { before: [1], onDueDay: false, overdueEvery: 0, escalateToHeadAfter: null, escalateToLeaderAfter: null, sendFrom: '00:00', quietHours: null } });
      // A 隐患 report of the month the 月小结 covers (the seed made only the current periods'), so
      // the summary has something to report. Its own period, so it never meets a seeded entry.
      const [hazard] = await db.select({ e: ledgerEntries }).from(ledgerEntries)
        .innerJoin(ledgerDefinitions, and(eq(ledgerDefinitions.id, ledgerEntries.definitionId), eq(ledgerDefinitions.code, 'safety-hazard-monthly-report'))).limit(1);
      const { id: _id, ...copy } = hazard!.e;
      await db.insert(ledgerEntries).values({ ...copy, period: c.summaries.month, dueDate: `${c.summaries.month}-25`, status: 'pending', createdAt: T });

      // Two Cron firings in the same hour: the second finds every slot taken.
      for (const time of [T, T + 15 * 60_000]) {
        const res = await fetch(`${base()}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent('*/15 * * * *')}&time=${time}`);
        expect(res.status, workerLog.slice(-2000)).toBe(200);
      }
      await settled();

      const runs = await db.select({ job: jobRuns.job, slot: jobRuns.slot, status: jobRuns.status }).from(jobRuns);
      expect(runs.sort((a, b) => a.job.localeCompare(b.job))).toEqual([
        { job: 'ledger-entries', slot: today, status: 'done' },
        { job: 'reminders', slot: c.at.slice(0, 13), status: 'done' },
        { job: 'summary-month', slot: c.slots.month, status: 'done' },
        { job: 'summary-quarter', slot: c.slots.quarter, status: c.summaries.quarter ? 'done' : 'skipped' },
      ]);

      const rows = async (pattern: string) => db.select({ key: outbox.dedupeKey, status: outbox.status, personId: outbox.personId }).from(outbox).where(like(outbox.dedupeKey, pattern));
      const stage = await rows('remind:%:stage:%');
      if (c.workday) {
        // One reminder to each unit's filler, for today, delivered.
        expect(stage.map((r) => r.personId).sort((a, b) => a - b)).toEqual(fillers);
        expect(stage.every((r) => r.key.endsWith(`:${today}`) && r.status === 'sent')).toBe(true);
      } else {
        // A day off: nothing at all is planned, for the stage or the ledgers.
        expect(stage).toEqual([]);
        expect(await rows('remind:%')).toEqual([]);
      }
      if (c.ledgerDueToday) {
        const due = await rows(`remind:due:ledger:%:${today}`);
        expect(due.map((r) => r.personId).sort((a, b) => a - b)).toEqual(fillers);
        expect(due.every((r) => r.status === 'sent')).toBe(true);
      }

      const summaries = await rows('summary:%');
      const periods = [c.summaries.month, ...(c.summaries.quarter ? [c.summaries.quarter] : [])];
      expect(summaries.map((r) => r.key).sort()).toEqual(periods.flatMap((p) => [`summary:${p}:${evaluator}`, `summary:${p}:${leader}`]).sort());
      expect(summaries.every((r) => r.status === 'sent')).toBe(true);
    }, 60_000);
  });
});
