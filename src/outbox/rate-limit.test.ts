import { describe, expect, it } from 'vitest';
import { createRateLimiter, type RateLimits } from './rate-limit';
import { seededRandom } from '../test/random';

const FEISHU: RateLimits = { perSecond: 50, perMinute: 1000, perKeyPerSecond: 5 };

/** The largest number of times in any half-open window (t − len, t], by a two-pointer sweep. */
function maxInWindow(times: number[], lenMs: number): number {
  const s = [...times].sort((a, b) => a - b);
  let max = 0;
  let lo = 0;
  for (let hi = 0; hi < s.length; hi++) {
    while (s[lo]! <= s[hi]! - lenMs) lo++;
    max = Math.max(max, hi - lo + 1);
  }
  return max;
}

interface Grant { key: string; at: number }

function checkLimits(grants: Grant[], limits: RateLimits) {
  const all = grants.map((g) => g.at);
  expect(maxInWindow(all, 1000)).toBeLessThanOrEqual(limits.perSecond);
  expect(maxInWindow(all, 60_000)).toBeLessThanOrEqual(limits.perMinute);
  const byKey = new Map<string, number[]>();
  for (const g of grants) byKey.set(g.key, [...(byKey.get(g.key) ?? []), g.at]);
  let worstKey = 0;
  for (const ts of byKey.values()) worstKey = Math.max(worstKey, maxInWindow(ts, 1000));
  expect(worstKey).toBeLessThanOrEqual(limits.perKeyPerSecond);
}

