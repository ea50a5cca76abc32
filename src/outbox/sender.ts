/**
 * The sender loop's one pass: due outbox rows are delivered through the person's platform and
 * marked sent. Delivery is idempotent per row (the local platform keys messages by outbox id,
 * Feishu by the send uuid), so a crash between delivery and marking never duplicates.
 */
import type { CardSpec } from '../../cards/kit';
import type { Deps } from '../deps';
import { dueOutbox, markAttemptFailed, markSent, type OutboxRow } from '../store/outbox.repo';
import { exclusive } from '../store/serialize';

export interface Delivery {
  readonly row: OutboxRow;
  readonly card: CardSpec;
}

/** A platform's outbound side. */
export interface Sender {
  deliver(d: Delivery, now: number): Promise<void>;
}

export const MAX_ATTEMPTS = 8;

export async function drainOutbox(deps: Deps, sender: Sender, opts: { batch?: number } = {}): Promise<{ sent: number; failed: number }> {
  let sent = 0;
  let failed = 0;
  for (;;) {
    const now = deps.clock();
    const rows = await dueOutbox(deps.db, now, opts.batch ?? 50);
    if (rows.length === 0) break;
    for (const row of rows) {
      const card = (row.payload as { card: CardSpec }).card;
      try {
        await sender.deliver({ row, card }, now);
        await exclusive(deps.db, () => markSent(deps.db, row.id, deps.clock()));
        sent++;
      } catch (e) {
        failed++;
        deps.log.error('delivery failed', { outboxId: row.id, error: String(e) });
        await exclusive(deps.db, () => markAttemptFailed(deps.db, row, String(e), deps.clock(), MAX_ATTEMPTS));
      }
    }
  }
  return { sent, failed };
}

/**
 * Runs drains one at a time: a kick while a drain runs schedules exactly one more pass, so
 * rows enqueued meanwhile are not left waiting for the next interval.
 */
export function createOutboxPump(deps: Deps, sender: Sender) {
  let running: Promise<void> | null = null;
  let again = false;
  const pass = async (): Promise<void> => {
    do {
      again = false;
      await drainOutbox(deps, sender).catch((e) => deps.log.error('outbox drain failed', { error: String(e) }));
    } while (again);
  };
  return {
    kick(): Promise<void> {
      if (running) {
        again = true;
        return running;
      }
      running = pass().finally(() => {
        running = null;
      });
      return running;
    },
  };
}
