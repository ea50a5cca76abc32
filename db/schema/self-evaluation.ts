import { sqliteTable, integer, text, real, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { campaigns } from './campaign';
import { units, people } from './org';
import { indicators } from './scheme';

/** One unit's self-evaluation in one campaign; its content lives in versions. */
export const selfEvaluations = sqliteTable('self_evaluations', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  campaignId: integer('campaign_id').notNull().references(() => campaigns.id),
  unitId: integer('unit_id').notNull().references(() => units.id),
  /** draft → submitted (awaiting 签发) → signed (awaiting review) → accepted | returned (→ next version's draft). */
  status: text('status', { enum: ['draft', 'submitted', 'signed', 'accepted'] }).notNull(),
  currentVersion: integer('current_version').notNull(),
  /** Bumped on every change: an action carries the revision it was made on (stale card = refused). */
  revision: integer('revision').notNull().default(0),
  dueAt: integer('due_at'),
  updatedAt: integer('updated_at').notNull(),
}, (t) => [uniqueIndex('self_evaluations_uq').on(t.campaignId, t.unitId)]);

/** Every version is kept: a returned submission is never overwritten, the next one is new. */
export const selfEvaluationVersions = sqliteTable('self_evaluation_versions', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  evaluationId: integer('evaluation_id').notNull().references(() => selfEvaluations.id),
  version: integer('version').notNull(),
  status: text('status', { enum: ['draft', 'submitted', 'signed', 'accepted', 'returned'] }).notNull(),
  /** 自评报告: the written report. */
  report: text('report').notNull().default(''),
  submittedBy: integer('submitted_by').references(() => people.id),
  submittedAt: integer('submitted_at'),
  signedBy: integer('signed_by').references(() => people.id),
  signedAt: integer('signed_at'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
}, (t) => [uniqueIndex('self_evaluation_versions_uq').on(t.evaluationId, t.version)]);

export const selfEvaluationItems = sqliteTable('self_evaluation_items', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  versionId: integer('version_id').notNull().references(() => selfEvaluationVersions.id),
  indicatorId: integer('indicator_id').notNull().references(() => indicators.id),
  claimedScore: real('claimed_score'),
  explanation: text('explanation').notNull().default(''),
  evidenceLinks: text('evidence_links', { mode: 'json' }).$type<string[]>().notNull(),
}, (t) => [uniqueIndex('self_evaluation_items_uq').on(t.versionId, t.indicatorId)]);

/** A decision on a version: the head's 签发 or return, the evaluator's acceptance or return. */
export const reviewDecisions = sqliteTable('review_decisions', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  versionId: integer('version_id').notNull().references(() => selfEvaluationVersions.id),
  reviewerId: integer('reviewer_id').notNull().references(() => people.id),
  stage: text('stage', { enum: ['head', 'evaluator'] }).notNull(),
  decision: text('decision', { enum: ['sign', 'accept', 'return'] }).notNull(),
  comment: text('comment').notNull().default(''),
  /** indicator code → comment. */
  itemComments: text('item_comments', { mode: 'json' }).$type<Record<string, string>>().notNull(),
  decidedAt: integer('decided_at').notNull(),
});
