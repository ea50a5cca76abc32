/**
 * Cloudflare Workers entry: the same app over libSQL on HTTP. Migrations run before deploy
 * (`npm run db:migrate` against the remote URL), never at request time; the demo is not
 * seeded here. Cron Triggers (wrangler.toml, UTC) call `scheduled()`, which runs the same
 * scheduler core as node-cron does on Node.
 *
 * Everything is built per request (an isolate may serve many, and several isolates run side
 * by side, so nothing that must be shared lives in memory). Feishu is wired as on Node, in
 * webhook mode only: the callback route, and the outbox sent through the routing sender
 * (Feishu for people with a Feishu account, the simulator for the rest) in `ctx.waitUntil`
 * after each action and after each scheduled tick. The one thing kept across requests is the
 * Feishu client with its tenant_access_token (2 h) and the send rate limiter: both are caches
 * an isolate may lose at any time, at the cost of one token request or a 429 answered with a retry.
 */
import { createClient } from '@libsql/client/web';
import { createDb } from '../../db/client';
import { renderFeishuCard, renderFeishuCards } from '../../cards/render/feishu';
import { feishuConfig, parseEnv, simulatorEnabled, type FeishuConfig } from '../config/env';
import { buildDeps, consoleLogger, type Deps } from '../deps';
import { createBot } from '../bot/router';
import { registerFlows } from '../flows';
import { createApp } from '../http/app';
import { createRateLimiter, type RateLimiter } from '../outbox/rate-limit';
import { drainLanes, type OutboxLane } from '../outbox/sender';
import { createFeishuClient, type FeishuClient } from '../platforms/feishu/client';
import { createFeishuSender } from '../platforms/feishu/sender';
import { createLocalSender } from '../platforms/local/sender';
import { createPlatformLanes } from '../platforms/routing-sender';
import { createScheduler } from '../scheduler/tick';
import { defaultJobs } from '../scheduler/jobs';

interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

type Env = Record<string, string | undefined>;

/**
 * People sent to at once by one drain, per lane. A Worker invocation keeps at most 6
 * connections open (the database and Feishu both count); more simply queue inside the runtime.
 */
const DRAIN_CONCURRENCY = { feishu: 4, local: 2 };

interface Feishu {
  readonly config: FeishuConfig;
  readonly client: FeishuClient;
  readonly limiter: RateLimiter;
}

/** The isolate's Feishu client and limiter, rebuilt whenever the settings differ. */
let feishuCache: { key: string; feishu: Feishu } | null = null;

function feishuFor(config: FeishuConfig): Feishu {
  const key = JSON.stringify([config.appId, config.appSecret, config.domain, config.rate]);
  if (feishuCache?.key !== key) {
    const client = createFeishuClient({ appId: config.appId, appSecret: config.appSecret, domain: config.domain });
    const limiter = createRateLimiter({ perSecond: config.rate.perSecond, perMinute: config.rate.perMinute, perKeyPerSecond: config.rate.perUserPerSecond });
    feishuCache = { key, feishu: { config, client, limiter } };
  }
  return { ...feishuCache.feishu, config };
}

interface Opened {
  readonly deps: Deps;
  readonly feishu: Feishu | null;
  /** The simulator has no login: on a public Worker it is off unless SIMULATOR=on. */
  readonly simulator: boolean;
  /** Host names the simulator answers besides loopback ones (SIMULATOR_HOSTS). */
  readonly simulatorHosts: readonly string[];
}

type OpenResult = ({ ok: true } & Opened) | { ok: false; error: string; details?: string[] };

