/**
 * callback: signed, encrypted Feishu callbacks against the real server on a libSQL file.
 *
 * `npm run bench -- callback [perUser=30] [seconds=30] [rate=100]`
 *
 * 1. Closed loop: 64 virtual users each save their own unit's 自评 draft `perUser` times, one
 *    click after the other's answer, taking the next revision from the card in the answer as
 *    the Feishu client would; then the same requests against a bare Hono endpoint on the same
 *    machine in the same run. `ratio` = lvzhi's throughput / the bare endpoint's.
 * 2. Open loop (callback-open.ts): `rate` requests per second for `seconds` on a fixed
 *    schedule, a mix of draft saves, submits and 我的待办 messages, latency counted from each
 *    request's scheduled time: `p99_ms_at_<rate>`. `seconds` = 0 skips it.
 *
 * `errors` is both loops' errors together (also given apart as closed_errors, open_errors).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMockFeishu } from '../../src/platforms/feishu/mock-server';
import { APP_ID, ENCRYPT_KEY, TOKEN, cardClick, formFields, readAnswer, type Target } from './callback-requests';
import { openLoop, openLoopUnits } from './callback-open';
import { createBenchDatabase, freePort, percentile, startChild, stopChild } from './setup';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const USERS = 64;

/** The revision each unit's card is at, carried from the warm-up to the measured run. */
const revs = new Map<number, number>();

async function closedLoop(url: string, targets: readonly Target[], perUser: number, scoreField: string, followRev: boolean) {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    targets.map(async (t) => {
      let rev = revs.get(t.evaluationId) ?? 0;
      for (let n = 0; n < perUser; n++) {
        const p = await cardClick(t, 'self-eval.save', rev, { [scoreField]: String(n % 10), report: `第${n}次保存` });
        const t0 = performance.now();
        const res = await fetch(url, { method: 'POST', body: p.body, headers: p.headers });
        const text = await res.text();
        latencies.push(performance.now() - t0);
        if (res.status !== 200) errors++;
        if (followRev) {
          const a = readAnswer(text);
          if (a.rev === null || a.toast !== '草稿已保存') errors++;
          if (a.rev !== null) rev = a.rev;
        }
      }
      if (followRev) revs.set(t.evaluationId, rev);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), rps: latencies.length / seconds, errors, requests: latencies.length };
}

function numberArg(raw: string | undefined, fallback: number, name: string, min: number): number {
  const v = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(v) || v < min) throw new Error(`callback: ${name} must be a number ≥ ${min}, got ${raw}`);
  return v;
}

const ms = (x: number) => Number(x.toFixed(2));

export async function run(args: string[]) {
  const perUser = numberArg(args[0], 30, 'perUser', 1);
  const seconds = numberArg(args[1], 30, 'seconds', 0);
  const rate = numberArg(args[2], 100, 'rate', 1);
  const open = seconds > 0 ? openLoopUnits(rate, seconds) : { saveUnits: 0, submitUnits: 0 };
  const dir = mkdtempSync(join(tmpdir(), 'lvzhi-bench-'));
  const dbUrl = `file:${join(dir, 'bench.db')}`;
  // The mock's clock is this process's performance.now(), so card arrival times compare with scheduled times.
  const mock = await startMockFeishu({ appId: APP_ID, appSecret: 'bench-secret', rateLimits: { perSecond: 1e6, perMinute: 1e9, perUserPerSecond: 1e6 }, now: () => performance.now() });
  const children = [];
  try {
    const { targets } = await createBenchDatabase(dbUrl, USERS + open.saveUnits + open.submitUnits, Date.now());
    const fields = await formFields(dbUrl);
    const port = await freePort();
    const server = await startChild(join(ROOT, 'src/runtime/node.ts'), {
      PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: dbUrl, SEED_DEMO: 'false',
      FEISHU_APP_ID: APP_ID, FEISHU_APP_SECRET: 'bench-secret', FEISHU_ENCRYPT_KEY: ENCRYPT_KEY, FEISHU_VERIFICATION_TOKEN: TOKEN, FEISHU_DOMAIN: mock.url,
    }, `http://127.0.0.1:${port}/healthz`);
    children.push(server);
    const barePort = await freePort();
    const bare = await startChild(join(ROOT, 'scripts/bench/bare-server.ts'), { PORT: String(barePort) }, `http://127.0.0.1:${barePort}/healthz`);
    children.push(bare);
    const webhook = `http://127.0.0.1:${port}/feishu/webhook`;
    const closedUsers = targets.slice(0, USERS);

    await closedLoop(webhook, closedUsers, 2, fields.scoreField, true); // warm-up
    const real = await closedLoop(webhook, closedUsers, perUser, fields.scoreField, true);
    const baseline = await closedLoop(`http://127.0.0.1:${barePort}/feishu/webhook`, closedUsers, perUser, fields.scoreField, false);
    console.error(`closed loop: lvzhi ${real.requests} requests, ${real.errors} errors; bare ${baseline.requests} requests`);
    const closed = {
      p50_ms: ms(real.p50),
      p99_ms: ms(real.p99),
      rps: Number(real.rps.toFixed(1)),
      bare_rps: Number(baseline.rps.toFixed(1)),
      // With 64 users in a closed loop, latency is concurrency / throughput (Little's law):
      // the bare endpoint's own latency is the floor any real handler sits above.
      bare_p50_ms: ms(baseline.p50),
      bare_p99_ms: ms(baseline.p99),
      ratio: Number((real.rps / baseline.rps).toFixed(3)),
      closed_errors: real.errors,
    };
    if (seconds === 0) return { ...closed, errors: real.errors };

    const o = await openLoop({
      url: webhook, rate, seconds, mock, scoreField: fields.scoreField, submitForm: fields.submit,
      saveUnits: targets.slice(USERS, USERS + open.saveUnits),
      submitUnits: targets.slice(USERS + open.saveUnits, USERS + open.saveUnits + open.submitUnits),
    });
    console.error(`open loop: ${o.sent} requests at ${rate}/s (${o.saves} saves over ${o.saveUnits} units, ${o.submits} submits, ${o.messages} messages), ${o.errors} errors`);
    for (const [what, count] of o.errorKinds) console.error(`  ${count} × ${what}`);
    return {
      ...closed,
      offered_rps: rate,
      open_seconds: seconds,
      [`p99_ms_at_${rate}`]: ms(o.p99),
      open_p50_ms: ms(o.p50),
      open_max_ms: ms(o.max),
      // How late this generator itself sent (counted in the latencies above): large means the load machine, not lvzhi, lagged.
      max_send_lag_ms: ms(o.maxSendLag),
      answered_rps: Number(o.answered_rps.toFixed(1)),
      saves: o.saves,
      stale_answers: o.stale,
      submits: o.submits,
      submitted: o.submitted,
      todo_messages: o.messages,
      todo_cards: o.cards,
      todo_card_p99_ms: ms(o.cardP99),
      open_errors: o.errors,
      errors: real.errors + o.errors,
    };
  } finally {
    for (const c of children) await stopChild(c);
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
