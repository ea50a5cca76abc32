import type { Db } from '../db/client';

export interface Logger {
  info(msg: string, extra?: Record<string, unknown>): void;
  error(msg: string, extra?: Record<string, unknown>): void;
}

/** Everything a request or a job needs; built once per process (Node) or per request (Workers). */
export interface Deps {
  readonly db: Db;
  /** Milliseconds since the epoch; tests pass a fake clock. */
  readonly clock: () => number;
  /** Runs work after the answer is sent (ctx.waitUntil on Workers, a tracked promise on Node). */
  readonly defer: (work: () => Promise<unknown>) => void;
  readonly log: Logger;
  /** How long a platform waits for a callback answer (Feishu 3 s, DingTalk 2 s) minus a margin. */
  readonly replyBudgetMs: number;
}

export const consoleLogger: Logger = {
  info: (msg, extra) => console.log(JSON.stringify({ level: 'info', msg, ...extra })),
  error: (msg, extra) => console.error(JSON.stringify({ level: 'error', msg, ...extra })),
};

export const silentLogger: Logger = { info: () => {}, error: () => {} };

/** The clock has no default: only a composition root (src/runtime/, the CLI) reads the wall clock. */
export function buildDeps(db: Db, opts: Pick<Deps, 'clock'> & Partial<Omit<Deps, 'db' | 'clock'>>): Deps {
  return {
    db,
    clock: opts.clock,
    defer: opts.defer ?? ((work) => void work().catch((e) => consoleLogger.error('deferred work failed', { error: String(e) }))),
    log: opts.log ?? consoleLogger,
    replyBudgetMs: opts.replyBudgetMs ?? 2500,
  };
}