describe('rate limiter', () => {
  it('the window checker itself sees an excess (so the checks below can fail)', () => {
    expect(maxInWindow([0, 999, 1000, 1998], 1000)).toBe(3);
    expect(maxInWindow([0, 1000, 2000], 1000)).toBe(1);
  });

  it('10,000 reservations made all at once never exceed any limit, and reach the per-minute limit', () => {
    const limiter = createRateLimiter(FEISHU);
    const next = seededRandom(1);
    const grants: Grant[] = [];
    for (let i = 0; i < 10_000; i++) {
      const key = `ou_${Math.floor(next() * 2000)}`;
      grants.push({ key, at: limiter.reserve(key, 0).waitMs });
    }
    checkLimits(grants, FEISHU);
    // The fastest legal schedule: 1000 in the first minute (50 per second for 20 s), then the
    // same each minute, so the 10,000th can go at 9 min + 19 s at the earliest.
    const ideal = 9 * 60_000 + 19_000;
    const last = Math.max(...grants.map((g) => g.at));
    expect(last).toBeGreaterThanOrEqual(ideal);
    expect(ideal / last).toBeGreaterThanOrEqual(0.95);
  });

  it('a sequential caller with random pauses and few users never exceeds any limit', () => {
    const limiter = createRateLimiter(FEISHU);
    const next = seededRandom(2);
    const grants: Grant[] = [];
    let now = 1_700_000_000_000;
    for (let i = 0; i < 10_000; i++) {
      const key = `ou_${Math.floor(next() * 12)}`;
      const wait = limiter.reserve(key, now).waitMs;
      expect(wait).toBeGreaterThanOrEqual(0);
      now += wait;
      grants.push({ key, at: now });
      // Sometimes the caller pauses (a slow request, an idle moment).
      if (next() < 0.1) now += Math.floor(next() * 3000);
    }
    checkLimits(grants, FEISHU);
  });

  it('concurrent callers reserving at scattered times never exceed any limit', () => {
    const limits: RateLimits = { perSecond: 20, perMinute: 300, perKeyPerSecond: 3 };
    const limiter = createRateLimiter(limits);
    const next = seededRandom(3);
    const grants: Grant[] = [];
    let now = 0;
    for (let i = 0; i < 10_000; i++) {
      now += Math.floor(next() * 120); // arrivals faster than the limit allows on average
      const key = `u${Math.floor(next() * 40)}`;
      grants.push({ key, at: now + limiter.reserve(key, now).waitMs });
    }
    checkLimits(grants, limits);
    const first = grants[0]!.at;
    const last = Math.max(...grants.map((g) => g.at));
    const perMinute = ((grants.length - limits.perMinute) / (last - first)) * 60_000;
    expect(perMinute / limits.perMinute).toBeGreaterThanOrEqual(0.95);
  });

  it('one user alone gets exactly its per-key rate', () => {
    const limits: RateLimits = { perSecond: 50, perMinute: 1000, perKeyPerSecond: 5 };
    const limiter = createRateLimiter(limits);
    const grants: Grant[] = [];
    for (let i = 0; i < 500; i++) grants.push({ key: 'ou_a', at: limiter.reserve('ou_a', 0).waitMs });
    checkLimits(grants, limits);
    const last = grants[grants.length - 1]!.at;
    // 5 per second: the 500th goes after 99 full seconds.
    expect(last).toBe(99_000);
  });

  it('goes at once while under every limit, and a margin widens the windows', () => {
    const limiter = createRateLimiter({ perSecond: 2, perMinute: 100, perKeyPerSecond: 2 });
    expect(limiter.reserve('a', 0).waitMs).toBe(0);
    expect(limiter.reserve('b', 10).waitMs).toBe(0);
    expect(limiter.reserve('c', 20).waitMs).toBe(980);
    const withMargin = createRateLimiter({ perSecond: 1, perMinute: 100, perKeyPerSecond: 1, marginMs: 50 });
    expect(withMargin.reserve('a', 0).waitMs).toBe(0);
    expect(withMargin.reserve('a', 0).waitMs).toBe(1050);
  });

  it('grants in call order (FIFO): a later reservation is never scheduled before an earlier one, whatever its key', () => {
    // One user at its per-key limit: a call for another user, made later, waits its turn too.
    const limiter = createRateLimiter({ perSecond: 100, perMinute: 6000, perKeyPerSecond: 1 });
    expect(limiter.reserve('a', 0).waitMs).toBe(0);
    expect(limiter.reserve('a', 0).waitMs).toBe(1000);
    expect(limiter.reserve('b', 10).waitMs).toBe(990);
    // Mixed keys and times: the granted times never go backwards.
    const mixed = createRateLimiter({ perSecond: 5, perMinute: 200, perKeyPerSecond: 2 });
    const next = seededRandom(4);
    let now = 0;
    let previous = -Infinity;
    for (let i = 0; i < 2000; i++) {
      now += Math.floor(next() * 300);
      const at = now + mixed.reserve(`u${Math.floor(next() * 20)}`, now).waitMs;
      expect(at).toBeGreaterThanOrEqual(previous);
      previous = at;
    }
  });

  it('a reported call counts from when it really went out and, once answered, from its answer', () => {
    const limiter = createRateLimiter({ perSecond: 2, perMinute: 100, perKeyPerSecond: 100 });
    const a = limiter.reserve('a', 0);
    const b = limiter.reserve('b', 0);
    expect([a.waitMs, b.waitMs]).toEqual([0, 0]);
    // a's timer fired 300 ms late and its answer came at 310; b went at once, answered at 5.
    a.sent(300);
    b.sent(0);
    b.answered(5);
    a.answered(310);
    // The server may have seen a as late as 310: the third call waits until that is a window old.
    expect(limiter.reserve('c', 20).waitMs).toBe(1310 - 20);
    // A call sent but not answered counts as seen up to arrivalBoundMs after it went out.
    const hung = createRateLimiter({ perSecond: 1, perMinute: 100, perKeyPerSecond: 100, arrivalBoundMs: 200 });
    hung.reserve('a', 0).sent(40);
    expect(hung.reserve('b', 0).waitMs).toBe(1240);
  });

  it('callers whose timers run late and whose calls take time to arrive never put more than the limit into any window at the server', () => {
    const limits: RateLimits = { perSecond: 50, perMinute: Infinity, perKeyPerSecond: 5 };
    // Eight workers, each reserving again once its previous answer is in (as the drain does).
    const simulate = (report: boolean) => {
      const limiter = createRateLimiter(limits);
      const next = seededRandom(5);
      const arrivals: number[] = [];
      const reports: Array<{ at: number; run: () => void }> = [];
      const free = Array.from({ length: 8 }, () => 0);
      for (let i = 0; i < 3000; i++) {
        const now = Math.min(...free);
        const worker = free.indexOf(now);
        reports.sort((x, y) => x.at - y.at);
        while (reports.length > 0 && reports[0]!.at <= now) reports.shift()!.run();
        const r = limiter.reserve(`u${i % 300}`, now);
        // Mostly a few ms late, now and then stalled for up to 100 ms (a busy event loop).
        const sentAt = now + r.waitMs + (next() < 0.01 ? 100 * next() : 5 * next());
        const arrival = sentAt + 20 * next();
        const answer = arrival + 20 * next();
        arrivals.push(arrival);
        if (report) reports.push({ at: sentAt, run: () => r.sent(sentAt) }, { at: answer, run: () => r.answered(answer) });
        free[worker] = answer;
      }
      return arrivals;
    };
    const arrivals = simulate(true);
    expect(maxInWindow(arrivals, 1000)).toBeLessThanOrEqual(limits.perSecond);
    // Still close to the limit: a round trip per window is all it costs.
    const rate = ((arrivals.length - limits.perSecond) / (Math.max(...arrivals) - Math.min(...arrivals))) * 1000;
    expect(rate / limits.perSecond).toBeGreaterThanOrEqual(0.95);
    // Counting scheduled times instead lets the late calls crowd a window.
    expect(maxInWindow(simulate(false), 1000)).toBeGreaterThan(limits.perSecond);
  });

  it('remembers the calls of a previous process: a restart does not burst into windows already full', () => {
    const limits: RateLimits = { perSecond: 10, perMinute: 30, perKeyPerSecond: 2 };
    const before = createRateLimiter(limits);
    const grants: Grant[] = [];
    for (let i = 0; i < 25; i++) grants.push({ key: `u${i % 5}`, at: before.reserve(`u${i % 5}`, 0).waitMs });
    // It dies; the next process starts at 2,600 and learns what the outbox recorded (in any
    // order), plus one call that was in flight, counted as made at the start.
    const after = createRateLimiter(limits);
    const first = after.reserve('u9', 2600).waitMs;
    grants.push({ key: 'u9', at: 2600 + first });
    after.remember([...grants.slice(0, 25).reverse().map((g) => ({ key: g.key, atMs: g.at })), { atMs: 2600 }]);
    for (let i = 0; i < 20; i++) grants.push({ key: `u${i % 5}`, at: 2600 + after.reserve(`u${i % 5}`, 2600).waitMs });
    grants.push({ key: 'in-flight', at: 2600 });
    checkLimits(grants, limits);
    // Without the memory the new process would have sent its first ten at once.
    const forgetful = createRateLimiter(limits);
    expect(Array.from({ length: 10 }, (_, i) => forgetful.reserve(`u${i % 5}`, 2600).waitMs)).toEqual(Array.from({ length: 10 }, () => 0));
  });

  it('a pause holds its scope until its end and is never shortened; other scopes go on', () => {
    const limiter = createRateLimiter({ perSecond: 50, perMinute: 1000, perKeyPerSecond: 5 });
    expect(limiter.pausedUntil('send', 0)).toBeLessThanOrEqual(0);
    limiter.pause('send', 5000);
    expect(limiter.pausedUntil('send', 0)).toBe(5000);
    expect(limiter.pausedUntil('patch', 0)).toBeLessThanOrEqual(0);
    limiter.pause('send', 2000);
    expect(limiter.pausedUntil('send', 1000)).toBe(5000);
    limiter.pause('send', 9000);
    expect(limiter.pausedUntil('send', 1000)).toBe(9000);
    expect(limiter.pausedUntil('send', 9000)).toBeLessThanOrEqual(9000);
  });

  it('Infinity switches a limit off; nonsense limits are refused', () => {
    const limiter = createRateLimiter({ perSecond: Infinity, perMinute: Infinity, perKeyPerSecond: Infinity });
    for (let i = 0; i < 1000; i++) expect(limiter.reserve('k', 5).waitMs).toBe(0);
    expect(() => createRateLimiter({ perSecond: 0, perMinute: 10, perKeyPerSecond: 1 })).toThrow(RangeError);
    expect(() => createRateLimiter({ perSecond: 1, perMinute: 10, perKeyPerSecond: 1, marginMs: -1 })).toThrow(RangeError);
    expect(() => createRateLimiter({ perSecond: 1, perMinute: 10, perKeyPerSecond: 1, arrivalBoundMs: Infinity })).toThrow(RangeError);
  });
});
