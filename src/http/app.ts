import { Hono } from 'hono';
import type { Bot } from '../bot/router';
import type { Deps } from '../deps';
import { createLocalRoutes } from '../platforms/local/routes';
import { checkDatabase } from '../store/health.repo';

export interface AppOptions {
  /** Called after each inbound action, so the outbox is sent promptly (not only on the timer). */
  readonly onAction?: () => void;
}

export function createApp(deps: Deps, bot: Bot, opts: AppOptions = {}): Hono {
  const app = new Hono();
  app.get('/healthz', async (c) => {
    const ok = await checkDatabase(deps.db).catch(() => false);
    return ok ? c.json({ ok: true }) : c.json({ ok: false, error: 'database unavailable' }, 503);
  });
  app.route('/', createLocalRoutes(deps, bot, opts.onAction ?? (() => {})));
  app.onError((err, c) => {
    deps.log.error('unhandled error', { path: c.req.path, error: err.stack ?? String(err) });
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}
