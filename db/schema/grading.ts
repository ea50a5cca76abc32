import { sqliteTable, integer, text, real, uniqueIndex, primaryKey } from 'drizzle-orm/sqlite-core';
import { campaigns } from './campaign';
import { units, people } from './org';

/**
 * One rater's score on one leaf indicator of one unit. `raterKey` is opaque: `p<personId>` for a
 * named rater, `r<random id>` for an anonymous questionnaire response (never a name or mobile).
 * Re-entering the same key replaces the score.
 */
export const scores = sqliteTable('scores', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  campaignId: integer('campaign_id').notNull().references(() => campaigns.id),
  unitId: integer('unit_id').notNull().references(() => units.id),
  /** The scheme's rater group id (评估主体). */
  raterGroup: text('rater_group').notNull(),
  indicatorCode: text('indicator_code').notNull(),
  raterKey: text('rater_key').notNull(),
  score: real('score').notNull(),
  /** The named rater; null for an anonymous respondent. */
  enteredBy: integer('entered_by').references(() => people.id),
  at: integer('at').notNull(),
}, (t) => [
  // Also serves loading a campaign or a unit's scores (its leading columns).
  uniqueIndex('scores_uq').on(t.campaignId, t.unitId, t.raterGroup, t.indicatorCode, t.raterKey),
]);

/**
 * Derived, never written directly: each unit's scores as the grading engine reads them
 * ({ raterGroup: { indicatorCode: [every rater's score] } }), rebuilt from `scores` in the same
 * transaction as every score write (src/store/grading.repo.ts). Grading 10,000 units then
 * reads 10,000 sheets instead of millions of score rows.
 */
export const scoreSheets = sqliteTable('score_sheets', {
  campaignId: integer('campaign_id').notNull().references(() => campaigns.id),
  unitId: integer('unit_id').notNull().references(() => units.id),
  sheet: text('sheet', { mode: 'json' }).$type<Record<string, Record<string, number[]>>>().notNull(),
  updatedAt: integer('updated_at').notNull(),
}, (t) => [primaryKey({ columns: [t.campaignId, t.unitId] })]);

/** A per-unit fact the grade rules read (死亡人数, D级危房比例, 是否发生重大事故…). */
export const unitFacts = sqliteTable('unit_facts', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  campaignId: integer('campaign_id').notNull().references(() => campaigns.id),
  unitId: integer('unit_id').notNull().references(() => units.id),
  fact: text('fact').notNull(),
  value: text('value', { mode: 'json' }).$type<number | boolean>().notNull(),
  enteredBy: integer('entered_by').references(() => people.id),
  at: integer('at').notNull(),
}, (t) => [uniqueIndex('unit_facts_uq').on(t.campaignId, t.unitId, t.fact)]);

/** Final grades kept across years (from a campaign, or imported from earlier paper records): the multi-year rules read them. */
export const gradeHistory = sqliteTable('grade_history', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  unitId: integer('unit_id').notNull().references(() => units.id),
  schemeCode: text('scheme_code').notNull(),
  year: integer('year').notNull(),
  grade: text('grade').notNull(),
  source: text('source', { enum: ['campaign', 'import'] }).notNull(),
  recordedAt: integer('recorded_at').notNull(),
}, (t) => [uniqueIndex('grade_history_uq').on(t.unitId, t.schemeCode, t.year)]);

export interface IndividualIndicatorItem {
  code: string;
  title: string;
  maxPoints: number;
  scoringGuide: string;
  evidence: string;
}

/**
 * 个性指标方案: the indicators a supervising department drafts for one unit under one
 * individual slot of the scheme, approved or returned by the evaluator. Every version is kept:
 * a new draft after approval or return is the next version.
 */
export const individualIndicatorPlans = sqliteTable('individual_indicator_plans', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  campaignId: integer('campaign_id').notNull().references(() => campaigns.id),
  unitId: integer('unit_id').notNull().references(() => units.id),
  /** The scheme indicator (scope individual) these items fill. */
  slotCode: text('slot_code').notNull(),
  version: integer('version').notNull(),
  status: text('status', { enum: ['draft', 'submitted', 'approved', 'returned'] }).notNull(),
  items: text('items', { mode: 'json' }).$type<IndividualIndicatorItem[]>().notNull(),
  /** Ⅰ/Ⅱ/Ⅲ档 code when the slot is tiered. */
  tier: text('tier'),
  draftedBy: integer('drafted_by').notNull().references(() => people.id),
  decidedBy: integer('decided_by').references(() => people.id),
  comment: text('comment').notNull().default(''),
  createdAt: integer('created_at').notNull(),
  decidedAt: integer('decided_at'),
}, (t) => [uniqueIndex('individual_indicator_plans_uq').on(t.campaignId, t.unitId, t.slotCode, t.version)]);
