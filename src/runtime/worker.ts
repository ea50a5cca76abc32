/**
 * Cloudflare Workers entry: the same app over libSQL on HTTP. Migrations run before deploy
 * (`npm run db:migrate` against the remote URL), never at request time; the demo is not
 * seeded here. Cron Triggers (wrangler.toml, UTC) call `scheduled()`, which runs the same
 * scheduler core as node-cron does on Node; the worker-level tests arrive with the edge-runtime issue.
 */
import { createClient } from '@libsql/client/web';
import { createDb } from '../../db/client';
import { parseEnv } from '../config/env';
import { buildDeps } from '../deps';
import { createBot } from '../bot/router';
import { registerFlows } from '../flows';
import { createApp } from '../http/app';
import { drainOutbox } from '../outbox/sender';
import { createLocalSender } from '../platforms/local/sender';
import { createScheduler } from '../scheduler/tick';
import { defaultJobs } from '../scheduler/jobs';

interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

type Env = Record<string, string | undefined>;

/** The environment checked, or why it cannot run here. */
function open(env: Env, ctx: ExecutionContext): { ok: true; deps: ReturnType<typeof buildDeps> } | { ok: false; error: string; details?: string[] } {
  const parsed = parseEnv(env);
  if (!parsed.ok) return { ok: false, error: 'bad environment', details: parsed.errors };
  const { DATABASE_URL, DATABASE_AUTH_TOKEN } = parsed.config;
  // A Worker has no long-lived process to hold Feishu's WebSocket: refuse it by name.
  if (parsed.config.FEISHU_MODE === 'ws') return { ok: false, error: 'FEISHU_MODE=ws (long connection) needs the Node runtime; use FEISHU_MODE=webhook on Workers' };
  if (DATABASE_URL.startsWith('file:')) return { ok: false, error: 'DATABASE_URL must be a libsql:// or https:// URL on Workers' };
  const db = createDb(createClient({ url: DATABASE_URL, ...(DATABASE_AUTH_TOKEN ? { authToken: DATABASE_AUTH_TOKEN } : {}) }));
  return { ok: true, deps: buildDeps(db, { defer: (work) => ctx.waitUntil(work()) }) };
}

export default {
  /** Cron Triggers: run what is due (reminders, ledger periods, summaries), then send it. */
  async scheduled(controller: { scheduledTime: number; cron: string }, env: Env, ctx: ExecutionContext): Promise<void> {
    const opened = open(env, ctx);
    if (!opened.ok) throw new Error(`${opened.error}${opened.details ? `: ${opened.details.join('; ')}` : ''}`);
    const { deps } = opened;
    const scheduler = createScheduler(deps, defaultJobs());
    ctx.waitUntil(scheduler.tick(controller.scheduledTime).then(() => drainOutbox(deps, createLocalSender(deps))));
  },

  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const opened = open(env, ctx);
    if (!opened.ok) return Response.json({ error: opened.error, ...(opened.details ? { details: opened.details } : {}) }, { status: 500 });
    const { deps } = opened;
    const bot = createBot(deps);
    registerFlows(bot);
    const sender = createLocalSender(deps);
    const app = createApp(deps, bot, { onAction: () => deps.defer(() => drainOutbox(deps, sender)) });
    return app.fetch(request);
  },
};
