import { buildHelpCard } from '../../../cards/help.card';
import type { CardSpec } from '../../../cards/kit';
import { withLedgerReviews, withLedgerTasks } from '../../../cards/ledger.card';
import { createCalendar, type WorkCalendar } from '../../domain/calendar';
import { addDays, endOfShanghaiDay, shanghaiDate } from '../../domain/time';
import type { Actor } from '../../domain/roles';
import { toast, type Reply } from '../../bot/inbound';
import type { ActionContext, ActionHandler, MessageHandler } from '../../bot/router';
import { enqueue } from '../../store/outbox.repo';
import { exclusive } from '../../store/serialize';
import type { Db, Executor } from '../../store/db';
import { ledgerReviewsOf } from '../../store/ledger-review.repo';
import { ledgerTasksOf } from '../../store/ledger.repo';
import { openTasks, openTasksQuery, tasksFor } from '../../store/tasks.repo';

/** The working-day calendar the review window counts with (built once per process). */
const CALENDAR = createCalendar();

/**
 * How far back the evaluation office's 待查阅的台账 reaches: two working weeks, whatever a
 * ledger's recurrence (a yearly one does not linger for a year, a late resubmission of an old
 * period still shows), and at most this many rows on the card.
 */
export const REVIEW_WINDOW_WORKDAYS = 10;
export const REVIEW_ROWS = 20;

/** The first instant of the last `workdays` working days up to `now` (today counts when it is one). */
export function reviewWindowStart(now: number, workdays = REVIEW_WINDOW_WORKDAYS, calendar: WorkCalendar = CALENDAR): number {
  const today = shanghaiDate(now);
  const last = calendar.isWorkday(today) ? today : calendar.addWorkdays(today, -1);
  const end = endOfShanghaiDay(calendar.addWorkdays(last, -(workdays - 1)));
  if (end === null) throw new Error('calendar gave an invalid date');
  return addDays(end, -1) + 1;
}

/**
 * The help card for a person: sent in answer to a direct message, refreshed by its button.
 * `tasksRead` is openTasksQuery's result when it was read already (in the click's first batch).
 */
export async function buildHelpFor(db: Executor, actor: Actor, now: number, tasksRead?: unknown): Promise<CardSpec> {
  const tasks = tasksRead === undefined ? await openTasks(db, actor) : tasksFor(actor, tasksRead);
  const card = buildHelpCard({ name: actor.name, tasks, now });
  // The person's open ledger entries (台账), each with a button that opens it.
  const withTasks = withLedgerTasks(card, { tasks: await ledgerTasksOf(db, actor, now), otherTodo: tasks.filter((t) => t.kind !== 'progress').length, today: shanghaiDate(now) });
  // An evaluator's: the entries submitted lately, to read and return if need be (no query for anyone else).
  if (!actor.roles.some((g) => g.role === 'evaluator')) return withTasks;
  const reviews = await ledgerReviewsOf(db, actor, { since: reviewWindowStart(now), limit: REVIEW_ROWS });
  return withLedgerReviews(withTasks, { reviews: reviews.rows, total: reviews.total, windowDays: REVIEW_WINDOW_WORKDAYS });
}

/** The 我的待办 button. The open tasks are read with the claim (one round trip); the ledger rows depend on the roles. */
export const handleShowHelp: ActionHandler<'help.show'> = Object.assign(
  async (ctx: ActionContext<'help.show'>): Promise<Reply> => toast('info', '待办已刷新', await buildHelpFor(ctx.deps.db, ctx.actor, ctx.now, ctx.preloaded?.[0])),
  { preload: (db: Db) => [openTasksQuery(db)] },
);

/** Any direct message gets the help card back, once per message. */
export const handleDirectMessage: MessageHandler = async ({ deps, actor, message, now }) => {
  const card = await buildHelpFor(deps.db, actor, now);
  await exclusive(deps.db, () =>
    enqueue(deps.db, [{ dedupeKey: `help:${message.platform}:${message.eventKey}`, kind: 'send', personId: actor.personId, subject: 'help', card }], now),
  );
};
