/** Ledger repository on a temporary libSQL file: entries created set-based, submit/return, targets. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, asc, eq } from 'drizzle-orm';
import type { Client } from '@libsql/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditLog, campaigns, ledgerAssignments, ledgerEntries, people, roles, schemes, units } from '../../db/schema';
import { createDb } from '../../db/client';
import { loadLedgerTemplates } from '../../db/seed/demo';
import type { LedgerFile } from '../domain/ledger';
import type { Actor } from '../domain/roles';
import { openDatabase } from '../runtime/open-db';
import type { Db } from './db';
import {
  assignLedger,
  deactivateLedgerAssignments,
  ensureLedgerEntries,
  installLedgerDefinition,
  ledgerCompletion,
  ledgerTargets,
  ledgerTasksOf,
  loadLedgerEntry,
  returnLedgerEntry,
  submitLedgerEntry,
} from './ledger.repo';
import { writeTransaction } from './serialize';

const DAY = 24 * 60 * 60 * 1000;
/** 2026-11-30 09:00 Asia/Shanghai. */
const T0 = Date.UTC(2026, 10, 30, 1, 0, 0);
/** 09:00 Asia/Shanghai of a date. */
const at = (date: string) => Date.parse(`${date}T09:00:00+08:00`);

let templates: Map<string, LedgerFile>;
let db: Db;
let client: Client;
let close: () => void;
let dir: string;

beforeEach(async () => {
  templates ??= new Map((await loadLedgerTemplates()).map((l) => [l.code, l]));
  dir = mkdtempSync(join(tmpdir(), 'lvzhi-ledger-'));
  ({ db, client, close } = await openDatabase({ DATABASE_URL: `file:${join(dir, 'test.db')}` }));
});
afterEach(() => {
  close();
  rmSync(dir, { recursive: true, force: true });
});

const template = (code: string) => {
  const t = templates.get(code);
  if (!t) throw new Error(`no template ${code}`);
  return t;
};

/** Units with a filler and a head each, in bulk. */
async function addUnits(n: number, groups: readonly string[] = ['公益一类', '公益二类']) {
  const ids: number[] = [];
  for (let start = 0; start < n; start += 500) {
    const batch = Array.from({ length: Math.min(500, n - start) }, (_, i) => start + i);
    const us = await db.insert(units).values(batch.map((i) => ({ code: `U${i}`, name: `单位${i}`, groupName: groups[i % groups.length]!, createdAt: T0 }))).returning({ id: units.id });
    const ps = await db.insert(people).values(us.flatMap((u, i) => [
      { name: `填报员${batch[i]}`, mobile: `139${String(batch[i]).padStart(8, '0')}`, unitId: u.id, createdAt: T0 },
      { name: `负责人${batch[i]}`, mobile: `137${String(batch[i]).padStart(8, '0')}`, unitId: u.id, createdAt: T0 },
    ])).returning({ id: people.id, unitId: people.unitId });
    await db.insert(roles).values(ps.map((p, i) => ({ personId: p.id, role: i % 2 === 0 ? ('filler' as const) : ('unit_head' as const), unitId: p.unitId, campaignId: null, createdAt: T0 })));
    ids.push(...us.map((u) => u.id));
  }
  return ids;
}

async function install(code: string, unitIds: readonly number[], now = T0, campaignId: number | null = null) {
  return writeTransaction(db, async (tx) => {
    const { id } = await installLedgerDefinition(tx, template(code), now);
    await assignLedger(tx, { definitionId: id, unitIds, campaignId }, now);
    return id;
  });
}

const ensure = (now: number) => writeTransaction(db, (tx) => ensureLedgerEntries(tx, now));

/** The client, counting the statements sent through it (directly, batched or in a transaction). */
function counting(inner: Client) {
  let n = 0;
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(t, prop) {
        const v: unknown = Reflect.get(t, prop, t);
        if (typeof v !== 'function') return v;
        if (prop === 'execute') return (...args: unknown[]) => (n++, v.apply(t, args));
        if (prop === 'batch') return (...args: unknown[]) => ((n += (args[0] as unknown[]).length), v.apply(t, args));
        if (prop === 'transaction') return async (...args: unknown[]) => wrap(await v.apply(t, args));
        return v.bind(t);
      },
    });
  /** The statements since the last call. */
  const take = () => {
    const k = n;
    n = 0;
    return k;
  };
  return { client: wrap(inner), take };
}
const entries = () => db.select().from(ledgerEntries).orderBy(asc(ledgerEntries.id));

