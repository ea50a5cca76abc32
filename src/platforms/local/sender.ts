import type { Deps } from '../../deps';
import type { Delivery, Sender } from '../../outbox/sender';
import { latestMessage, recordDelivered, replaceMessageCard } from '../../store/outbox.repo';

/** The simulator's "chat server": delivered cards become rows the chat page shows. */
export function createLocalSender(_deps: Pick<Deps, 'db'>): Sender {
  return {
    // Nothing leaves the process: the whole delivery is the record, written with the row's status.
    deliver: async ({ row, card }: Delivery, now: number) => async (tx) => {
      if (row.kind === 'send') {
        await recordDelivered(tx, { platform: 'local', personId: row.personId, subject: row.subject, outboxId: row.id, card }, now);
        return;
      }
      // An update refreshes the person's latest card on that subject; no card yet means nothing to refresh.
      const existing = await latestMessage(tx, 'local', row.personId, row.subject);
      if (existing) await replaceMessageCard(tx, existing.id, card, now);
    },
  };
}
