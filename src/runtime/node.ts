/**
 * The embedded default: a Node process with a libSQL file, the local chat simulator and
 * node-cron. `npm start` runs this file.
 *
 * Start-up sends first: the static imports are only what sending needs, and the outbox is
 * drained as soon as the database is open. The bot, the flows, the HTTP app, the scheduler,
 * demo seeding and the long connection (the Feishu SDK, 0.5–0.8 s to load) come in after, by
 * dynamic import, so cards queued before a restart do not wait for them.
 */
import { feishuConfig, parseEnv, redactDatabaseUrl, simulatorEnabled, startupWarnings, type Config } from '../config/env';
import { renderFeishuCard, renderFeishuCards } from '../../cards/render/feishu';
import { createRateLimiter } from '../outbox/rate-limit';
import { createFeishuClient } from '../platforms/feishu/client';
import { createFeishuSender } from '../platforms/feishu/sender';
import { createPlatformLanes } from '../platforms/routing-sender';
import { buildDeps, consoleLogger } from '../deps';
import { createOutboxPump } from '../outbox/sender';
import { createLocalSender } from '../platforms/local/sender';
import { openDatabase } from './open-db';
import { nodeTransport } from './node-http';

export async function startNode(config: Config) {
  const { db, close } = await openDatabase(config);
  const pending = new Set<Promise<unknown>>();
  const deps = buildDeps(db, {
    clock: () => Date.now(),
    defer: (work) => {
      const p = work().catch((e) => consoleLogger.error('deferred work failed', { error: String(e) }));
      pending.add(p);
      void p.finally(() => pending.delete(p));
    },
  });
  const feishu = feishuConfig(config);
  const client = feishu ? createFeishuClient({ appId: feishu.appId, appSecret: feishu.appSecret, domain: feishu.domain, transport: nodeTransport }) : null;
  const feishuSender = feishu && client
    ? createFeishuSender(deps, client, {
        render: renderFeishuCards,
        // No margin: the limiter counts each call at its answer (rate-limit.ts).
        limiter: createRateLimiter({ perSecond: feishu.rate.perSecond, perMinute: feishu.rate.perMinute, perKeyPerSecond: feishu.rate.perUserPerSecond }),
      })
    : undefined;
  // One lane per platform: a hung Feishu API does not hold up the simulator's cards.
  const pump = createOutboxPump(deps, createPlatformLanes(deps, { local: createLocalSender(deps), feishu: feishuSender }, { local: 8, feishu: 8 }));
  void pump.kick();
  const [{ serve }, { default: cron }, { createBot }, { registerFlows }, { createApp }, { seedDemoIfEmpty }, { createScheduler }, { defaultJobs }] = await Promise.all([
    import('@hono/node-server'),
    import('node-cron'),
    import('../bot/router'),
    import('../flows'),
    import('../http/app'),
    import('../../db/seed/demo'),
    import('../scheduler/tick'),
    import('../scheduler/jobs'),
  ]);
  if (config.SEED_DEMO) {
    const campaignId = await seedDemoIfEmpty(db, deps.clock());
    if (campaignId !== null) deps.log.info('demo campaign seeded', { campaignId });
  }
  const bot = createBot(deps);
  registerFlows(bot);
  const onAction = () => deps.defer(() => pump.kick());
  const feishuRouting = feishu && client ? { render: renderFeishuCard, delayedUpdate: (token: string, card: unknown) => client.delayedUpdate(token, card) } : null;
  const app = createApp(deps, bot, { onAction, feishu: feishu && feishuRouting ? { config: feishu, ...feishuRouting } : undefined, simulator: simulatorEnabled(config, 'node'), simulatorHosts: config.SIMULATOR_HOSTS });
  const longConnection = feishu?.mode === 'ws' && feishuRouting ? (await import('../platforms/feishu/ws')).createFeishuLongConnection(deps, bot, feishu, { ...feishuRouting, afterAction: onAction }) : null;
  if (longConnection) await longConnection.start();
  // Sends what was enqueued outside a request (seeding, retries after a failure) every second.
  const sweep = cron.schedule('* * * * * *', () => void pump.kick(), { noOverlap: true });
  // Scheduled work (reminders, ledger periods, summaries) is due by the minute at most; a
  // missed minute, or a restart, is caught up by the scheduler's slots.
  const scheduler = createScheduler(deps, defaultJobs());
  let ticking: Promise<unknown> = Promise.resolve();
  const tick = () => (ticking = scheduler.tick().then(() => pump.kick()).catch((e) => deps.log.error('scheduler tick failed', { error: String(e) })));
  const ticker = cron.schedule('0 * * * * *', () => void tick(), { noOverlap: true });
  void tick();
  await pump.kick();
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  deps.log.info('lvzhi is running', {
    url: `http://${config.HOST === '0.0.0.0' ? 'localhost' : config.HOST}:${config.PORT}/`,
    database: redactDatabaseUrl(config.DATABASE_URL),
    platforms: feishu ? ['local', `feishu (${feishu.mode})`] : ['local'],
    simulator: simulatorEnabled(config, 'node') ? 'on' : 'off',
    demoSeeding: config.SEED_DEMO,
  });
  // Loud, and after the line above, so it is the last thing an operator sees at start-up.
  for (const warning of startupWarnings(config, 'node')) deps.log.error(warning);
  return {
    async stop() {
      longConnection?.close();
      await sweep.stop();
      await ticker.stop();
      await ticking;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...pending]);
      close();
    },
  };
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const env = parseEnv(process.env);
  if (!env.ok) {
    console.error(`lvzhi cannot start: the environment is not valid.\n${env.errors.map((e) => `  - ${e}`).join('\n')}`);
    process.exit(1);
  }
  startNode(env.config).then(
    (running) => {
      const stop = () => void running.stop().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (e: unknown) => {
      // A driver's message may quote the URL it could not open, token and all.
      const why = (e instanceof Error ? e.message : String(e)).replaceAll(env.config.DATABASE_URL, redactDatabaseUrl(env.config.DATABASE_URL));
      console.error(`lvzhi failed to start: ${why}`);
      process.exit(1);
    },
  );
}
