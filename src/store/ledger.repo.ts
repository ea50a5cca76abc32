/**
 * Ledgers (台账) in the database: definitions installed from ledger files, assignments to
 * units, one entry per assignment and period. Entries are created set-based by the daily
 * scheduler run (idempotent), submitted by the unit's filler and returned by an evaluator,
 * each change checked against the revision the card was built on and audited in the same
 * transaction. The reminder planner reads `ledgerTargets`.
 */
import { and, asc, eq, gte, lte, sql, type SQL } from 'drizzle-orm';
import { ledgerAssignments, ledgerDefinitions, ledgerEntries, people, units } from '../../db/schema';
import {
  entriesToEnsure,
  openPeriods,
  periodLabel,
  RECURRENCES,
  type DueRule,
  type LedgerAspect,
  type LedgerEntryState,
  type LedgerEntryStatus,
  type LedgerFile,
  type LedgerValues,
  type Recurrence,
} from '../domain/ledger';
import type { Actor } from '../domain/roles';
import { endOfShanghaiDay, shanghaiDate } from '../domain/time';
import { appendAudit, type AuditSource } from './audit.repo';
import type { Executor } from './db';
import { prepared } from './prepared';

const chunks = <T>(xs: readonly T[], n: number): T[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));

/** One query, one text cell: rows built as JSON by SQLite and parsed once (fast at 10,000 units). */
export async function jsonRows<T>(db: Executor, query: SQL): Promise<T[]> {
  const rows = await db.values<[string | null]>(sql`SELECT json_group_array(json(r)) FROM (${query})`);
  return JSON.parse(rows[0]?.[0] ?? '[]') as T[];
}

/** `period IN (…)`: the open periods of every recurrence at a date (two each). */
function openPeriodList(date: string): SQL {
  const keys = RECURRENCES.flatMap((r) => openPeriods(r, date));
  return sql.join(keys.map((k) => sql`${k}`), sql`, `);
}

// ---------------------------------------------------------------------------- definitions and assignments

/** Stores a validated ledger file; one already stored (same code and version) is reused. */
export async function installLedgerDefinition(db: Executor, ledger: LedgerFile, now: number): Promise<{ id: number; created: boolean }> {
  const existing = await db
    .select({ id: ledgerDefinitions.id })
    .from(ledgerDefinitions)
    .where(and(eq(ledgerDefinitions.code, ledger.code), eq(ledgerDefinitions.version, ledger.version)))
    .limit(1);
  if (existing[0]) return { id: existing[0].id, created: false };
  const [row] = await db
    .insert(ledgerDefinitions)
    .values({
      code: ledger.code, version: ledger.version, name: ledger.name, description: ledger.description, recurrence: ledger.recurrence,
      due: ledger.due, fields: ledger.aspects, reminderPolicy: ledger.reminderPolicy ?? null, createdAt: now,
    })
    .returning({ id: ledgerDefinitions.id });
  if (!row) throw new Error('ledger definition not stored');
  return { id: row.id, created: true };
}

export async function ledgerDefinitionByCode(db: Executor, code: string): Promise<{ id: number; version: number; name: string } | null> {
  const rows = await db
    .select({ id: ledgerDefinitions.id, version: ledgerDefinitions.version, name: ledgerDefinitions.name })
    .from(ledgerDefinitions)
    .where(eq(ledgerDefinitions.code, code))
    .orderBy(sql`${ledgerDefinitions.version} DESC`)
    .limit(1);
  return rows[0] ?? null;
}

/**
 * Assigns a ledger to units (standing when campaignId is null). Existing assignments are
 * re-activated, not duplicated. Returns how many were new. Call inside a write transaction.
 */
export async function assignLedger(
  db: Executor,
  args: { definitionId: number; unitIds: readonly number[]; campaignId?: number | null; actorId?: number | null },
  now: number,
): Promise<{ assigned: number }> {
  const campaignId = args.campaignId ?? null;
  let assigned = 0;
  for (const part of chunks([...new Set(args.unitIds)], 500)) {
    const inserted = await db
      .insert(ledgerAssignments)
      .values(part.map((unitId) => ({ definitionId: args.definitionId, unitId, campaignId, active: true, createdAt: now })))
      .onConflictDoNothing()
      .returning({ id: ledgerAssignments.id });
    assigned += inserted.length;
    await db
      .update(ledgerAssignments)
      .set({ active: true })
      .where(and(
        eq(ledgerAssignments.definitionId, args.definitionId),
        campaignId === null ? sql`${ledgerAssignments.campaignId} IS NULL` : eq(ledgerAssignments.campaignId, campaignId),
        sql`${ledgerAssignments.unitId} IN (${sql.join(part.map((u) => sql`${u}`), sql`, `)})`,
        eq(ledgerAssignments.active, false),
      ));
  }
  await appendAudit(db, { at: now, actorId: args.actorId ?? null, platform: 'cli', action: 'ledger.assign', subjectType: 'ledger_definition', subjectId: args.definitionId, after: { units: args.unitIds.length, assigned, campaignId } });
  return { assigned };
}

