import type { Deps } from '../deps';
import type { Delivery, Sender } from '../outbox/sender';
import { identityOf } from '../store/org.repo';

/**
 * Delivers each card where its person is: on Feishu when they have a Feishu account mapped,
 * otherwise in the local simulator (so a partly mapped office still works).
 */
export function createRoutingSender(deps: Pick<Deps, 'db'>, senders: { local: Sender; feishu?: Sender }): Sender {
  return {
    async deliver(d: Delivery, now: number) {
      if (senders.feishu && (await identityOf(deps.db, d.row.personId, 'feishu'))) return senders.feishu.deliver(d, now);
      return senders.local.deliver(d, now);
    },
  };
}