/** The environment checked, or why it cannot run here. */
function open(env: Env, ctx: ExecutionContext): OpenResult {
  const parsed = parseEnv(env);
  if (!parsed.ok) return { ok: false, error: 'bad environment', details: parsed.errors };
  const { DATABASE_URL, DATABASE_AUTH_TOKEN } = parsed.config;
  // A Worker has no long-lived process to hold Feishu's WebSocket: refuse it by name.
  if (parsed.config.FEISHU_MODE === 'ws') return { ok: false, error: 'FEISHU_MODE=ws (long connection) needs the Node runtime; use FEISHU_MODE=webhook on Workers' };
  if (!/^(libsql|https?|wss?):\/\//.test(DATABASE_URL)) return { ok: false, error: 'DATABASE_URL must be a libsql://, https:// or http:// URL on Workers (no file or in-memory database)' };
  const db = createDb(createClient({ url: DATABASE_URL, ...(DATABASE_AUTH_TOKEN ? { authToken: DATABASE_AUTH_TOKEN } : {}) }));
  const deps = buildDeps(db, {
    clock: () => Date.now(),
    defer: (work) => ctx.waitUntil(work().catch((e: unknown) => consoleLogger.error('deferred work failed', { error: describe(e) }))),
  });
  const feishu = feishuConfig(parsed.config);
  return { ok: true, deps, feishu: feishu ? feishuFor(feishu) : null, simulator: simulatorEnabled(parsed.config, 'worker'), simulatorHosts: parsed.config.SIMULATOR_HOSTS };
}

/** Where queued cards go: Feishu for people with a Feishu account, the simulator otherwise. */
function outboxLanes({ deps, feishu }: Opened): OutboxLane[] {
  // The limiter (its windows and pauses) outlives the request: read it with the wall clock, which
  // every request of the isolate shares.
  const feishuSender = feishu ? createFeishuSender(deps, feishu.client, { render: renderFeishuCards, limiter: feishu.limiter, now: () => Date.now() }) : undefined;
  // One lane per platform, drained side by side: a hung Feishu API does not hold up the simulator's cards.
  return createPlatformLanes(deps, { local: createLocalSender(deps), feishu: feishuSender }, DRAIN_CONCURRENCY);
}

/** An error's message with its causes (drizzle wraps the driver's error: "Failed query: …"). */
function describe(e: unknown): string {
  const parts: string[] = [];
  for (let cur: unknown = e; cur !== undefined && cur !== null && parts.length < 5; cur = (cur as { cause?: unknown }).cause) {
    parts.push(cur instanceof Error ? cur.message : String(cur));
  }
  return parts.join(' ← ');
}

const drain = (opened: Opened) => drainLanes(opened.deps, outboxLanes(opened));

export default {
  /** Cron Triggers: run what is due (reminders, ledger periods, summaries), then send it. */
  async scheduled(controller: { scheduledTime: number; cron: string }, env: Env, ctx: ExecutionContext): Promise<void> {
    const opened = open(env, ctx);
    if (!opened.ok) throw new Error(`lvzhi cannot run: ${opened.error}${opened.details ? `: ${opened.details.join('; ')}` : ''}`);
    // Awaited, so a failing tick marks the Cron invocation as failed; the sending may outlive it.
    const reports = await createScheduler(opened.deps, defaultJobs())
      .tick(controller.scheduledTime)
      .catch((e: unknown) => {
        throw new Error(`scheduled tick failed: ${describe(e)}`, { cause: e });
      });
    opened.deps.log.info('scheduled tick', { cron: controller.cron, jobs: reports.map((r) => `${r.job}@${r.slot}: ${r.status}`) });
    opened.deps.defer(() => drain(opened));
  },

  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const opened = open(env, ctx);
    if (!opened.ok) return Response.json({ error: opened.error, ...(opened.details ? { details: opened.details } : {}) }, { status: 500 });
    const { deps, feishu } = opened;
    const bot = createBot(deps);
    registerFlows(bot);
    const onAction = () => deps.defer(() => drain(opened));
    const feishuRoutes = feishu
      ? { config: feishu.config, render: renderFeishuCard, delayedUpdate: (token: string, card: unknown) => feishu.client.delayedUpdate(token, card) }
      : undefined;
    const app = createApp(deps, bot, { onAction, feishu: feishuRoutes, simulator: opened.simulator, simulatorHosts: opened.simulatorHosts });
    return app.fetch(request);
  },
};
