/**
 * Outbound rate limiting, pure: time is passed in, nothing sleeps here.
 *
 * Feishu counts calls per app in two windows (e.g. 50/s and 1000/min for sending) and per
 * receiving user (5/s); either window tripping answers 429. A classic token bucket with a
 * burst allowance lets up to burst + rate·T through in a window of length T, i.e. more than
 * the limit in some sliding window, so this limiter keeps, per window, the times of the last
 * N grants and schedules a new grant no earlier than the N-th latest + window: then no
 * sliding window of that length ever holds more than N grants, while bursts up to N still go
 * at once (full throughput). Grants are handed out in call order (FIFO): a call made later
 * is never scheduled earlier, which is what a sequential sender does anyway.
 *
 * `marginMs` widens every window a little so that network jitter between the caller's clock
 * and the server's arrival times cannot squeeze N+1 calls into the server's window.
 *
 * When the platform refuses anyway (its limits are lower, or another process shares the app),
 * it says how long to wait: `pause` holds a whole scope (every call of one API for the app,
 * or one receiver) until then, shared by every caller of this limiter, so the calls queued
 * behind the refused one do not keep knocking on a closed window.
 */

export interface RateLimits {
  /** Calls per app per second (Infinity: no limit). */
  readonly perSecond: number;
  /** Calls per app per minute. */
  readonly perMinute: number;
  /** Calls per key (receiving user) per second. */
  readonly perKeyPerSecond: number;
  /** Added to each window's length; 0 by default. */
  readonly marginMs?: number;
}

export interface RateLimiter {
  /**
   * Reserves a call for `key` made at `nowMs` and returns how long to wait before making it
   * (0 = go now). Reserving consumes: every reservation counts, whether the call is made or not.
   */
  reserve(key: string, nowMs: number): number;
  /** Holds every call in `scope` until `untilMs`; a shorter pause never cuts a longer one. */
  pause(scope: string, untilMs: number): void;
  /** Until when `scope` is held: a time ≤ nowMs when it is not. */
  pausedUntil(scope: string, nowMs: number): number;
}

/** The times of the last `limit` grants, oldest first once full. */
class Window {
  private readonly times: number[] = [];
  private next = 0;
  constructor(readonly limit: number, readonly lengthMs: number) {}

  /** The earliest time a further grant may have. */
  earliest(): number {
    if (this.times.length < this.limit) return -Infinity;
    return this.times[this.next]! + this.lengthMs;
  }

  push(t: number): void {
    if (this.times.length < this.limit) this.times.push(t);
    else this.times[this.next] = t;
    this.next = (this.next + 1) % this.limit;
  }

  /** The latest grant, for pruning idle keys. */
  last(): number {
    if (this.times.length === 0) return -Infinity;
    return this.times[(this.next - 1 + this.limit) % this.limit] ?? -Infinity;
  }
}

function checkLimit(name: string, v: number): void {
  if (!(v >= 1)) throw new RangeError(`rate limit ${name} must be ≥ 1 or Infinity, got ${v}`);
}

export function createRateLimiter(limits: RateLimits): RateLimiter {
  checkLimit('perSecond', limits.perSecond);
  checkLimit('perMinute', limits.perMinute);
  checkLimit('perKeyPerSecond', limits.perKeyPerSecond);
  const margin = limits.marginMs ?? 0;
  if (!(margin >= 0) || !Number.isFinite(margin)) throw new RangeError(`marginMs must be a finite number ≥ 0, got ${margin}`);

  const app: Window[] = [];
  if (Number.isFinite(limits.perSecond)) app.push(new Window(Math.floor(limits.perSecond), 1000 + margin));
  if (Number.isFinite(limits.perMinute)) app.push(new Window(Math.floor(limits.perMinute), 60_000 + margin));
  const perKey = Number.isFinite(limits.perKeyPerSecond) ? Math.floor(limits.perKeyPerSecond) : 0;
  const keyWindowMs = 1000 + margin;
  const keys = new Map<string, Window>();
  let lastGrant = -Infinity;
  let sincePrune = 0;
  const pauses = new Map<string, number>();
  let sincePausePrune = 0;

  return {
    reserve(key: string, nowMs: number): number {
      let keyWindow: Window | undefined;
      if (perKey > 0) {
        keyWindow = keys.get(key);
        if (!keyWindow) keys.set(key, (keyWindow = new Window(perKey, keyWindowMs)));
      }
      let t = Math.max(nowMs, lastGrant);
      for (const w of app) t = Math.max(t, w.earliest());
      if (keyWindow) t = Math.max(t, keyWindow.earliest());
      for (const w of app) w.push(t);
      keyWindow?.push(t);
      lastGrant = t;

      // Keys idle for longer than their window hold no constraint any more.
      if (++sincePrune >= 1024) {
        sincePrune = 0;
        for (const [k, w] of keys) if (w.last() + keyWindowMs <= nowMs) keys.delete(k);
      }
      return t - nowMs;
    },

    pause(scope: string, untilMs: number): void {
      if (!Number.isFinite(untilMs)) return;
      pauses.set(scope, Math.max(untilMs, pauses.get(scope) ?? -Infinity));
    },

    pausedUntil(scope: string, nowMs: number): number {
      // Pauses that have ended hold nothing; drop them now and then (receivers come and go).
      if (++sincePausePrune >= 1024) {
        sincePausePrune = 0;
        for (const [s, until] of pauses) if (until <= nowMs) pauses.delete(s);
      }
      return pauses.get(scope) ?? -Infinity;
    },
  };
}
