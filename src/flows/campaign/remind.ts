/**
 * 催办: the evaluator or a leader presses "提醒逾期单位" on the progress card; every filler of a
 * unit whose 自评 is late gets a reminder now. Once a day per person and unit (the outbox key
 * carries the date), so a second press, a double click or a replay sends nothing more.
 */
import { encodeAction } from '../../../cards/actions';
import { REFUSAL_TEXT } from '../../../cards/messages';
import { buildReminderCard } from '../../../cards/reminder.card';
import { toast, type Reply } from '../../bot/inbound';
import type { ActionContext } from '../../bot/router';
import { lateTargets } from '../../domain/reminders';
import { shanghaiDate } from '../../domain/time';
import { appendAudit } from '../../store/audit.repo';
import { getPerson } from '../../store/org.repo';
import { enqueue, existingDedupeKeys, type OutboundMessage } from '../../store/outbox.repo';
import { stageTargets } from '../../store/reminders.repo';
import { writeTransaction } from '../../store/serialize';
import { CALENDAR, buildConsoleCard, consoleAudience } from './console';

export async function handleRemindLate(ctx: ActionContext<'campaign.remind-late'>): Promise<Reply> {
  const { deps, actor, value, now } = ctx;
  const audience = consoleAudience(actor, value.campaignId);
  if (!audience) return toast('error', REFUSAL_TEXT.forbidden);
  const late = lateTargets({ now, calendar: CALENDAR, targets: await stageTargets(deps.db, { campaignId: value.campaignId }) });
  const card = await buildConsoleCard(deps.db, value.campaignId, audience, now);
  if (late.length === 0) return toast('info', '目前没有逾期未完成的单位', card ?? undefined);
  const by = (await getPerson(deps.db, actor.personId))?.name ?? '';
  const date = shanghaiDate(now);
  const messages: OutboundMessage[] = late.flatMap((l) =>
    l.target.assignees.map((personId) => ({
      dedupeKey: `nudge:${l.targetKey}:${personId}:${date}`, kind: 'send' as const, personId, subject: `remind:${l.targetKey}`,
      card: buildReminderCard({
        kind: 'manual', title: l.title, unitName: l.unitName, due: l.effectiveDue, workdaysLeft: 0, overdueWorkdays: l.overdueWorkdays, toHead: false, by,
        ...('evaluationId' in l.target && typeof l.target.evaluationId === 'number' ? { open: encodeAction('self-eval.open', { evaluationId: l.target.evaluationId }) } : {}),
      }),
    })),
  );
  const fresh = await writeTransaction(deps.db, async (tx) => {
    const already = await existingDedupeKeys(tx, messages.map((m) => m.dedupeKey));
    const todo = messages.filter((m) => !already.has(m.dedupeKey));
    if (todo.length === 0) return todo;
    await enqueue(tx, todo, now);
    await appendAudit(tx, { at: now, actorId: actor.personId, platform: ctx.event.platform, action: 'campaign.remind_late', subjectType: 'campaign', subjectId: value.campaignId, before: null, after: { units: [...new Set(todo.map((m) => m.subject))].length, people: todo.length } });
    return todo;
  });
  if (fresh.length === 0) return toast('info', '今天已提醒过这些单位，未重复发送', card ?? undefined);
  const units = new Set(fresh.map((m) => m.subject)).size;
  return toast('success', `已提醒 ${units} 个逾期单位的 ${fresh.length} 名填报人员`, card ?? undefined);
}
