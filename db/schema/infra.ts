import { sqliteTable, integer, text, index, primaryKey } from 'drizzle-orm/sqlite-core';
import { people } from './org';

/** Inbound events seen, so a re-delivery or a double click is handled once. */
export const inboundEvents = sqliteTable('inbound_events', {
  eventKey: text('event_key').primaryKey(),
  platform: text('platform').notNull(),
  receivedAt: integer('received_at').notNull(),
  /** The answer given the first time, replayed to duplicates. */
  reply: text('reply', { mode: 'json' }),
});

/** Durable outbound queue: every message to a person goes through here, exactly once. */
export const outbox = sqliteTable('outbox', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  dedupeKey: text('dedupe_key').notNull().unique(),
  kind: text('kind', { enum: ['send', 'update'] }).notNull(),
  personId: integer('person_id').notNull().references(() => people.id),
  /** Groups the messages about one thing (e.g. "self-eval:12:review") so an update finds its card. */
  subject: text('subject').notNull(),
  payload: text('payload', { mode: 'json' }).notNull(),
  status: text('status', { enum: ['pending', 'sent', 'failed'] }).notNull().default('pending'),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: integer('next_attempt_at').notNull(),
  lastError: text('last_error'),
  createdAt: integer('created_at').notNull(),
  sentAt: integer('sent_at'),
}, (t) => [index('outbox_due_idx').on(t.status, t.nextAttemptAt)]);

/** Cards delivered to people, per platform; the simulator shows these as a chat. */
export const messages = sqliteTable('messages', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  platform: text('platform').notNull(),
  personId: integer('person_id').notNull().references(() => people.id),
  subject: text('subject').notNull(),
  /** The outbox row that created it: a retried send finds it instead of sending twice. */
  outboxId: integer('outbox_id').unique(),
  externalId: text('external_id'),
  card: text('card', { mode: 'json' }).notNull(),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
}, (t) => [index('messages_person_idx').on(t.personId, t.id), index('messages_subject_idx').on(t.personId, t.subject)]);

/** Append-only trace (痕迹管理) of every state change; triggers in a migration forbid edits. */
export const auditLog = sqliteTable('audit_log', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  at: integer('at').notNull(),
  actorId: integer('actor_id').references(() => people.id),
  action: text('action').notNull(),
  /**
   * Where the action came from: the chat platform of the person acting (local, feishu,
   * dingtalk), or cli / scheduler. Null only on rows written before it was recorded.
   */
  platform: text('platform'),
  subjectType: text('subject_type').notNull(),
  subjectId: text('subject_id').notNull(),
  before: text('before', { mode: 'json' }),
  after: text('after', { mode: 'json' }),
}, (t) => [index('audit_subject_idx').on(t.subjectType, t.subjectId)]);

/**
 * Scheduled job runs, one row per job and slot (e.g. "reminders" / "2026-11-30T09"): a slot is
 * claimed by inserting its row, so two ticks, two instances or a restart run it once. A run
 * left "running" by a crash is taken over after its lease expires; what a run sends goes
 * through the outbox with de-duplication keys, so a re-run never sends twice.
 */
export const jobRuns = sqliteTable('job_runs', {
  job: text('job').notNull(),
  slot: text('slot').notNull(),
  status: text('status', { enum: ['running', 'done', 'failed', 'skipped'] }).notNull(),
  startedAt: integer('started_at').notNull(),
  finishedAt: integer('finished_at'),
  /** A short summary of what the run did (counts), or why it was skipped. */
  result: text('result', { mode: 'json' }),
  error: text('error'),
}, (t) => [primaryKey({ columns: [t.job, t.slot] })]);