/** Stops new entries for these units (their entries are kept). */
export async function deactivateLedgerAssignments(db: Executor, args: { definitionId: number; unitIds: readonly number[]; actorId?: number | null }, now: number): Promise<number> {
  let changed = 0;
  for (const part of chunks([...new Set(args.unitIds)], 500)) {
    const rows = await db
      .update(ledgerAssignments)
      .set({ active: false })
      .where(and(eq(ledgerAssignments.definitionId, args.definitionId), eq(ledgerAssignments.active, true), sql`${ledgerAssignments.unitId} IN (${sql.join(part.map((u) => sql`${u}`), sql`, `)})`))
      .returning({ id: ledgerAssignments.id });
    changed += rows.length;
  }
  await appendAudit(db, { at: now, actorId: args.actorId ?? null, platform: 'cli', action: 'ledger.unassign', subjectType: 'ledger_definition', subjectId: args.definitionId, after: { deactivated: changed } });
  return changed;
}

// ---------------------------------------------------------------------------- entries

/** Created entries have no end: the latest an assignment could have been made. */
const ALWAYS = Number.MAX_SAFE_INTEGER;

/**
 * Creates the entries that should exist at `now` (src/domain/ledger.ts entriesToEnsure) for
 * every active assignment: one read of the definitions in use, one INSERT … SELECT whatever
 * the number of units. Idempotent (the (assignment, period) key absorbs repeats), so the
 * scheduler may run it every day and after downtime. Call inside a write transaction.
 */
export async function ensureLedgerEntries(db: Executor, now: number): Promise<{ created: number }> {
  const date = shanghaiDate(now);
  const defs = await db
    .selectDistinct({ id: ledgerDefinitions.id, recurrence: ledgerDefinitions.recurrence, due: ledgerDefinitions.due })
    .from(ledgerDefinitions)
    .innerJoin(ledgerAssignments, and(eq(ledgerAssignments.definitionId, ledgerDefinitions.id), eq(ledgerAssignments.active, true)));
  const wanted = defs.flatMap((d) =>
    entriesToEnsure(d, date).map((e) => sql`(${d.id}, ${e.period}, ${e.dueDate}, ${e.assignedBy === null ? ALWAYS : (endOfShanghaiDay(e.assignedBy) ?? ALWAYS)})`),
  );
  if (wanted.length === 0) return { created: 0 };
  // The WHERE clause also tells SQLite's parser that ON CONFLICT is an upsert, not a join's ON.
  const result = await db.run(sql`
    WITH wanted(definition_id, period, due_date, assigned_by) AS (VALUES ${sql.join(wanted, sql`, `)})
    INSERT INTO ledger_entries (assignment_id, definition_id, unit_id, period, due_date, status, "values", revision, created_at)
    SELECT a.id, a.definition_id, a.unit_id, w.period, w.due_date, 'pending', '{}', 0, ${now}
    FROM ledger_assignments a JOIN wanted w ON w.definition_id = a.definition_id
    WHERE a.active = 1 AND a.created_at <= w.assigned_by
    ON CONFLICT DO NOTHING`);
  return { created: result.rowsAffected };
}

export interface LedgerDefinitionView {
  id: number;
  code: string;
  version: number;
  name: string;
  description: string;
  recurrence: Recurrence;
  due: DueRule;
  aspects: LedgerAspect[];
  reminderPolicy: unknown;
}

export interface LoadedLedgerEntry {
  state: LedgerEntryState;
  assignmentId: number;
  dueDate: string;
  values: LedgerValues;
  submittedBy: { id: number; name: string } | null;
  submittedAt: number | null;
  returnComment: string | null;
  definition: LedgerDefinitionView;
  unit: { id: number; name: string; groupName: string };
}

