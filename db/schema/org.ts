import { sqliteTable, integer, text, uniqueIndex, index } from 'drizzle-orm/sqlite-core';

/** A public institution (事业单位) or department taking part in evaluations. */
export const units = sqliteTable('units', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  code: text('code').notNull().unique(),
  name: text('name').notNull(),
  /** 组别: the group a unit is ranked in (公益一类, 执法类…). */
  groupName: text('group_name').notNull(),
  /** 主管部门 / 举办单位. */
  supervisingDept: text('supervising_dept').notNull().default(''),
  createdAt: integer('created_at').notNull(),
});

export const people = sqliteTable('people', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  mobile: text('mobile'),
  email: text('email'),
  /** The unit the person works in, if any (evaluators and leaders may have none). */
  unitId: integer('unit_id').references(() => units.id),
  createdAt: integer('created_at').notNull(),
}, (t) => [uniqueIndex('people_mobile_uq').on(t.mobile)]);

/** How a person is known on a chat platform: local simulator, Feishu open_id, DingTalk userId. */
export const identities = sqliteTable('identities', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  personId: integer('person_id').notNull().references(() => people.id),
  platform: text('platform', { enum: ['local', 'feishu', 'dingtalk'] }).notNull(),
  externalId: text('external_id').notNull(),
}, (t) => [
  uniqueIndex('identities_platform_external_uq').on(t.platform, t.externalId),
  uniqueIndex('identities_person_platform_uq').on(t.personId, t.platform),
]);

/**
 * A role a person holds. `campaignId` null means "in every campaign" (e.g. a unit's standing
 * filler); `unitId` null means the role is not tied to a unit (evaluator, leader).
 */
export const roles = sqliteTable('roles', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  personId: integer('person_id').notNull().references(() => people.id),
  role: text('role', { enum: ['filler', 'unit_head', 'dept_reviewer', 'evaluator', 'leader'] }).notNull(),
  unitId: integer('unit_id').references(() => units.id),
  campaignId: integer('campaign_id'),
  createdAt: integer('created_at').notNull(),
}, (t) => [
  uniqueIndex('roles_uq').on(t.personId, t.role, t.unitId, t.campaignId),
  index('roles_unit_idx').on(t.unitId, t.role),
]);