async function fillerOf(unitId: number): Promise<Actor> {
  const [p] = await db.select().from(people).innerJoin(roles, eq(roles.personId, people.id)).where(and(eq(roles.unitId, unitId), eq(roles.role, 'filler')));
  if (!p) throw new Error('no filler');
  return { personId: p.people.id, name: p.people.name, roles: [{ role: 'filler', unitId, campaignId: null }] };
}

describe('ensureLedgerEntries', () => {
  it('creates one entry per active assignment and period, and nothing more when run again', async () => {
    const [u1, u2, u3] = await addUnits(3);
    const hazard = await install('safety-hazard-monthly-report', [u1!, u2!, u3!], T0 - 90 * DAY);
    const registration = await install('laiwu-registration-supervision', [u1!, u2!], T0);
    await writeTransaction(db, (tx) => deactivateLedgerAssignments(tx, { definitionId: hazard, unitIds: [u3!] }, T0));

    // Hazard (assigned in September): October, still open, and November for two units; registration (assigned today): November only.
    expect(await ensure(T0)).toEqual({ created: 6 });
    const rows = (await entries()).map((e) => [e.definitionId, e.unitId, e.period, e.dueDate, e.status, e.revision]);
    expect(rows).toEqual(expect.arrayContaining([
      [hazard, u1, '2026-10', '2026-10-25', 'pending', 0], [hazard, u2, '2026-10', '2026-10-25', 'pending', 0],
      [hazard, u1, '2026-11', '2026-11-25', 'pending', 0], [hazard, u2, '2026-11', '2026-11-25', 'pending', 0],
      [registration, u1, '2026-11', '2026-12-05', 'pending', 0], [registration, u2, '2026-11', '2026-12-05', 'pending', 0],
    ]));
    expect(rows).toHaveLength(6);

    expect(await ensure(T0)).toEqual({ created: 0 });
    expect(await ensure(T0 + 3600_000)).toEqual({ created: 0 });
    // A new month: December's entries, once.
    expect(await ensure(T0 + DAY)).toEqual({ created: 4 });
    expect(await ensure(T0 + DAY)).toEqual({ created: 0 });
    const periods = (await entries()).map((e) => `${e.definitionId}:${e.unitId}:${e.period}`);
    expect(new Set(periods).size).toBe(periods.length);
  });

  it('creates the 1月5日 report of the previous half year for an assignment made before it is due', async () => {
    const [u1] = await addUnits(1);
    await install('safety-duty-report', [u1!], at('2027-01-02'));
    await ensure(at('2027-01-02'));
    expect((await entries()).map((e) => [e.period, e.dueDate])).toEqual([['2026-H2', '2027-01-05'], ['2027-H1', '2027-07-05']]);
  });

  it('gives a new assignment the current period but no overdue backlog', async () => {
    const [u1] = await addUnits(1);
    await install('safety-duty-report', [u1!], at('2027-01-06'));
    await ensure(at('2027-01-06'));
    expect((await entries()).map((e) => e.period)).toEqual(['2027-H1']);
  });

  it('keeps one assignment per ledger, unit and campaign, standing ones included', async () => {
    const [u1] = await addUnits(1);
    const [scheme] = await db.insert(schemes).values({ code: 's', name: 's', definition: {}, createdAt: T0 }).returning({ id: schemes.id });
    const [campaign] = await db.insert(campaigns).values({ schemeId: scheme!.id, name: 'c', year: 2026, createdAt: T0 }).returning({ id: campaigns.id });
    const id = await install('safety-hazard-monthly-report', [u1!]);
    const again = await writeTransaction(db, (tx) => assignLedger(tx, { definitionId: id, unitIds: [u1!, u1!] }, T0));
    expect(again).toEqual({ assigned: 0 });
    const forCampaign = await writeTransaction(db, (tx) => assignLedger(tx, { definitionId: id, unitIds: [u1!], campaignId: campaign!.id }, T0));
    expect(forCampaign).toEqual({ assigned: 1 });
    expect(await db.select().from(ledgerAssignments)).toHaveLength(2);
    // Installing the same file again reuses the definition.
    expect(await writeTransaction(db, (tx) => installLedgerDefinition(tx, template('safety-hazard-monthly-report'), T0))).toEqual({ id, created: false });
  });

  // Set-based, not one statement per unit: the statements are counted, not timed (the time is
  // `npm run bench -- ledgers`).
  it('handles 10,000 units in a few statements', async () => {
    const ids = await addUnits(10_000);
    await install('safety-hazard-monthly-report', ids, T0 - 90 * DAY);
    await install('laiwu-registration-supervision', ids, T0 - 90 * DAY);
    const c = counting(client);
    const counted = createDb(c.client);
    // One read of the ledgers, one insert for every unit and period.
    expect(await writeTransaction(counted, (tx) => ensureLedgerEntries(tx, T0))).toEqual({ created: 40_000 });
    expect(c.take()).toBe(2);
    expect(await writeTransaction(counted, (tx) => ensureLedgerEntries(tx, T0))).toEqual({ created: 0 });
    expect(c.take()).toBe(2);
    const targets = await ledgerTargets(counted, T0);
    const targetStatements = c.take();
    expect(targetStatements).toBeGreaterThan(0);
    expect(targetStatements).toBeLessThanOrEqual(3);
    expect(targets).toHaveLength(40_000);
    expect(targets.every((x) => x.assignees.length === 1 && x.heads.length === 1)).toBe(true);
  }, 120_000);
});