/** An entry with its definition and unit, in one round trip (this runs on every click). */
export async function loadLedgerEntry(db: Executor, entryId: number): Promise<LoadedLedgerEntry | null> {
  const query = prepared(db, 'loadLedgerEntry', (d) =>
    d
      .select({
        e: ledgerEntries,
        campaignId: ledgerAssignments.campaignId,
        def: ledgerDefinitions,
        unit: { id: units.id, name: units.name, groupName: units.groupName },
        submitterName: people.name,
      })
      .from(ledgerEntries)
      .innerJoin(ledgerAssignments, eq(ledgerAssignments.id, ledgerEntries.assignmentId))
      .innerJoin(ledgerDefinitions, eq(ledgerDefinitions.id, ledgerEntries.definitionId))
      .innerJoin(units, eq(units.id, ledgerEntries.unitId))
      .leftJoin(people, eq(people.id, ledgerEntries.submittedBy))
      .where(eq(ledgerEntries.id, sql.placeholder('id')))
      .limit(1)
      .prepare(),
  );
  const row = (await query.all({ id: entryId }))[0];
  if (!row) return null;
  const { e, def } = row;
  return {
    state: { id: e.id, unitId: e.unitId, campaignId: row.campaignId, period: e.period, status: e.status, revision: e.revision },
    assignmentId: e.assignmentId,
    dueDate: e.dueDate,
    values: e.values,
    submittedBy: e.submittedBy !== null ? { id: e.submittedBy, name: row.submitterName ?? '' } : null,
    submittedAt: e.submittedAt,
    returnComment: e.returnComment,
    definition: {
      id: def.id, code: def.code, version: def.version, name: def.name, description: def.description,
      recurrence: def.recurrence, due: def.due, aspects: def.fields, reminderPolicy: def.reminderPolicy,
    },
    unit: row.unit,
  };
}

/**
 * Records a submission if the entry is still at the revision the card was built on and not
 * already submitted; otherwise writes nothing and returns null (a double click or a stale
 * card). The audit row keeps the values before and after. Call inside a write transaction.
 */
export async function submitLedgerEntry(
  db: Executor,
  args: { loaded: LoadedLedgerEntry; values: LedgerValues; actor: { id: number; name: string }; platform: AuditSource; now: number },
): Promise<LoadedLedgerEntry | null> {
  const { loaded, values, actor, now } = args;
  const s = loaded.state;
  const updated = await db
    .update(ledgerEntries)
    .set({ status: 'submitted', values, revision: s.revision + 1, submittedBy: actor.id, submittedAt: now, returnComment: null })
    .where(and(eq(ledgerEntries.id, s.id), eq(ledgerEntries.revision, s.revision), sql`${ledgerEntries.status} <> 'submitted'`))
    .returning({ id: ledgerEntries.id });
  if (updated.length === 0) return null;
  await appendAudit(db, {
    at: now, actorId: actor.id, platform: args.platform, action: 'ledger.submit', subjectType: 'ledger_entry', subjectId: s.id,
    before: { status: s.status, revision: s.revision, ...(s.status === 'returned' ? { values: loaded.values } : {}) },
    after: { status: 'submitted', revision: s.revision + 1, period: s.period, values },
  });
  return {
    ...loaded,
    state: { ...s, status: 'submitted', revision: s.revision + 1 },
    values,
    submittedBy: actor,
    submittedAt: now,
    returnComment: null,
  };
}

/** Sends a submitted entry back to the filler, with the revision check and audit of a submit. */
export async function returnLedgerEntry(
  db: Executor,
  args: { loaded: LoadedLedgerEntry; comment: string; actorId: number; platform: AuditSource; now: number },
): Promise<LoadedLedgerEntry | null> {
  const { loaded, comment, actorId, now } = args;
  const s = loaded.state;
  const updated = await db
    .update(ledgerEntries)
    .set({ status: 'returned', revision: s.revision + 1, returnComment: comment })
    .where(and(eq(ledgerEntries.id, s.id), eq(ledgerEntries.revision, s.revision), eq(ledgerEntries.status, 'submitted')))
    .returning({ id: ledgerEntries.id });
  if (updated.length === 0) return null;
  await appendAudit(db, {
    at: now, actorId, platform: args.platform, action: 'ledger.return', subjectType: 'ledger_entry', subjectId: s.id,
    before: { status: s.status, revision: s.revision },
    after: { status: 'returned', revision: s.revision + 1, comment },
  });
  return { ...loaded, state: { ...s, status: 'returned', revision: s.revision + 1 }, returnComment: comment };
}

// ---------------------------------------------------------------------------- people

type Grant = { unitId: number; campaignId: number | null; role: 'filler' | 'unit_head'; id: number; name: string };

/** Whose a unit's entry is: grants for the assignment's campaign, or standing ones. */
function peopleFor(grants: readonly Grant[], campaignId: number | null) {
  const pick = (role: Grant['role']) => {
    const seen = new Set<number>();
    return grants.filter((g) => g.role === role && (g.campaignId === null || g.campaignId === campaignId) && !seen.has(g.id) && seen.add(g.id)).map((g) => ({ id: g.id, name: g.name }));
  };
  return { fillers: pick('filler'), heads: pick('unit_head') };
}

