import { Hono } from 'hono';
import type { FeishuConfig } from '../config/env';
import type { Bot } from '../bot/router';
import type { Deps } from '../deps';
import { createLocalRoutes } from '../platforms/local/routes';
import { createFeishuRoutes, type FeishuRouteOptions } from '../platforms/feishu/routes';
import { checkDatabase } from '../store/health.repo';

export interface AppOptions {
  /** Called after each inbound action, so the outbox is sent promptly (not only on the timer). */
  readonly onAction?: () => void;
  /** Mounts POST /feishu/webhook when Feishu is configured in webhook mode. */
  readonly feishu?: { readonly config: FeishuConfig } & Omit<FeishuRouteOptions, 'afterAction'>;
  /** Mounts the chat simulator (no login: only where the network is trusted). Default on. */
  readonly simulator?: boolean;
  /** Host names the simulator answers besides loopback ones (SIMULATOR_HOSTS). */
  readonly simulatorHosts?: readonly string[];
}

export function createApp(deps: Deps, bot: Bot, opts: AppOptions = {}): Hono {
  const app = new Hono();
  const onAction = opts.onAction ?? (() => {});
  app.get('/healthz', async (c) => {
    const ok = await checkDatabase(deps.db).catch(() => false);
    return ok ? c.json({ ok: true }) : c.json({ ok: false, error: 'database unavailable' }, 503);
  });
  if (opts.feishu && opts.feishu.config.mode === 'webhook') {
    app.route('/', createFeishuRoutes(deps, bot, opts.feishu.config, { render: opts.feishu.render, delayedUpdate: opts.feishu.delayedUpdate, afterAction: onAction }));
  }
  if (opts.simulator !== false) app.route('/', createLocalRoutes(deps, bot, onAction, { hosts: opts.simulatorHosts ?? [] }));
  app.onError((err, c) => {
    deps.log.error('unhandled error', { path: c.req.path, error: err.stack ?? String(err) });
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}
