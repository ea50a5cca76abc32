import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBot } from '../bot/router';
import { buildDeps, silentLogger } from '../deps';
import { registerFlows } from '../flows';
import { readOnlyDb } from '../test/db-faults';
import { createHarness } from '../test/harness';
import { createApp } from './app';

describe('createApp', () => {
  let h: Awaited<ReturnType<typeof createHarness>>;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => h.close());

  it('leaves the simulator out when asked (a public deployment): no pages, no form posts', async () => {
    const deps = buildDeps(h.db, { clock: h.now, log: silentLogger });
    const bot = createBot(deps);
    registerFlows(bot);
    const off = createApp(deps, bot, { simulator: false });
    const on = createApp(deps, bot);
    for (const app of [on, off]) expect((await app.request('/healthz')).status).toBe(200);
    expect((await on.request('/')).status).toBe(200);
    expect((await off.request('/')).status).toBe(404);
    const body = JSON.stringify({ actor: 'p1', eventId: 'e1', action: { id: 'help.show', value: {} }, form: {} });
    expect((await on.request('/local/action', { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(200);
    expect((await off.request('/local/action', { method: 'POST', headers: { 'content-type': 'application/json' }, body: body.replace('e1', 'e2') })).status).toBe(404);
  });
  it('reports a database that refuses writes: /healthz answers 503 and an action a Chinese toast', async () => {
    const ro = await readOnlyDb(h.db);
    try {
      const deps = buildDeps(ro.db, { clock: h.now, log: silentLogger });
      const bot = createBot(deps);
      registerFlows(bot);
      const app = createApp(deps, bot);
      // It can still be read: only a write shows the fault.
      expect((await app.request('/')).status).toBe(200);
      const health = await app.request('/healthz');
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual({ ok: false, error: 'database unavailable' });
      const filler = await h.personByMobile('13800000001');
      const body = JSON.stringify({ actor: `p${filler.id}`, eventId: 'ro-1', action: { id: 'help.show', value: {} }, form: {} });
      const res = await app.request('/local/action', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ toast: { type: 'error', text: '系统繁忙，操作未生效，请稍后重试' } });
    } finally {
      ro.client.close();
    }
  });
});