const grantsQuery = (unitFilter: SQL) => sql`
  SELECT json_array(r.unit_id, r.campaign_id, r.role, p.id, p.name) AS r
  FROM roles r JOIN people p ON p.id = r.person_id
  WHERE r.role IN ('filler', 'unit_head') AND r.unit_id IN (${unitFilter})
  ORDER BY p.id`;

async function grantsOf(db: Executor, unitFilter: SQL): Promise<Map<number, Grant[]>> {
  const rows = await jsonRows<[number, number | null, Grant['role'], number, string]>(db, grantsQuery(unitFilter));
  const byUnit = new Map<number, Grant[]>();
  for (const [unitId, campaignId, role, id, name] of rows) {
    const list = byUnit.get(unitId) ?? [];
    list.push({ unitId, campaignId, role, id, name });
    byUnit.set(unitId, list);
  }
  return byUnit;
}

/** The fillers and heads an entry concerns (for refreshing their cards). */
export async function ledgerPeople(db: Executor, scope: { unitId: number; campaignId: number | null }) {
  const grants = await grantsOf(db, sql`${scope.unitId}`);
  return peopleFor(grants.get(scope.unitId) ?? [], scope.campaignId);
}

// ---------------------------------------------------------------------------- reading for reminders, 我的待办 and summaries

/** What the reminder planner needs of an open, not yet submitted entry (a ReminderTarget, src/domain/reminders.ts). */
export interface LedgerTarget {
  /** `ledger:${entryId}` */
  key: string;
  /** "2026年11月 月度隐患排查治理情况报告" */
  title: string;
  unitId: number;
  unitName: string;
  group: string;
  /** Nominal 'YYYY-MM-DD'. */
  dueDate: string;
  done: false;
  /** Person ids of the unit's fillers. */
  assignees: number[];
  /** Person ids of the unit's heads. */
  heads: number[];
  entryId: number;
  definitionId: number;
  definitionCode: string;
  period: string;
  campaignId: number | null;
  status: Exclude<LedgerEntryStatus, 'submitted'>;
  /** The definition's policy overrides as stored (null = the defaults). */
  reminderPolicy: unknown;
}

const openEntriesQuery = (date: string, extra: SQL = sql``) => sql`
  FROM ledger_entries e
  JOIN ledger_assignments a ON a.id = e.assignment_id
  JOIN ledger_definitions d ON d.id = e.definition_id
  JOIN units u ON u.id = e.unit_id
  WHERE e.status <> 'submitted' AND a.active = 1 AND e.period IN (${openPeriodList(date)})${extra}`;

/**
 * Every entry not yet submitted (pending or returned) whose period is open at `now`, oldest
 * due first, with the people to remind: two queries whatever the number of units.
 */
export async function ledgerTargets(db: Executor, now: number): Promise<LedgerTarget[]> {
  const date = shanghaiDate(now);
  const rows = await jsonRows<[number, number, string, string, string, number, string, string, unknown, number | null, string, string]>(db, sql`
    SELECT json_array(e.id, e.unit_id, e.period, e.due_date, e.status, e.definition_id, d.code, d.name, json(d.reminder_policy), a.campaign_id, u.name, u.group_name) AS r
    ${openEntriesQuery(date)}
    ORDER BY e.due_date, e.id`);
  if (rows.length === 0) return [];
  const grants = await grantsOf(db, sql`SELECT e.unit_id ${openEntriesQuery(date)}`);
  return rows.map(([entryId, unitId, period, dueDate, status, definitionId, definitionCode, name, reminderPolicy, campaignId, unitName, group]) => {
    const { fillers, heads } = peopleFor(grants.get(unitId) ?? [], campaignId);
    return {
      key: `ledger:${entryId}`, title: `${periodLabel(period)} ${name}`, unitId, unitName, group, dueDate, done: false as const,
      assignees: fillers.map((p) => p.id), heads: heads.map((p) => p.id),
      entryId, definitionId, definitionCode, period, campaignId, status: status as LedgerTarget['status'], reminderPolicy: reminderPolicy ?? null,
    };
  });
}

export interface LedgerTask {
  entryId: number;
  definitionName: string;
  period: string;
  unitName: string;
  dueDate: string;
  status: Exclude<LedgerEntryStatus, 'submitted'>;
}

