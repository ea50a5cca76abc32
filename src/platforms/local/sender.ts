import type { Deps } from '../../deps';
import type { Delivery, Sender } from '../../outbox/sender';
import { exclusive } from '../../store/serialize';
import { latestMessage, recordDelivered, replaceMessageCard } from '../../store/outbox.repo';

/** The simulator's "chat server": delivered cards become rows the chat page shows. */
export function createLocalSender(deps: Pick<Deps, 'db'>): Sender {
  return {
    deliver: ({ row, card }: Delivery, now: number) => exclusive(deps.db, async () => {
      if (row.kind === 'send') {
        await recordDelivered(deps.db, { platform: 'local', personId: row.personId, subject: row.subject, outboxId: row.id, card }, now);
        return;
      }
      // An update refreshes the person's latest card on that subject; no card yet means nothing to refresh.
      const existing = await latestMessage(deps.db, 'local', row.personId, row.subject);
      if (existing) await replaceMessageCard(deps.db, existing.id, card, now);
    }),
  };
}
