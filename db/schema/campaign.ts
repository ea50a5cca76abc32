import { sqliteTable, integer, text, uniqueIndex, primaryKey } from 'drizzle-orm/sqlite-core';
import { schemes } from './scheme';
import { units } from './org';

/** 年度评估: a scheme applied to a set of units for a year. */
export const campaigns = sqliteTable('campaigns', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  schemeId: integer('scheme_id').notNull().references(() => schemes.id),
  name: text('name').notNull(),
  year: integer('year').notNull(),
  status: text('status', { enum: ['draft', 'running', 'closed'] }).notNull().default('running'),
  /** Reminder policy overrides for every stage and ledger of this campaign; null = the defaults. */
  reminderPolicy: text('reminder_policy', { mode: 'json' }),
  createdAt: integer('created_at').notNull(),
});

export const campaignUnits = sqliteTable('campaign_units', {
  campaignId: integer('campaign_id').notNull().references(() => campaigns.id),
  unitId: integer('unit_id').notNull().references(() => units.id),
}, (t) => [primaryKey({ columns: [t.campaignId, t.unitId] })]);

/** The stages of a campaign in order, each with its window and state. */
export const campaignStages = sqliteTable('campaign_stages', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  campaignId: integer('campaign_id').notNull().references(() => campaigns.id),
  stage: text('stage', { enum: ['notice', 'self_evaluation', 'on_site', 'rating', 'report', 'rectification', 'grading'] }).notNull(),
  ordinal: integer('ordinal').notNull(),
  status: text('status', { enum: ['pending', 'open', 'closed'] }).notNull().default('pending'),
  openedAt: integer('opened_at'),
  dueAt: integer('due_at'),
  closedAt: integer('closed_at'),
  /** Overrides of the reminder policy for this stage (src/domain/reminders.ts); null = the defaults. */
  reminderPolicy: text('reminder_policy', { mode: 'json' }),
}, (t) => [uniqueIndex('campaign_stages_uq').on(t.campaignId, t.stage)]);
