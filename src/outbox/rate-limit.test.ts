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
      grants.push({ key, at: limiter.reserve(key, 0) });
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
      const wait = limiter.reserve(key, now);
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
      grants.push({ key, at: now + limiter.reserve(key, now) });
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
    for (let i = 0; i < 500; i++) grants.push({ key: 'ou_a', at: limiter.reserve('ou_a', 0) });
    checkLimits(grants, limits);
    const last = grants[grants.length - 1]!.at;
    // 5 per second: the 500th goes after 99 full seconds.
    expect(last).toBe(99_000);
  });

  it('goes at once while under every limit, and a margin widens the windows', () => {
    const limiter = createRateLimiter({ perSecond: 2, perMinute: 100, perKeyPerSecond: 2 });
    expect(limiter.reserve('a', 0)).toBe(0);
    expect(limiter.reserve('b', 10)).toBe(0);
    expect(limiter.reserve('c', 20)).toBe(980);
    const withMargin = createRateLimiter({ perSecond: 1, perMinute: 100, perKeyPerSecond: 1, marginMs: 50 });
    expect(withMargin.reserve('a', 0)).toBe(0);
    expect(withMargin.reserve('a', 0)).toBe(1050);
  });

  it('grants in call order (FIFO): a later reservation is never scheduled before an earlier one, whatever its key', () => {
    // One user at its per-key limit: a call for another user, made later, waits its turn too.
    const limiter = createRateLimiter({ perSecond: 100, perMinute: 6000, perKeyPerSecond: 1 });
    expect(limiter.reserve('a', 0)).toBe(0);
    expect(limiter.reserve('a', 0)).toBe(1000);
    expect(limiter.reserve('b', 10)).toBe(990);
    // Mixed keys and times: the granted times never go backwards.
    const mixed = createRateLimiter({ perSecond: 5, perMinute: 200, perKeyPerSecond: 2 });
    const next = seededRandom(4);
    let now = 0;
    let previous = -Infinity;
    for (let i = 0; i < 2000; i++) {
      now += Math.floor(next() * 300);
      const at = now + mixed.reserve(`u${Math.floor(next() * 20)}`, now);
      expect(at).toBeGreaterThanOrEqual(previous);
      previous = at;
    }
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
    for (let i = 0; i < 1000; i++) expect(limiter.reserve('k', 5)).toBe(0);
    expect(() => createRateLimiter({ perSecond: 0, perMinute: 10, perKeyPerSecond: 1 })).toThrow(RangeError);
    expect(() => createRateLimiter({ perSecond: 1, perMinute: 10, perKeyPerSecond: 1, marginMs: -1 })).toThrow(RangeError);
  });
});
