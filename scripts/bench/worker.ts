/**
 * worker: the Cloudflare Workers build. Bundles it as `wrangler deploy --dry-run` does and
 * measures the gzip size Cloudflare counts, then starts it under workerd (`wrangler dev`, on a
 * free port) and times from spawn to the first 200: the Feishu url_verification POST, which
 * needs no database, so DATABASE_URL points at a port nobody listens on. The Feishu settings
 * are given so the whole app (SDK included) is what starts. Runs `args[0]` times (default 3)
 * and reports the median.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workerBundleSize } from '../worker-size';
import { freePort } from './setup';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WRANGLER = join(ROOT, 'node_modules/wrangler/bin/wrangler.js');
const TOKEN = 'bench-verification-token';
const quietEnv = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', WRANGLER_SEND_METRICS: 'false' };

function wrangler(args: string[]): ChildProcess {
  // Its own process group, so stopping it stops workerd too.
  return spawn(process.execPath, [WRANGLER, ...args], { cwd: ROOT, env: quietEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
}

async function build(outdir: string): Promise<void> {
  const child = wrangler(['deploy', '--dry-run', '--outdir', outdir]);
  let out = '';
  child.stdout?.on('data', (d) => (out += String(d)));
  child.stderr?.on('data', (d) => (out += String(d)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`wrangler deploy --dry-run failed (${code}):\n${out}`);
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    process.kill(-child.pid!, 'SIGTERM');
  });
}

/** Spawns `wrangler dev` and returns the milliseconds until the first 200 (and until "Ready"). */
async function coldStart(): Promise<{ firstOkMs: number; readyMs: number | null }> {
  const port = await freePort();
  const nobody = await freePort();
  const t0 = performance.now();
  const child = wrangler([
    'dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', '0', '--show-interactive-dev-session=false', '--log-level', 'info',
    '--var', `DATABASE_URL:http://127.0.0.1:${nobody}`, '--var', 'FEISHU_APP_ID:cli_bench', '--var', 'FEISHU_APP_SECRET:bench-app-secret', '--var', `FEISHU_VERIFICATION_TOKEN:${TOKEN}`,
  ]);
  let log = '';
  let readyMs: number | null = null;
  const onData = (d: unknown) => {
    log += String(d);
    if (readyMs === null && log.includes('Ready on')) readyMs = performance.now() - t0;
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  try {
    const body = JSON.stringify({ challenge: 'bench', token: TOKEN, type: 'url_verification' });
    const deadline = t0 + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${log}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/feishu/webhook`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
        const text = await res.text();
        if (res.status === 200) {
          if (!text.includes('"challenge":"bench"')) throw new Error(`unexpected answer: ${text}`);
          return { firstOkMs: performance.now() - t0, readyMs };
        }
        throw new Error(`POST /feishu/webhook answered ${res.status}: ${text}\n${log}`);
      } catch (e) {
        if (!(e instanceof TypeError)) throw e; // a TypeError is fetch failing: not listening yet
      }
      if (performance.now() > deadline) throw new Error(`wrangler dev did not answer within 60 s:\n${log}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    await stop(child);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(args: string[]) {
  const runs = Math.max(1, Number(args[0] ?? 3));
  const outdir = mkdtempSync(join(tmpdir(), 'lvzhi-worker-'));
  try {
    await build(outdir);
    const size = workerBundleSize(outdir);
    console.log(`bundle: ${size.kib.toFixed(1)} KiB, gzip ${size.gzipKib.toFixed(1)} KiB`);
    const starts: number[] = [];
    for (let i = 0; i < runs; i++) {
      const { firstOkMs, readyMs } = await coldStart();
      console.log(`run ${i + 1}: "Ready" after ${readyMs === null ? '?' : Math.round(readyMs)} ms, first 200 after ${Math.round(firstOkMs)} ms`);
      starts.push(firstOkMs);
    }
    return { gzip_kib: Math.round(size.gzipKib * 10) / 10, cold_start_ms: Math.round(median(starts)) };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
