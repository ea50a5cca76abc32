/**
 * fanout: 10,000 personalised cards through the outbox to the mock Feishu API limited to
 * 500/s, with the sender process killed (SIGKILL) halfway and restarted. Duplicates, losses and
 * refusals (429s) are counted on the receiving side (the mock), over the whole run.
 * utilisation = cards received / (seconds from the first to the last × the rate limit).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { identities, people } from '../../db/schema';
import { md } from '../../cards/kit';
import { openDatabase } from '../../src/runtime/open-db';
import { enqueue, outboxCounts } from '../../src/store/outbox.repo';
import { startMockFeishu } from '../../src/platforms/feishu/mock-server';
import { startChild, stopChild } from './setup';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export async function run(args: string[]) {
  const total = Number(args[0] ?? 10_000);
  const rate = 500;
  const dir = mkdtempSync(join(tmpdir(), 'lvzhi-fanout-'));
  const url = `file:${join(dir, 'fanout.db')}`;
  const mock = await startMockFeishu({ appId: 'cli_fanout', appSecret: 'fanout-secret', rateLimits: { perSecond: rate, perMinute: rate * 60, perUserPerSecond: 5 } });
  try {
    const { db, close } = await openDatabase({ DATABASE_URL: url });
    const now = Date.now();
    for (let start = 0; start < total; start += 500) {
      const batch = Array.from({ length: Math.min(500, total - start) }, (_, i) => ({ name: `收件人${start + i}`, mobile: `15${String(start + i).padStart(9, '0')}`, createdAt: now }));
      const ids = await db.insert(people).values(batch).returning({ id: people.id, name: people.name });
      await db.insert(identities).values(ids.map((p) => ({ personId: p.id, platform: 'feishu' as const, externalId: `ou_${p.id}` })));
      await enqueue(db, ids.map((p) => ({
        dedupeKey: `fanout:${p.id}`, kind: 'send' as const, personId: p.id, subject: 'fanout',
        card: { header: { title: `${p.name}，请于本月25日前填报隐患排查台账`, color: 'orange' as const }, elements: [md(`**${p.name}**：本月台账尚未填报。`)] },
      })), now);
    }
    close();

    const env = { DATABASE_URL: url, FEISHU_DOMAIN: mock.url, RATE: String(rate) };
    const entry = join(ROOT, 'scripts/bench/fanout-sender.ts');
    const t0 = performance.now();
    let child = await startChild(entry, env, null);
    while (mock.state.messages.length < total / 2) await new Promise((r) => setTimeout(r, 20));
    await stopChild(child, 'SIGKILL');
    const killedAt = mock.state.messages.length;
    const respawned = performance.now();
    child = await startChild(entry, env, null);
    // From the new process's spawn to the first card it gets through (start-up + first batch).
    let firstAfterRestart = NaN;
    void (async () => {
      while (mock.state.messages.length === killedAt && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
      firstAfterRestart = performance.now() - respawned;
    })();
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`sender exited with ${code}`))));
    });
    const seconds = (performance.now() - t0) / 1000;

    const perReceiver = new Map<string, number>();
    for (const m of mock.state.messages) perReceiver.set(m.receive_id, (perReceiver.get(m.receive_id) ?? 0) + 1);
    const duplicates = [...perReceiver.values()].reduce((s, n) => s + Math.max(0, n - 1), 0);
    const lost = total - perReceiver.size;
    const check = await openDatabase({ DATABASE_URL: url }, { migrate: false });
    const counts = await outboxCounts(check.db);
    check.close();
    const created = mock.state.messages.map((m) => m.created).sort((a, b) => a - b);
    const sendingSeconds = (created[created.length - 1]! - created[0]!) / 1000;
    const gap = created.reduce((g, t, i) => (i > 0 ? Math.max(g, t - created[i - 1]!) : 0), 0);
    const half = Math.floor(killedAt * 0.9);
    const firstRate = half / ((created[half]! - created[0]!) / 1000);
    console.error(`killed after ${killedAt} messages; outbox ${JSON.stringify(counts)}; uuid re-sends answered from cache: ${mock.state.dedupeHits}; 429s: ${mock.state.rateLimited}; wall ${seconds.toFixed(1)} s; rate before the kill ${firstRate.toFixed(0)}/s; longest pause ${gap} ms (the restart)`);
    return {
      sent: perReceiver.size,
      utilisation: Number((perReceiver.size / (sendingSeconds * rate)).toFixed(3)),
      // The same ratio without the restart's pause (process start-up: node, tsx, libSQL and drizzle).
      utilisation_without_restart: Number((perReceiver.size / ((sendingSeconds - gap / 1000) * rate)).toFixed(3)),
      restart_pause_ms: Math.round(gap),
      restart_spawn_to_first_ms: Math.round(firstAfterRestart),
      rate_limited: mock.state.rateLimited,
      duplicates,
      lost,
      seconds: Number(sendingSeconds.toFixed(2)),
    };
  } finally {
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
