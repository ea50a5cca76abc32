/**
 * Outbound rate limiting, pure: time is passed in, nothing sleeps here.
 *
 * Feishu counts calls per app in two windows (e.g. 50/s and 1000/min for sending) and per
 * receiving user (5/s); either window tripping answers 429. A classic token bucket with a
 * burst allowance lets up to burst + rate·T through in a window of length T, i.e. more than
 * the limit in some sliding window, so this limiter keeps, per window, the times of the last
 * N calls and schedules a new one no earlier than the N-th latest + window: then no sliding
 * window of that length ever holds more than N calls, while bursts up to N still go at once
 * (full throughput). Calls are scheduled in reservation order (FIFO): a call reserved later is
 * never scheduled earlier, which is what a sequential sender does anyway.
 *
 * What counts is when the server saw a call, which this side cannot observe: a timer fires
 * late (or, on a busy event loop, early), a request waits for a connection. So a caller that
 * reports back makes each kept time an upper bound on the server's arrival time: when the call
 * really went out, plus `arrivalBoundMs`, and as soon as its answer is in, the time of the
 * answer, since the server saw the call before it answered. A later call then goes only once
 * the answer to the N-th previous one is a full window old, so no jitter margin is needed;
 * the cost is one round trip per window (loopback ~1 ms, the internet tens of ms, on a window
 * of 1 s or 60 s). `marginMs` widens every window further for what this reasoning cannot see.
 *
 * A new process does not know what the one before it sent: `remember` counts those calls
 * (from the outbox) so a restart does not open with a burst into a window already full.
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
  /**
   * For a call reported sent but not yet answered: how long after it went out the server is
   * taken to have seen it at the latest (default 1000). Bounds how long a hung call holds its
   * place in a window; answered calls count at their answer.
   */
  readonly arrivalBoundMs?: number;
}

/** One reserved call: when to make it, and what to report about it. */
export interface Reservation {
  /** How long to wait before making the call (0 = go now). */
  readonly waitMs: number;
  /** The call went out at `atMs` (after the wait, which may have run late). */
  sent(atMs: number): void;
  /** Its answer (or its failure) came back at `atMs`: the server saw the call before that. */
  answered(atMs: number): void;
}

export interface RateLimiter {
  /**
   * Reserves a call for `key` asked for at `nowMs`. Reserving consumes: every reservation
   * counts, whether the call is made or not. Unreported, a call counts at its scheduled time.
   */
  reserve(key: string, nowMs: number): Reservation;
  /**
   * Counts calls made before this limiter existed (by a previous process), each at `atMs` or
   * earlier, for `key` when given. Merged in time order with what is already counted.
   */
  remember(calls: ReadonlyArray<{ readonly key?: string; readonly atMs: number }>): void;
  /** Holds every call in `scope` until `untilMs`; a shorter pause never cuts a longer one. */
  pause(scope: string, untilMs: number): void;
  /** Until when `scope` is held: a time ≤ nowMs when it is not. */
  pausedUntil(scope: string, nowMs: number): number;
}

/** A counted call: the latest time it can have reached the server, lowered as that becomes known. */
interface Slot {
  at: number;
}

/** The last `limit` calls, in reservation order (oldest first once full). */
class Window {
  private slots: Slot[] = [];
  private next = 0;
  constructor(readonly limit: number, readonly lengthMs: number) {}

  /** The earliest time a further call may have. */
  earliest(): number {
    if (this.slots.length < this.limit) return -Infinity;
    return this.slots[this.next]!.at + this.lengthMs;
  }

  push(s: Slot): void {
    if (this.slots.length < this.limit) this.slots.push(s);
    else this.slots[this.next] = s;
    this.next = (this.next + 1) % this.limit;
  }

  /** Adds earlier calls: keeps the latest `limit` of them and those already here, oldest first. */
  merge(more: readonly Slot[]): void {
    const current = this.slots.length < this.limit ? this.slots : [...this.slots.slice(this.next), ...this.slots.slice(0, this.next)];
    this.slots = [...current, ...more].sort((a, b) => a.at - b.at).slice(-this.limit);
    this.next = this.slots.length % this.limit;
  }

  /** The latest call, for pruning idle keys. */
  last(): number {
    if (this.slots.length === 0) return -Infinity;
    return this.slots[(this.next - 1 + this.limit) % this.limit]?.at ?? -Infinity;
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
  const arrivalBound = limits.arrivalBoundMs ?? 1000;
  if (!(arrivalBound >= 0) || !Number.isFinite(arrivalBound)) throw new RangeError(`arrivalBoundMs must be a finite number ≥ 0, got ${arrivalBound}`);

  const app: Window[] = [];
  if (Number.isFinite(limits.perSecond)) app.push(new Window(Math.floor(limits.perSecond), 1000 + margin));
  if (Number.isFinite(limits.perMinute)) app.push(new Window(Math.floor(limits.perMinute), 60_000 + margin));
  const perKey = Number.isFinite(limits.perKeyPerSecond) ? Math.floor(limits.perKeyPerSecond) : 0;
  const keyWindowMs = 1000 + margin;
  const keys = new Map<string, Window>();
  const windowOf = (key: string): Window | undefined => {
    if (perKey === 0) return undefined;
    let w = keys.get(key);
    if (!w) keys.set(key, (w = new Window(perKey, keyWindowMs)));
    return w;
  };
  let lastGrant = -Infinity;
  let sincePrune = 0;
  const pauses = new Map<string, number>();
  let sincePausePrune = 0;

  return {
    reserve(key: string, nowMs: number): Reservation {
      const keyWindow = windowOf(key);
      let t = Math.max(nowMs, lastGrant);
      for (const w of app) t = Math.max(t, w.earliest());
      if (keyWindow) t = Math.max(t, keyWindow.earliest());
      const slot: Slot = { at: t };
      for (const w of app) w.push(slot);
      keyWindow?.push(slot);
      lastGrant = t;

      // Keys idle for longer than their window hold no constraint any more.
      if (++sincePrune >= 1024) {
        sincePrune = 0;
        for (const [k, w] of keys) if (w.last() + keyWindowMs <= nowMs) keys.delete(k);
      }
      let answered = false;
      return {
        waitMs: t - nowMs,
        sent(atMs) {
          if (!answered) slot.at = Math.max(slot.at, atMs + arrivalBound);
        },
        answered(atMs) {
          answered = true;
          slot.at = Math.min(slot.at, Math.max(atMs, t));
        },
      };
    },

    remember(calls) {
      const slots = calls.map((c) => ({ key: c.key, slot: { at: c.atMs } }));
      for (const w of app) w.merge(slots.map((s) => s.slot));
      const byKey = new Map<string, Slot[]>();
      for (const s of slots) if (s.key !== undefined) byKey.set(s.key, [...(byKey.get(s.key) ?? []), s.slot]);
      for (const [key, keySlots] of byKey) windowOf(key)?.merge(keySlots);
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
