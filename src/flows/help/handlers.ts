import { buildHelpCard } from '../../../cards/help.card';
import type { CardSpec } from '../../../cards/kit';
import { withLedgerTasks } from '../../../cards/ledger.card';
import { shanghaiDate } from '../../domain/time';
import type { Actor } from '../../domain/roles';
import { toast, type Reply } from '../../bot/inbound';
import type { ActionContext, MessageHandler } from '../../bot/router';
import { enqueue } from '../../store/outbox.repo';
import { exclusive } from '../../store/serialize';
import type { Executor } from '../../store/db';
import { ledgerTasksOf } from '../../store/ledger.repo';
import { openTasks } from '../../store/tasks.repo';

/** The help card for a person: sent in answer to a direct message, refreshed by its button. */
export async function buildHelpFor(db: Executor, actor: Actor, now: number): Promise<CardSpec> {
  const tasks = await openTasks(db, actor);
  const card = buildHelpCard({ name: actor.name, tasks, now });
  // The person's open ledger entries (台账), each with a button that opens it.
  return withLedgerTasks(card, { tasks: await ledgerTasksOf(db, actor, now), otherTodo: tasks.filter((t) => t.kind !== 'progress').length, today: shanghaiDate(now) });
}

export async function handleShowHelp(ctx: ActionContext<'help.show'>): Promise<Reply> {
  return toast('info', '待办已刷新', await buildHelpFor(ctx.deps.db, ctx.actor, ctx.now));
}

/** Any direct message gets the help card back, once per message. */
export const handleDirectMessage: MessageHandler = async ({ deps, actor, message, now }) => {
  const card = await buildHelpFor(deps.db, actor, now);
  await exclusive(deps.db, () =>
    enqueue(deps.db, [{ dedupeKey: `help:${message.platform}:${message.eventKey}`, kind: 'send', personId: actor.personId, subject: 'help', card }], now),
  );
};