describe('submitting and returning an entry', () => {
  it('submits once from the revision it was loaded at, audited with the values; a stale copy changes nothing', async () => {
    const [u1] = await addUnits(1);
    await install('safety-hazard-monthly-report', [u1!]);
    await ensure(T0);
    const [entry] = await entries();
    const filler = await fillerOf(u1!);
    const loaded = (await loadLedgerEntry(db, entry!.id))!;
    expect(loaded).toMatchObject({ state: { status: 'pending', revision: 0, period: '2026-11', unitId: u1, campaignId: null }, dueDate: '2026-11-25', definition: { code: 'safety-hazard-monthly-report', recurrence: 'monthly' }, unit: { id: u1, name: '单位0' } });

    const values = { inspections: 4, 'hazards-found': 2 };
    const after = await writeTransaction(db, (tx) => submitLedgerEntry(tx, { loaded, values, actor: { id: filler.personId, name: filler.name }, platform: 'local', now: T0 }));
    expect(after).toMatchObject({ state: { status: 'submitted', revision: 1 }, values, submittedAt: T0 });
    // A double click: the same loaded state again.
    expect(await writeTransaction(db, (tx) => submitLedgerEntry(tx, { loaded, values: { inspections: 9 }, actor: { id: filler.personId, name: filler.name }, platform: 'local', now: T0 + 1 }))).toBeNull();
    const stored = (await loadLedgerEntry(db, entry!.id))!;
    expect(stored).toMatchObject({ state: { status: 'submitted', revision: 1 }, values, submittedBy: { id: filler.personId, name: '填报员0' }, submittedAt: T0 });
    const audit = await db.select().from(auditLog).where(eq(auditLog.subjectType, 'ledger_entry'));
    expect(audit.map((a) => [a.action, a.subjectId, a.before, a.after])).toEqual([['ledger.submit', String(entry!.id), { status: 'pending', revision: 0 }, { status: 'submitted', revision: 1, period: '2026-11', values }]]);

    // Returned for changes, then submitted again: the earlier values stay in the trail.
    const returned = await writeTransaction(db, (tx) => returnLedgerEntry(tx, { loaded: stored, comment: '整改率与已整改数不符', actorId: filler.personId, platform: 'local', now: T0 + 2 }));
    expect(returned).toMatchObject({ state: { status: 'returned', revision: 2 }, returnComment: '整改率与已整改数不符' });
    expect(await writeTransaction(db, (tx) => returnLedgerEntry(tx, { loaded: stored, comment: 'x', actorId: filler.personId, platform: 'local', now: T0 + 3 }))).toBeNull();
    const again = await writeTransaction(db, (tx) => submitLedgerEntry(tx, { loaded: returned!, values: { inspections: 5 }, actor: { id: filler.personId, name: filler.name }, platform: 'local', now: T0 + 4 }));
    expect(again).toMatchObject({ state: { status: 'submitted', revision: 3 }, returnComment: null });
    const trail = await db.select().from(auditLog).where(eq(auditLog.subjectType, 'ledger_entry')).orderBy(asc(auditLog.id));
    expect(trail.map((a) => a.action)).toEqual(['ledger.submit', 'ledger.return', 'ledger.submit']);
    expect(trail[2]!.before).toEqual({ status: 'returned', revision: 2, values });
  });
});