/** The open entries a person fills in (for 我的待办), oldest due first. */
export async function ledgerTasksOf(db: Executor, actor: Actor, now: number): Promise<LedgerTask[]> {
  const grants = actor.roles.filter((g) => g.role === 'filler' && g.unitId !== null);
  if (grants.length === 0) return [];
  const unitIds = [...new Set(grants.map((g) => g.unitId as number))];
  const rows = await jsonRows<[number, string, string, string, string, string, number, number | null]>(db, sql`
    SELECT json_array(e.id, d.name, e.period, u.name, e.due_date, e.status, e.unit_id, a.campaign_id) AS r
    ${openEntriesQuery(shanghaiDate(now), sql` AND e.unit_id IN (${sql.join(unitIds.map((u) => sql`${u}`), sql`, `)})`)}
    ORDER BY e.due_date, e.id`);
  return rows
    .filter(([, , , , , , unitId, campaignId]) => grants.some((g) => g.unitId === unitId && (g.campaignId === null || g.campaignId === campaignId)))
    .map(([entryId, definitionName, period, unitName, dueDate, status]) => ({ entryId, definitionName, period, unitName, dueDate, status: status as LedgerTask['status'] }));
}

export interface LedgerCompletion {
  period: string;
  total: number;
  submitted: number;
  returned: number;
  pending: number;
  byGroup: Array<{ group: string; total: number; submitted: number; returned: number; pending: number }>;
  byUnit: Array<{ unitId: number; unitName: string; group: string; total: number; submitted: number; returned: number; pending: number }>;
}

/** Completion of one period's entries by unit and by group (组别), optionally of one ledger or one campaign. */
export async function ledgerCompletion(db: Executor, args: { period: string; definitionId?: number; campaignId?: number | null }): Promise<LedgerCompletion> {
  const filters: SQL[] = [sql`e.period = ${args.period}`];
  if (args.definitionId !== undefined) filters.push(sql`e.definition_id = ${args.definitionId}`);
  if (args.campaignId !== undefined) filters.push(args.campaignId === null ? sql`a.campaign_id IS NULL` : sql`a.campaign_id = ${args.campaignId}`);
  const rows = await jsonRows<[number, string, string, number, number, number]>(db, sql`
    SELECT json_array(e.unit_id, u.name, u.group_name, count(*), sum(e.status = 'submitted'), sum(e.status = 'returned')) AS r
    FROM ledger_entries e JOIN ledger_assignments a ON a.id = e.assignment_id JOIN units u ON u.id = e.unit_id
    WHERE ${sql.join(filters, sql` AND `)}
    GROUP BY e.unit_id, u.name, u.group_name
    ORDER BY u.group_name, e.unit_id`);
  const byUnit = rows.map(([unitId, unitName, group, total, submitted, returned]) => ({ unitId, unitName, group, total, submitted, returned, pending: total - submitted - returned }));
  const groups = new Map<string, LedgerCompletion['byGroup'][number]>();
  for (const u of byUnit) {
    const g = groups.get(u.group) ?? { group: u.group, total: 0, submitted: 0, returned: 0, pending: 0 };
    g.total += u.total;
    g.submitted += u.submitted;
    g.returned += u.returned;
    g.pending += u.pending;
    groups.set(u.group, g);
  }
  const sum = (k: 'total' | 'submitted' | 'returned' | 'pending') => byUnit.reduce((a, u) => a + u[k], 0);
  return { period: args.period, total: sum('total'), submitted: sum('submitted'), returned: sum('returned'), pending: sum('pending'), byGroup: [...groups.values()], byUnit };
}

/** Every entry due between two local dates (inclusive), submitted or not: what a 月小结 / 季大结 counts. */
export async function ledgerEntriesDueBetween(db: Executor, from: string, to: string): Promise<Array<{ entryId: number; definitionName: string; period: string; unitId: number; unitName: string; group: string; dueDate: string; submitted: boolean }>> {
  const rows = await db
    .select({ entryId: ledgerEntries.id, definitionName: ledgerDefinitions.name, period: ledgerEntries.period, unitId: units.id, unitName: units.name, group: units.groupName, dueDate: ledgerEntries.dueDate, status: ledgerEntries.status })
    .from(ledgerEntries)
    .innerJoin(ledgerDefinitions, eq(ledgerDefinitions.id, ledgerEntries.definitionId))
    .innerJoin(units, eq(units.id, ledgerEntries.unitId))
    .where(and(gte(ledgerEntries.dueDate, from), lte(ledgerEntries.dueDate, to)))
    .orderBy(asc(ledgerEntries.dueDate), asc(units.id));
  return rows.map(({ status, ...r }) => ({ ...r, submitted: status === 'submitted' }));
}
