/**
 * The fanout bench's sender process: drains the outbox to the (mock) Feishu API, then exits.
 * It loads only what sending needs and starts draining as soon as the database is open, as a
 * restarted production sender must (src/runtime/node.ts does the same before loading the rest).
 */
import { createRateLimiter } from '../../src/outbox/rate-limit';
import { drainOutbox } from '../../src/outbox/sender';
import { buildDeps, silentLogger } from '../../src/deps';
import { openDatabase } from '../../src/runtime/open-db';
import { nodeTransport } from '../../src/runtime/node-http';
import { createFeishuClient } from '../../src/platforms/feishu/client';
import { createFeishuSender } from '../../src/platforms/feishu/sender';
import { renderFeishuCards } from '../../cards/render/feishu';
import { outboxCounts } from '../../src/store/outbox.repo';

const { db, close } = await openDatabase({ DATABASE_URL: process.env.DATABASE_URL! }, { migrate: false });
const deps = buildDeps(db, { clock: () => Date.now(), log: silentLogger });
const client = createFeishuClient({ appId: 'cli_fanout', appSecret: 'fanout-secret', domain: process.env.FEISHU_DOMAIN!, transport: nodeTransport });
const perSecond = Number(process.env.RATE ?? 500);
// The production limiter (no margin: see rate-limit.ts), at the mock's limits.
const sender = createFeishuSender(deps, client, { render: renderFeishuCards, limiter: createRateLimiter({ perSecond, perMinute: perSecond * 60, perKeyPerSecond: 5 }) });
for (;;) {
  await drainOutbox(deps, sender, { concurrency: 16, batch: 200 });
  if ((await outboxCounts(db)).pending === 0) break;
  await new Promise((r) => setTimeout(r, 100));
}
close();
