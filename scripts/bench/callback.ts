/**
 * callback: 64 concurrent signed, encrypted form submissions (自评 draft saves, each a real
 * database write) against the real server on a libSQL file, beside a bare Hono endpoint on the
 * same machine in the same run. Each virtual user saves its own unit's form and takes the
 * next revision from the card in the answer, as the Feishu client would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMockFeishu } from '../../src/platforms/feishu/mock-server';
import { encryptFeishu, feishuSignature } from '../../src/platforms/feishu/verify';
import { createBenchDatabase, freePort, percentile, startChild, stopChild } from './setup';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENCRYPT_KEY = 'bench-encrypt-key';
const TOKEN = 'bench-token';

interface Target { evaluationId: number; openId: string }

async function payload(t: Target, rev: number, n: number, scoreField: string) {
  const envelope = {
    schema: '2.0',
    header: { event_id: `bench-${t.evaluationId}-${n}-${Math.random().toString(36).slice(2)}`, token: TOKEN, create_time: String(Date.now() * 1000), event_type: 'card.action.trigger', tenant_key: 'tk', app_id: 'cli_bench' },
    event: {
      operator: { open_id: t.openId },
      token: 'c-bench',
      action: { tag: 'button', name: 'btn_1', value: { a: 'self-eval.save', v: { evaluationId: t.evaluationId, version: 1, rev } }, form_value: { [scoreField]: String(n % 10), report: `第${n}次保存` } },
      context: { open_message_id: `om_${t.evaluationId}` },
    },
  };
  const body = JSON.stringify({ encrypt: await encryptFeishu(ENCRYPT_KEY, JSON.stringify(envelope)) });
  const ts = String(Math.floor(Date.now() / 1000));
  const nonce = Math.random().toString(36).slice(2);
  return { body, headers: { 'content-type': 'application/json', 'x-lark-request-timestamp': ts, 'x-lark-request-nonce': nonce, 'x-lark-signature': await feishuSignature(ts, nonce, ENCRYPT_KEY, body) } };
}

/** The save button's revision in the answer card: what the next click would carry. */
function nextRev(answer: string): number | null {
  const m = /"a":"self-eval\.save","v":\{[^}]*"rev":(\d+)/.exec(answer);
  return m ? Number(m[1]) : null;
}

/** The revision each unit's card is at, carried from one phase to the next. */
const revs = new Map<number, number>();

async function load(url: string, targets: Target[], perUser: number, scoreField: string, followRev: boolean) {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    targets.map(async (t) => {
      let rev = revs.get(t.evaluationId) ?? 0;
      for (let n = 0; n < perUser; n++) {
        const p = await payload(t, rev, n, scoreField);
        const t0 = performance.now();
        const res = await fetch(url, { method: 'POST', body: p.body, headers: p.headers });
        const text = await res.text();
        latencies.push(performance.now() - t0);
        if (res.status !== 200) errors++;
        if (followRev) {
          const r = nextRev(text);
          if (r === null || !text.includes('草稿已保存')) errors++;
          if (r !== null) rev = r;
        }
      }
      if (followRev) revs.set(t.evaluationId, rev);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), rps: latencies.length / seconds, errors, requests: latencies.length };
}

export async function run(args: string[]) {
  const users = 64;
  const perUser = Number(args[0] ?? 30);
  const dir = mkdtempSync(join(tmpdir(), 'lvzhi-bench-'));
  const mock = await startMockFeishu({ appId: 'cli_bench', appSecret: 'bench-secret', rateLimits: { perSecond: 1e6, perMinute: 1e9, perUserPerSecond: 1e6 } });
  const children = [];
  try {
    const { targets } = await createBenchDatabase(`file:${join(dir, 'bench.db')}`, users, Date.now());
    // The first leaf indicator of the demo scheme (1.1) has id 2: 大项 1 is row 1.
    const scoreField = 'score_2';
    const port = await freePort();
    const server = await startChild(join(ROOT, 'src/runtime/node.ts'), {
      PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: `file:${join(dir, 'bench.db')}`, SEED_DEMO: 'false',
      FEISHU_APP_ID: 'cli_bench', FEISHU_APP_SECRET: 'bench-secret', FEISHU_ENCRYPT_KEY: ENCRYPT_KEY, FEISHU_VERIFICATION_TOKEN: TOKEN, FEISHU_DOMAIN: mock.url,
    }, `http://127.0.0.1:${port}/healthz`);
    children.push(server);
    const barePort = await freePort();
    const bare = await startChild(join(ROOT, 'scripts/bench/bare-server.ts'), { PORT: String(barePort) }, `http://127.0.0.1:${barePort}/healthz`);
    children.push(bare);

    await load(`http://127.0.0.1:${port}/feishu/webhook`, targets.slice(0, users), 2, scoreField, true); // warm-up
    const real = await load(`http://127.0.0.1:${port}/feishu/webhook`, targets.slice(0, users), perUser, scoreField, true);
    const baseline = await load(`http://127.0.0.1:${barePort}/feishu/webhook`, targets.slice(0, users), perUser, scoreField, false);
    console.error(`lvzhi: ${real.requests} requests, ${real.errors} errors; bare: ${baseline.requests} requests`);
    return {
      p50_ms: Number(real.p50.toFixed(2)),
      p99_ms: Number(real.p99.toFixed(2)),
      rps: Number(real.rps.toFixed(1)),
      bare_rps: Number(baseline.rps.toFixed(1)),
      // With 64 users in a closed loop, latency is concurrency / throughput (Little's law):
      // the bare endpoint's own latency is the floor any real handler sits above.
      bare_p50_ms: Number(baseline.p50.toFixed(2)),
      bare_p99_ms: Number(baseline.p99.toFixed(2)),
      ratio: Number((real.rps / baseline.rps).toFixed(3)),
      errors: real.errors,
    };
  } finally {
    for (const c of children) await stopChild(c);
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
