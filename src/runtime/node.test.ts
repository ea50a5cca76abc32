/** Start-up of the Node service: safe defaults with a platform configured, loud warnings, no secrets in the log. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { count } from 'drizzle-orm';
import { campaigns } from '../../db/schema';
import { parseEnv, type Config } from '../config/env';
import { startNode } from './node';
import { openDatabase } from './open-db';
import { freePort } from '../../scripts/bench/setup';

function config(env: Record<string, string>): Config {
  const r = parseEnv(env);
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.config;
}

describe('startNode', () => {
  let dir = '';
  let logged: string[] = [];
  let errors: string[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lvzhi-start-'));
    logged = [];
    errors = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void logged.push(String(line)));
    vi.spyOn(console, 'error').mockImplementation((line: unknown) => void errors.push(String(line)));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('with Feishu configured: no simulator and no demo unless asked for', async () => {
    const port = await freePort();
    const db = `file:${join(dir, 'app.db')}`;
    const running = await startNode(config({
      DATABASE_URL: db, PORT: String(port), HOST: '127.0.0.1',
      FEISHU_APP_ID: 'cli_start', FEISHU_APP_SECRET: 'start-secret-1234', FEISHU_ENCRYPT_KEY: 'k', FEISHU_DOMAIN: 'http://127.0.0.1:9',
    }));
    try {
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/local/action`, { method: 'POST' })).status).toBe(404);
    } finally {
      await running.stop();
    }
    const check = await openDatabase({ DATABASE_URL: db }, { migrate: false });
    expect(await check.db.select({ n: count() }).from(campaigns)).toEqual([{ n: 0 }]);
    check.close();
    const started = logged.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'lvzhi is running');
    expect(started).toMatchObject({ simulator: 'off', demoSeeding: false });
    expect(errors).toEqual([]);
  });

  it('warns at error level when the simulator listens beyond loopback, and logs the database without its token', async () => {
    const port = await freePort();
    const running = await startNode(config({ DATABASE_URL: `file:${join(dir, 'app.db')}?authToken=SECRET-TOKEN`, PORT: String(port), HOST: '0.0.0.0', SEED_DEMO: 'false' }));
    try {
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    } finally {
      await running.stop();
    }
    const warnings = errors.map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.level).toBe('error');
    expect(warnings[0]!.msg).toContain('the chat simulator is on and HOST=0.0.0.0 is not a loopback address');
    const all = [...logged, ...errors].join('\n');
    expect(all).not.toContain('SECRET-TOKEN');
    const started = logged.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'lvzhi is running');
    expect(started).toMatchObject({ database: `file:${join(dir, 'app.db')}?authToken=***`, simulator: 'on' });
  });
});
