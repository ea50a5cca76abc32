import { sql } from 'drizzle-orm';
import { sqliteTable, integer, text, uniqueIndex, index } from 'drizzle-orm/sqlite-core';
import type { DueRule, LedgerAspect, LedgerValues, Recurrence } from '../../src/domain/ledger';
import { campaigns } from './campaign';
import { people, units } from './org';

/**
 * 台账: a ledger a unit keeps all year (a monthly hidden-danger report, the registration
 * supervision ledger…), installed from a ledger file (src/domain/ledger.ts), reusable across
 * years. `due` and `aspects` are the file's validated due rule and items.
 */
export const ledgerDefinitions = sqliteTable('ledger_definitions', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  code: text('code').notNull(),
  version: integer('version').notNull().default(1),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  recurrence: text('recurrence', { enum: ['monthly', 'quarterly', 'half-yearly', 'yearly'] }).$type<Recurrence>().notNull(),
  /** The due rule: { day, offsetMonths? } | { dates: ["MM-DD"…] } | { monthDay, offsetYears? } (src/domain/ledger.ts). */
  due: text('due', { mode: 'json' }).$type<DueRule>().notNull(),
  /** The items (id, label, kind, required, options, unit, hint…) grouped into aspects (方面). */
  fields: text('fields', { mode: 'json' }).$type<LedgerAspect[]>().notNull(),
  /** Overrides of the reminder policy (src/domain/reminders.ts) for this ledger; null = the defaults. */
  reminderPolicy: text('reminder_policy', { mode: 'json' }),
  createdAt: integer('created_at').notNull(),
}, (t) => [uniqueIndex('ledger_definitions_code_version_uq').on(t.code, t.version)]);

/** A ledger a unit must keep, standing (no campaign) or for one campaign. */
export const ledgerAssignments = sqliteTable('ledger_assignments', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  definitionId: integer('definition_id').notNull().references(() => ledgerDefinitions.id),
  unitId: integer('unit_id').notNull().references(() => units.id),
  campaignId: integer('campaign_id').references(() => campaigns.id),
  /** An inactive assignment gets no new entries; its entries are kept. */
  active: integer('active', { mode: 'boolean' }).notNull().default(true),
  createdAt: integer('created_at').notNull(),
}, (t) => [
  // SQLite treats NULLs as distinct in a unique index, so a standing assignment (no campaign)
  // has its own partial index.
  uniqueIndex('ledger_assignments_uq').on(t.definitionId, t.unitId, t.campaignId).where(sql`${t.campaignId} is not null`),
  uniqueIndex('ledger_assignments_standing_uq').on(t.definitionId, t.unitId).where(sql`${t.campaignId} is null`),
  index('ledger_assignments_unit_idx').on(t.unitId),
]);

/** One occurrence of an assignment: the record for one period. */
export const ledgerEntries = sqliteTable('ledger_entries', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  assignmentId: integer('assignment_id').notNull().references(() => ledgerAssignments.id),
  definitionId: integer('definition_id').notNull().references(() => ledgerDefinitions.id),
  unitId: integer('unit_id').notNull().references(() => units.id),
  /** '2026-11' (monthly), '2026-Q4', '2026-H2', '2026' (yearly). */
  period: text('period').notNull(),
  /** Nominal 'YYYY-MM-DD' (Asia/Shanghai); the reminder planner moves a holiday to the next working day. */
  dueDate: text('due_date').notNull(),
  status: text('status', { enum: ['pending', 'submitted', 'returned'] }).notNull().default('pending'),
  /** Field id → answer, as the last submission gave them (earlier ones are in the audit log). */
  values: text('values', { mode: 'json' }).$type<LedgerValues>().notNull(),
  /** Bumped on every change: an action carries the revision it was made on (stale card = refused). */
  revision: integer('revision').notNull().default(0),
  submittedBy: integer('submitted_by').references(() => people.id),
  submittedAt: integer('submitted_at'),
  /** Why an evaluator returned it, shown to the filler. */
  returnComment: text('return_comment'),
  createdAt: integer('created_at').notNull(),
}, (t) => [
  uniqueIndex('ledger_entries_uq').on(t.assignmentId, t.period),
  index('ledger_entries_status_due_idx').on(t.status, t.dueDate),
  index('ledger_entries_period_idx').on(t.period, t.definitionId),
  index('ledger_entries_unit_idx').on(t.unitId, t.status),
  // The evaluators' 待查阅的台账: submitted entries, newest submissions first.
  index('ledger_entries_status_submitted_idx').on(t.status, t.submittedAt),
]);
