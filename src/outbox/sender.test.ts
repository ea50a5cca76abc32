import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { messages, outbox } from '../../db/schema';
import { md } from '../../cards/kit';
import { buildDeps, silentLogger } from '../deps';
import { createLocalSender } from '../platforms/local/sender';
import { enqueue, markAttemptFailed } from '../store/outbox.repo';
import { createHarness } from '../test/harness';
import { MAX_ATTEMPTS, PermanentFailure, RetryLater, createOutboxPump, drainOutbox, serialPasses, type Sender } from './sender';
import { failedDeliveries } from '../store/outbox-status.repo';

type H = Awaited<ReturnType<typeof createHarness>>;
const card = (t: string) => ({ header: { title: t }, elements: [md(t)] });

describe('outbox sender', () => {
  let h: H;
  let personId: number;
  beforeEach(async () => {
    h = await createHarness();
    personId = (await h.personByMobile('13800000001')).id;
  });
  afterEach(async () => h.close());

  const deps = () => buildDeps(h.db, { clock: h.now, log: silentLogger });

  it('keeps one row per dedupe key, however often it is enqueued', async () => {
    const m = { dedupeKey: 'k-1', kind: 'send' as const, personId, subject: 's', card: card('一') };
    await enqueue(h.db, [m, m], h.now());
    await enqueue(h.db, [{ ...m, card: card('二') }], h.now());
    const rows = await h.db.select().from(outbox).where(eq(outbox.dedupeKey, 'k-1'));
    expect(rows).toHaveLength(1);
  });

  it('retries a failing delivery with growing backoff, then gives up and records the error', async () => {
    await enqueue(h.db, [{ dedupeKey: 'k-fail', kind: 'send', personId, subject: 's', card: card('x') }], h.now());
    let calls = 0;
    const failing: Sender = { deliver: async () => { calls++; throw new Error('platform down'); } };
    const d = deps();
    expect(await drainOutbox(d, failing)).toEqual({ sent: 0, failed: 1 });
    const [row1] = await h.db.select().from(outbox).where(eq(outbox.dedupeKey, 'k-fail'));
    expect(row1).toMatchObject({ status: 'pending', attempts: 1, lastError: 'Error: platform down' });
    expect(row1!.nextAttemptAt).toBeGreaterThan(h.now());

    // Not retried before its time.
    await drainOutbox(d, failing);
    expect(calls).toBe(1);
    for (let i = 2; i <= MAX_ATTEMPTS; i++) {
      h.advance(60 * 60 * 1000);
      await drainOutbox(d, failing);
    }
    expect(calls).toBe(MAX_ATTEMPTS);
    const [row2] = await h.db.select().from(outbox).where(eq(outbox.dedupeKey, 'k-fail'));
    expect(row2).toMatchObject({ status: 'failed', attempts: MAX_ATTEMPTS });
    h.advance(60 * 60 * 1000);
    await drainOutbox(d, failing);
    expect(calls).toBe(MAX_ATTEMPTS);
  });

  it('retry delays grow as documented: 2 s after the first failure, doubling, at most 10 minutes', async () => {
    await enqueue(h.db, [{ dedupeKey: 'k-delay', kind: 'send', personId, subject: 'delay', card: card('x') }], h.now());
    const failing: Sender = { deliver: async () => { throw new Error('platform down'); } };
    const rowOf = async () => (await h.db.select().from(outbox).where(eq(outbox.dedupeKey, 'k-delay')))[0]!;
    const delays: number[] = [];
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      await drainOutbox(deps(), failing);
      const row = await rowOf();
      expect(row).toMatchObject({ status: 'pending', attempts: attempt });
      delays.push(row.nextAttemptAt - h.now());
      h.advance(row.nextAttemptAt - h.now());
    }
    expect(delays).toEqual([2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000]);
    // Beyond the attempts a row gets by default, the wait stops growing at 10 minutes.
    const row = await rowOf();
    for (const [attempts, wait] of [[8, 512_000], [9, 600_000], [30, 600_000]] as const) {
      await markAttemptFailed(h.db, { ...row, attempts }, 'platform down', h.now(), 100);
      expect((await rowOf()).nextAttemptAt - h.now()).toBe(wait);
    }
  });

  it('a failed card holds back the same person\'s later cards until it has gone, in this pass and the next', async () => {
    const other = (await h.personByMobile('13800000003')).id;
    await enqueue(h.db, [1, 2, 3].map((i) => ({ dedupeKey: `hb-${i}`, kind: 'send' as const, personId, subject: `hb-${i}`, card: card(String(i)) })), h.now());
    await enqueue(h.db, [{ dedupeKey: 'hb-other', kind: 'send', personId: other, subject: 'hb-other', card: card('o') }], h.now());
    let down = true;
    const delivered: string[] = [];
    const flaky: Sender = {
      deliver: async ({ row }) => {
        if (row.subject === 'hb-1' && down) throw new Error('platform down');
        delivered.push(row.subject);
      },
    };
    expect(await drainOutbox(deps(), flaky, { concurrency: 2 })).toEqual({ sent: 1, failed: 1 });
    expect(delivered).toEqual(['hb-other']);
    // The next pass comes before the failed card's retry (2 s later): its followers still wait.
    h.advance(1000);
    expect(await drainOutbox(deps(), flaky)).toEqual({ sent: 0, failed: 0 });
    down = false;
    h.advance(1000);
    expect(await drainOutbox(deps(), flaky)).toEqual({ sent: 3, failed: 0 });
    expect(delivered).toEqual(['hb-other', 'hb-1', 'hb-2', 'hb-3']);
  });

  it('a card put off holds back the person\'s later cards for the rest of the pass, even once its retry time has come', async () => {
    await enqueue(h.db, [1, 2].map((i) => ({ dedupeKey: `rl-hb-${i}`, kind: 'send' as const, personId, subject: `rl-hb-${i}`, card: card(String(i)) })), h.now());
    // A clock that moves on at every reading, past the 1 ms the platform asked to wait.
    let t = h.now();
    const running = buildDeps(h.db, { clock: () => (t += 5), log: silentLogger });
    const delivered: string[] = [];
    const slowDown: Sender = {
      deliver: async ({ row }) => {
        if (row.subject === 'rl-hb-1') throw new RetryLater(1, 'slow down');
        delivered.push(row.subject);
      },
    };
    expect(await drainOutbox(running, slowDown)).toEqual({ sent: 0, failed: 0 });
    expect(delivered).toEqual([]);
  });

  it('a card that failed for good no longer holds the person\'s later cards back', async () => {
    await enqueue(h.db, [1, 2].map((i) => ({ dedupeKey: `pf-hb-${i}`, kind: 'send' as const, personId, subject: `pf-hb-${i}`, card: card(String(i)) })), h.now());
    const delivered: string[] = [];
    const refusing: Sender = {
      deliver: async ({ row }) => {
        if (row.subject === 'pf-hb-1') throw new PermanentFailure('没有这个人');
        delivered.push(row.subject);
      },
    };
    expect(await drainOutbox(deps(), refusing)).toEqual({ sent: 0, failed: 1 });
    h.advance(1000);
    expect(await drainOutbox(deps(), refusing)).toEqual({ sent: 1, failed: 0 });
    expect(delivered).toEqual(['pf-hb-2']);
  });

  it('an app-wide "retry later" stops the pass: the cards behind it are not offered to the closed window', async () => {
    const everyone = [personId, (await h.personByMobile('13800000003')).id, (await h.personByMobile('13800000005')).id];
    await enqueue(h.db, everyone.map((p, i) => ({ dedupeKey: `aw-${i}`, kind: 'send' as const, personId: p, subject: `aw-${i}`, card: card(String(i)) })), h.now());
    let calls = 0;
    const paused: Sender = { deliver: async () => { calls++; throw new RetryLater(5000, 'app paused', { appWide: true }); } };
    expect(await drainOutbox(deps(), paused)).toEqual({ sent: 0, failed: 0 });
    expect(calls).toBe(1);
    const rows = await h.db.select().from(outbox).where(eq(outbox.status, 'pending'));
    expect(rows.sort((a, b) => a.id - b.id).map((r) => [r.dedupeKey, r.nextAttemptAt - h.now(), r.lastError])).toEqual([
      ['aw-0', 5000, 'retry later: app paused'],
      ['aw-1', 0, null],
      ['aw-2', 0, null],
    ]);
  });

  it('a kick during a pass gets exactly one more pass after it, however many kicks come', async () => {
    let passes = 0;
    let release!: () => void;
    const kick = serialPasses(async () => {
      passes++;
      if (passes === 1) await new Promise<void>((r) => (release = r));
    });
    const first = kick();
    const during = [kick(), kick(), kick()];
    expect(passes).toBe(1);
    release();
    await Promise.all([first, ...during]);
    expect(passes).toBe(2);
    // Once idle, a kick starts a pass of its own.
    await kick();
    expect(passes).toBe(3);
  });

  it('delivers a row once to the local chat even when the delivery is repeated', async () => {
    await enqueue(h.db, [{ dedupeKey: 'k-twice', kind: 'send', personId, subject: 'twice', card: card('一次') }], h.now());
    const [row] = await h.db.select().from(outbox).where(eq(outbox.dedupeKey, 'k-twice'));
    const local = createLocalSender(h);
    for (let i = 0; i < 2; i++) {
      const record = await local.deliver({ row: row!, card: card('一次') }, h.now());
      if (record) await record(h.db);
    }
    expect(await h.db.select().from(messages).where(eq(messages.subject, 'twice'))).toHaveLength(1);
  });

  it('sends every row exactly once when kicks overlap', async () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ dedupeKey: `k-many-${i}`, kind: 'send' as const, personId, subject: `many-${i}`, card: card(String(i)) }));
    await enqueue(h.db, many, h.now());
    const d = deps();
    const delivered: number[] = [];
    const local = createLocalSender(h);
    const counting: Sender = { deliver: async (x, now) => { delivered.push(x.row.id); return local.deliver(x, now); } };
    const pump = createOutboxPump(d, counting);
    await Promise.all([pump.kick(), pump.kick(), pump.kick()]);
    expect(new Set(delivered).size).toBe(delivered.length);
    const sent = await h.db.select().from(outbox).where(eq(outbox.status, 'pending'));
    expect(sent).toHaveLength(0);
    const chat = await h.messages(personId);
    expect(chat.filter((m) => m.subject.startsWith('many-'))).toHaveLength(40);
  });

  it('an update refreshes the latest card on its subject in place and is a no-op without one', async () => {
    await enqueue(h.db, [{ dedupeKey: 'u-0', kind: 'update', personId, subject: 'upd', card: card('无卡片') }], h.now());
    await enqueue(h.db, [{ dedupeKey: 'u-1', kind: 'send', personId, subject: 'upd', card: card('原卡片') }], h.now());
    await drainOutbox(deps(), createLocalSender(h));
    await enqueue(h.db, [{ dedupeKey: 'u-2', kind: 'update', personId, subject: 'upd', card: card('新卡片') }], h.now());
    await drainOutbox(deps(), createLocalSender(h));
    const chat = (await h.messages(personId)).filter((m) => m.subject === 'upd');
    expect(chat).toHaveLength(1);
    expect(chat[0]!.card.header.title).toBe('新卡片');
  });

  it('sends to several people at once but keeps each person\'s cards in order', async () => {
    const everyone = [personId, (await h.personByMobile('13800000003')).id, (await h.personByMobile('13800000005')).id];
    const msgs = Array.from({ length: 30 }, (_, i) => ({ dedupeKey: `k-lane-${i}`, kind: 'send' as const, personId: everyone[i % 3]!, subject: `lane-${i}`, card: card(String(i)) }));
    await enqueue(h.db, msgs, h.now());
    const seen = new Map<number, number[]>();
    let inFlight = 0;
    let maxInFlight = 0;
    const slow: Sender = {
      deliver: async ({ row }) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 2 + (row.id % 3)));
        seen.set(row.personId, [...(seen.get(row.personId) ?? []), row.id]);
        inFlight--;
      },
    };
    const result = await drainOutbox(deps(), slow, { concurrency: 3 });
    expect(result.failed).toBe(0);
    expect(maxInFlight).toBe(3);
    for (const ids of seen.values()) expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect([...seen.values()].flat().length).toBeGreaterThanOrEqual(30);
  });

  it('commits deliveries that finish together in one transaction, and a bad record fails only its own row', async () => {
    const everyone = [personId, (await h.personByMobile('13800000003')).id, (await h.personByMobile('13800000005')).id, (await h.personByMobile('13800000007')).id];
    const msgs = everyone.map((p, i) => ({ dedupeKey: `k-group-${i}`, kind: 'send' as const, personId: p, subject: `group-${i}`, card: card(String(i)) }));
    await enqueue(h.db, msgs, h.now());
    const rows = await h.db.select({ id: outbox.id, dedupeKey: outbox.dedupeKey }).from(outbox);
    const badId = rows.find((r) => r.dedupeKey === 'k-group-2')!.id;
    // Records written in one transaction get the same transaction object.
    const byTx = new Map<object, number[]>();
    // All four deliveries finish at about the same moment, so most queue behind the first commit.
    const together: Sender = {
      deliver: async ({ row }) => {
        await new Promise((r) => setTimeout(r, 5));
        return async (tx) => {
          byTx.set(tx, [...(byTx.get(tx) ?? []), row.id]);
          if (row.id === badId) throw new Error('record refused');
        };
      },
    };
    const result = await drainOutbox(deps(), together, { concurrency: 4 });
    expect(result).toEqual({ sent: 3, failed: 1 });
    const status = await h.db.select({ dedupeKey: outbox.dedupeKey, status: outbox.status, attempts: outbox.attempts, lastError: outbox.lastError }).from(outbox);
    expect(status.filter((r) => r.status === 'sent' && r.dedupeKey.startsWith('k-group')).map((r) => r.dedupeKey).sort()).toEqual(['k-group-0', 'k-group-1', 'k-group-3']);
    expect(status.find((r) => r.dedupeKey === 'k-group-2')).toMatchObject({ status: 'pending', attempts: 1, lastError: expect.stringContaining('record refused') });
    // Some deliveries were written down together (then, because one record failed, one by one).
    const sizes = [...byTx.values()].map((ids) => ids.length);
    expect(Math.max(...sizes)).toBeGreaterThanOrEqual(2);
    expect(byTx.size).toBeLessThan(4 + 4);
  });

  it('RetryLater puts a row off without counting an attempt, and it is not retried in the same pass', async () => {
    await enqueue(h.db, [{ dedupeKey: 'rl', kind: 'send', personId, subject: 'rl', card: card('x') }], h.now());
    let calls = 0;
    const slowDown: Sender = { deliver: async () => { calls++; throw new RetryLater(0, 'slow down'); } };
    expect(await drainOutbox(deps(), slowDown)).toEqual({ sent: 0, failed: 0 });
    expect(calls).toBe(1);
    const [row] = await h.db.select().from(outbox).where(eq(outbox.dedupeKey, 'rl'));
    expect(row).toMatchObject({ status: 'pending', attempts: 0, lastError: 'retry later: slow down' });
    expect(row!.nextAttemptAt).toBe(h.now() + 1);
    for (let i = 0; i < 20; i++) {
      h.advance(1000);
      await drainOutbox(deps(), slowDown);
    }
    const [after] = await h.db.select().from(outbox).where(eq(outbox.dedupeKey, 'rl'));
    expect(after).toMatchObject({ status: 'pending', attempts: 0 });
    expect(calls).toBe(21);
    const works: Sender = { deliver: async () => {} };
    h.advance(1000);
    expect(await drainOutbox(deps(), works)).toEqual({ sent: 1, failed: 0 });
  });

  it('RetryLater waits the given delay', async () => {
    await enqueue(h.db, [{ dedupeKey: 'rl2', kind: 'send', personId, subject: 'rl2', card: card('x') }], h.now());
    const later: Sender = { deliver: async () => { throw new RetryLater(30_000); } };
    await drainOutbox(deps(), later);
    const [row] = await h.db.select().from(outbox).where(eq(outbox.dedupeKey, 'rl2'));
    expect(row!.nextAttemptAt).toBe(h.now() + 30_000);
  });

  it('PermanentFailure marks the row failed at once with its reason, and it is never tried again', async () => {
    await enqueue(h.db, [{ dedupeKey: 'pf', kind: 'send', personId, subject: 'pf', card: card('x') }], h.now());
    let calls = 0;
    const refusing: Sender = { deliver: async () => { calls++; throw new PermanentFailure('没有这个人'); } };
    expect(await drainOutbox(deps(), refusing)).toEqual({ sent: 0, failed: 1 });
    const [row] = await h.db.select().from(outbox).where(eq(outbox.dedupeKey, 'pf'));
    expect(row).toMatchObject({ status: 'failed', attempts: 1, lastError: '没有这个人' });
    h.advance(24 * 3600_000);
    await drainOutbox(deps(), refusing);
    expect(calls).toBe(1);
    expect((await failedDeliveries(h.db, 5)).map((f) => [f.subject, f.lastError])).toEqual([['pf', '没有这个人']]);
  });
});
