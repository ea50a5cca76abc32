/**
 * Cloudflare Workers entry: the same app over libSQL on HTTP. Migrations run before deploy
 * (`npm run db:migrate` against the remote URL), never at request time; the demo is not
 * seeded here. The scheduler and the worker-level tests arrive with the edge-runtime issue.
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

interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

type Env = Record<string, string | undefined>;

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const parsed = parseEnv(env);
    if (!parsed.ok) return Response.json({ error: 'bad environment', details: parsed.errors }, { status: 500 });
    const { DATABASE_URL, DATABASE_AUTH_TOKEN } = parsed.config;
    // A Worker has no long-lived process to hold Feishu's WebSocket: refuse it by name.
    if (parsed.config.FEISHU_MODE === 'ws') return Response.json({ error: 'FEISHU_MODE=ws (long connection) needs the Node runtime; use FEISHU_MODE=webhook on Workers' }, { status: 500 });
    if (DATABASE_URL.startsWith('file:')) return Response.json({ error: 'DATABASE_URL must be a libsql:// or https:// URL on Workers' }, { status: 500 });
    const db = createDb(createClient({ url: DATABASE_URL, ...(DATABASE_AUTH_TOKEN ? { authToken: DATABASE_AUTH_TOKEN } : {}) }));
    const deps = buildDeps(db, { defer: (work) => ctx.waitUntil(work()) });
    const bot = createBot(deps);
    registerFlows(bot);
    const sender = createLocalSender(deps);
    const app = createApp(deps, bot, { onAction: () => deps.defer(() => drainOutbox(deps, sender)) });
    return app.fetch(request);
  },
};
