/**
 * `npm run db:migrate` against a remote database over HTTP (as before a Workers deploy), here a
 * Hrana stand-in backed by a real libSQL file: the schema arrives, a second run changes nothing,
 * and a wrong token is refused with a message.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createClient } from '@libsql/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHranaServer, type HranaServer } from '../src/test/hrana-server';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

describe('db:migrate against a remote database', () => {
  let dir: string;
  let server: HranaServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lvzhi-migrate-remote-'));
    server = await startHranaServer({ path: join(dir, 'remote.db'), authToken: 'tok-123456' });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const migrate = (token: string) =>
    run(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/migrate.ts')], { cwd: ROOT, env: { ...process.env, DATABASE_URL: server.url, DATABASE_AUTH_TOKEN: token } });

  it('applies every migration over HTTP once, and refuses a wrong token', async () => {
    const first = await migrate('tok-123456');
    expect(first.stdout).toContain('数据库已迁移到最新版本');
    await migrate('tok-123456');
    const client = createClient({ url: server.url, authToken: 'tok-123456' });
    const tables = (await client.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")).rows.map((r) => String(r.name));
    expect(tables).toEqual(expect.arrayContaining(['audit_log', 'campaigns', 'job_runs', 'ledger_entries', 'outbox', 'scores', 'self_evaluations']));
    const applied = (await client.execute('SELECT count(*) AS n FROM __drizzle_migrations')).rows[0]!.n;
    // Every migration in the journal, once: a second run added none.
    const journal = JSON.parse(readFileSync(join(ROOT, 'db/migrations/meta/_journal.json'), 'utf8')) as { entries: unknown[] };
    expect(Number(applied)).toBe(journal.entries.length);
    client.close();
    await expect(migrate('wrong-token')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('数据库迁移失败') });
  }, 60_000);
});
