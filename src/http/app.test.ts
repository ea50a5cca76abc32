import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBot } from '../bot/router';
import { buildDeps, silentLogger } from '../deps';
import { registerFlows } from '../flows';
import { createHarness } from '../test/harness';
import { createApp } from './app';

describe('createApp', () => {
  let h: Awaited<ReturnType<typeof createHarness>>;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => h.close());

  it('leaves the simulator out when asked (a public deployment): no pages, no form posts', async () => {
    const deps = buildDeps(h.db, { log: silentLogger });
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
});
