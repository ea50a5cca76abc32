import { sqliteTable, integer, text, real, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** 评估方案: the reusable rules of one kind of evaluation. */
export const schemes = sqliteTable('schemes', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  code: text('code').notNull(),
  version: integer('version').notNull().default(1),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  /** The validated scheme file as loaded, kept for rules that later issues read (grades…). */
  definition: text('definition', { mode: 'json' }).notNull(),
  createdAt: integer('created_at').notNull(),
}, (t) => [uniqueIndex('schemes_code_version_uq').on(t.code, t.version)]);

/** The indicator tree as rows: level 1 = 大项, level 2+ = 小项 (parent by code). */
export const indicators = sqliteTable('indicators', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  schemeId: integer('scheme_id').notNull().references(() => schemes.id),
  code: text('code').notNull(),
  parentCode: text('parent_code'),
  level: integer('level').notNull(),
  ordinal: integer('ordinal').notNull(),
  title: text('title').notNull(),
  maxPoints: real('max_points').notNull(),
  /** 评分细则. */
  scoringGuide: text('scoring_guide').notNull().default(''),
  /** 佐证材料: what evidence is required; empty = none required. */
  evidence: text('evidence').notNull().default(''),
  evidenceRequired: integer('evidence_required', { mode: 'boolean' }).notNull().default(false),
  explanationRequired: integer('explanation_required', { mode: 'boolean' }).notNull().default(true),
}, (t) => [uniqueIndex('indicators_scheme_code_uq').on(t.schemeId, t.code)]);
