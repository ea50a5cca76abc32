/** The evaluation office's 待查阅的台账 on a temporary libSQL file: window, status, order, bound, scope. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, eq, inArray } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { campaigns, ledgerEntries, schemes, units } from '../../db/schema';
import { loadLedgerTemplates } from '../../db/seed/demo';
import type { Actor, RoleGrant } from '../domain/roles';
import { openDatabase } from '../runtime/open-db';
import type { Db } from './db';
import { ledgerReviewsOf } from './ledger-review.repo';
import { assignLedger, ensureLedgerEntries, installLedgerDefinition } from './ledger.repo';
import { writeTransaction } from './serialize';

/** 2026-11-30 09:00 Asia/Shanghai. */
const T0 = Date.UTC(2026, 10, 30, 1, 0, 0);
const HOUR = 3_600_000;

let db: Db;
let close: () => void;
let dir: string;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lvzhi-ledger-review-'));
  ({ db, close } = await openDatabase({ DATABASE_URL: `file:${join(dir, 'test.db')}` }));
});
afterEach(() => {
  close();
  rmSync(dir, { recursive: true, force: true });
});

const evaluator = (...grants: Array<Partial<RoleGrant>>): Actor => ({ personId: 1, name: '黄淑芬', roles: grants.map((g) => ({ role: 'evaluator', unitId: null, campaignId: null, ...g })) });

/**
 * `n` units keeping the monthly 隐患 report, standing or for a campaign: their November entries,
 * created and returned in unit order.
 */
async function entriesOf(n: number, campaignId: number | null, from = 0) {
  const hazard = (await loadLedgerTemplates()).find((l) => l.code === 'safety-hazard-monthly-report')!;
  const us = await db.insert(units).values(Array.from({ length: n }, (_, i) => ({ code: `U${from + i}`, name: `单位${from + i}`, groupName: '公益一类', createdAt: T0 }))).returning({ id: units.id });
  await writeTransaction(db, async (tx) => {
    const { id } = await installLedgerDefinition(tx, hazard, T0);
    await assignLedger(tx, { definitionId: id, unitIds: us.map((u) => u.id), campaignId }, T0 - 1);
    await ensureLedgerEntries(tx, T0);
  });
  return db.select().from(ledgerEntries).where(inArray(ledgerEntries.unitId, us.map((u) => u.id))).orderBy(asc(ledgerEntries.unitId));
}

const submit = (entryId: number, at: number, status: 'submitted' | 'returned' = 'submitted') =>
  db.update(ledgerEntries).set({ status, submittedAt: at, submittedBy: null, revision: 1 }).where(eq(ledgerEntries.id, entryId));

async function campaign(name: string) {
  const [scheme] = await db.insert(schemes).values({ code: name, name, definition: {}, createdAt: T0 }).returning({ id: schemes.id });
  const [c] = await db.insert(campaigns).values({ schemeId: scheme!.id, name, year: 2026, createdAt: T0 }).returning({ id: campaigns.id });
  return c!.id;
}

describe('ledgerReviewsOf', () => {
  it('lists entries still submitted since the start of the window, newest first, with their unit, ledger and period', async () => {
    const es = await entriesOf(5, null);
    const since = T0 - 100 * HOUR;
    await submit(es[0]!.id, since - 1); // just before the window
    await submit(es[1]!.id, since); // its first instant
    await submit(es[2]!.id, T0 - HOUR);
    await submit(es[3]!.id, T0 - 2 * HOUR, 'returned'); // back with the unit
    await submit(es[4]!.id, since); // the same instant as es[1]: the later entry first
    const { rows, total } = await ledgerReviewsOf(db, evaluator({}), { since, limit: 20 });
    expect(total).toBe(3);
    expect(rows).toEqual([
      { entryId: es[2]!.id, definitionName: '月度隐患排查治理情况报告', period: '2026-11', unitName: '单位2', submittedAt: T0 - HOUR },
      { entryId: es[4]!.id, definitionName: '月度隐患排查治理情况报告', period: '2026-11', unitName: '单位4', submittedAt: since },
      { entryId: es[1]!.id, definitionName: '月度隐患排查治理情况报告', period: '2026-11', unitName: '单位1', submittedAt: since },
    ]);
  });

  it('returns at most `limit` rows, the newest, and how many there are in all', async () => {
    const es = await entriesOf(25, null);
    for (const [i, e] of es.entries()) await submit(e.id, T0 - i * HOUR);
    const { rows, total } = await ledgerReviewsOf(db, evaluator({}), { since: T0 - 30 * HOUR, limit: 20 });
    expect(total).toBe(25);
    expect(rows.map((r) => r.entryId)).toEqual(es.slice(0, 20).map((e) => e.id));
    expect(await ledgerReviewsOf(db, evaluator({}), { since: T0 + 1, limit: 20 })).toEqual({ rows: [], total: 0 });
  });

  it('scopes by the evaluator grants as opening an entry does; others see nothing', async () => {
    const a = await campaign('甲');
    const b = await campaign('乙');
    const standing = await entriesOf(1, null, 0);
    const ofA = await entriesOf(1, a, 1);
    const ofB = await entriesOf(1, b, 2);
    for (const e of [...standing, ...ofA, ...ofB]) await submit(e.id, T0 - e.id * HOUR);
    const seen = async (actor: Actor) => (await ledgerReviewsOf(db, actor, { since: T0 - 100 * HOUR, limit: 20 })).rows.map((r) => r.entryId).sort();
    expect(await seen(evaluator({}))).toEqual([standing[0]!.id, ofA[0]!.id, ofB[0]!.id].sort());
    expect(await seen(evaluator({ campaignId: a }))).toEqual([ofA[0]!.id]);
    expect(await seen(evaluator({ campaignId: a }, { campaignId: b }))).toEqual([ofA[0]!.id, ofB[0]!.id].sort());
    expect(await seen(evaluator({ campaignId: b }, {}))).toHaveLength(3);
    expect(await seen({ personId: 2, name: '林国栋', roles: [{ role: 'leader', unitId: null, campaignId: null }] })).toEqual([]);
    expect(await seen({ personId: 3, name: '王晓燕', roles: [{ role: 'filler', unitId: standing[0]!.unitId, campaignId: null }] })).toEqual([]);
  });
});