describe('reading entries', () => {
  it('gives the reminder planner every open entry not yet submitted, with the unit and its people', async () => {
    const [u1, u2] = await addUnits(2);
    const hazard = await install('safety-hazard-monthly-report', [u1!, u2!]);
    await ensure(T0);
    const [e1, e2] = await entries();
    const filler1 = await fillerOf(u1!);
    const [head1] = await db.select({ id: roles.personId }).from(roles).where(and(eq(roles.unitId, u1!), eq(roles.role, 'unit_head')));
    await writeTransaction(db, async (tx) => submitLedgerEntry(tx, { loaded: (await loadLedgerEntry(tx, e2!.id))!, values: {}, actor: { id: filler1.personId, name: '' }, platform: 'local', now: T0 }));

    expect(await ledgerTargets(db, T0)).toEqual([{
      key: `ledger:${e1!.id}`, title: '2026年11月 月度隐患排查治理情况报告', unitId: u1, unitName: '单位0', group: '公益一类', dueDate: '2026-11-25', done: false,
      assignees: [filler1.personId], heads: [head1!.id],
      entryId: e1!.id, definitionId: hazard, definitionCode: 'safety-hazard-monthly-report', period: '2026-11', campaignId: null, status: 'pending', reminderPolicy: null,
    }]);
    expect((await ledgerTasksOf(db, filler1, T0)).map((t) => [t.entryId, t.definitionName, t.period, t.unitName, t.dueDate, t.status])).toEqual([[e1!.id, '月度隐患排查治理情况报告', '2026-11', '单位0', '2026-11-25', 'pending']]);

    // November's entry stays open through December (late), then closes.
    expect((await ledgerTargets(db, at('2026-12-31'))).map((t) => t.period)).toEqual(['2026-11']);
    expect(await ledgerTargets(db, at('2027-01-01'))).toEqual([]);
    // An unassigned unit is no longer chased.
    await writeTransaction(db, (tx) => deactivateLedgerAssignments(tx, { definitionId: hazard, unitIds: [u1!] }, T0));
    expect(await ledgerTargets(db, T0)).toEqual([]);
    expect(await ledgerTasksOf(db, filler1, T0)).toEqual([]);
  });

  it('counts completion by unit and by group', async () => {
    const ids = await addUnits(4);
    const hazard = await install('safety-hazard-monthly-report', ids);
    await install('laiwu-registration-supervision', ids);
    await ensure(T0);
    const nov = (await entries()).filter((e) => e.period === '2026-11');
    for (const e of nov.filter((x) => x.unitId === ids[0] || (x.unitId === ids[1] && x.definitionId === hazard))) {
      await writeTransaction(db, async (tx) => submitLedgerEntry(tx, { loaded: (await loadLedgerEntry(tx, e.id))!, values: {}, actor: { id: 1, name: '' }, platform: 'local', now: T0 }));
    }
    const all = await ledgerCompletion(db, { period: '2026-11' });
    expect([all.total, all.submitted, all.returned, all.pending]).toEqual([8, 3, 0, 5]);
    expect(all.byGroup).toEqual([{ group: '公益一类', total: 4, submitted: 2, returned: 0, pending: 2 }, { group: '公益二类', total: 4, submitted: 1, returned: 0, pending: 3 }]);
    expect(all.byUnit.map((u) => [u.unitId, u.total, u.submitted])).toEqual([[ids[0], 2, 2], [ids[2], 2, 0], [ids[1], 2, 1], [ids[3], 2, 0]]);
    const onlyHazard = await ledgerCompletion(db, { period: '2026-11', definitionId: hazard });
    expect([onlyHazard.total, onlyHazard.submitted]).toEqual([4, 2]);
  });
});
