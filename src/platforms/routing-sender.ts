import type { Deps } from '../deps';
import type { Delivery, OutboxLane, Sender } from '../outbox/sender';
import { identityOf } from '../store/org.repo';

interface PlatformSenders {
  readonly local: Sender;
  readonly feishu?: Sender | undefined;
}

/**
 * Delivers each card where its person is: on Feishu when they have a Feishu account mapped,
 * otherwise in the local simulator (so a partly mapped office still works).
 */
export function createRoutingSender(deps: Pick<Deps, 'db'>, senders: PlatformSenders): Sender {
  return {
    async deliver(d: Delivery, now: number) {
      if (senders.feishu && (await identityOf(deps.db, d.row.personId, 'feishu'))) return senders.feishu.deliver(d, now);
      return senders.local.deliver(d, now);
    },
  };
}

/**
 * One sending lane per platform, each with its own drain loop and concurrency, so a hung or
 * rate-limited Feishu API holds up only the cards of people on Feishu: the simulator's lane
 * takes the rows of everyone without a Feishu account and never calls Feishu. The Feishu
 * lane still routes at delivery, so an account unmapped meanwhile gets the card locally.
 */
export function createPlatformLanes(deps: Pick<Deps, 'db'>, senders: PlatformSenders, concurrency: { local?: number; feishu?: number } = {}): OutboxLane[] {
  const local: OutboxLane = { name: 'local', sender: senders.local, concurrency: concurrency.local };
  if (!senders.feishu) return [local];
  return [
    { name: 'feishu', sender: createRoutingSender(deps, senders), only: { on: 'feishu' }, concurrency: concurrency.feishu },
    { ...local, only: { notOn: ['feishu'] } },
  ];
}
