/**
 * The Feishu outbound side: an outbox row becomes one or more Feishu cards sent to the
 * person's open_id (a send) or PATCHed over their latest card on the subject (an update).
 *
 * Exactly once on the receiving side: each card part is sent with a uuid derived from the
 * outbox row (`lvzhi-<outboxId>-<createdAt base36>-<part>`, ≤ 50 chars), so a retry after a
 * lost answer or a crash before the row was marked sent gets the same message back from
 * Feishu (uuid de-dupes for 1 h) instead of a second card; and a row whose message is
 * already recorded is not sent again at all. createdAt is in the uuid so that outbox ids
 * reused after a database reset do not collide with an hour-old uuid.
 *
 * Every call waits for the rate limiter first (keyed by the receiver). Feishu's answers map
 * onto the outbox: rate_limited → RetryLater (not an attempt), permanent → PermanentFailure
 * (row failed at once), transient → a normal failed attempt with backoff.
 *
 * Each call reports to the limiter when it went out and when its answer came, so the limiter
 * counts it when Feishu can have seen it, not when it was scheduled; and the first call of a
 * sender reads from the outbox what was sent in the last minute (by a process that has just
 * died, say), so a restart does not open with a burst into Feishu's still-full windows.
 *
 * A rate limit holds more than the refused call. The gateway's 429 (99991400, per API × app,
 * with x-ogw-ratelimit-reset) pauses every call of that API for the app until the reset, in
 * the limiter all senders share, and the drain stops offering cards to it; the IM API's
 * 230020 (per receiving user, or per message for a PATCH) pauses only that person.
 */
import type { CardSpec } from '../../../cards/kit';
import type { Deps } from '../../deps';
import { PermanentFailure, RetryLater, type Delivery, type DeliveryRecord, type Sender } from '../../outbox/sender';
import type { RateLimiter } from '../../outbox/rate-limit';
import { latestMessage, recordDelivered, replaceMessageCard, type OutboxPayload, type OutboxRow } from '../../store/outbox.repo';
import { setMessageDelivery } from '../../store/outbox-status.repo';
import { sentSince } from '../../store/outbox-history.repo';
import { identityOf } from '../../store/org.repo';
import { FeishuError, type FeishuClient } from './client';

export const NOT_BOUND = '未绑定飞书账号';

export interface FeishuSenderOptions {
  /** Renders a neutral card to one or more Feishu cards (JSON 2.0). */
  render: (spec: CardSpec) => unknown[];
  limiter: RateLimiter;
  /** The limiter's clock, paired with `sleep`; only differences matter (default performance.now(), as the default sleep is real). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /**
   * How many calls a process that stopped just before this one may have had answered but not
   * yet recorded (its drain's concurrency); counted as made when this sender starts (default 16).
   */
  unrecordedAtStart?: number;
}

/** How far back the outbox is read when a sender starts: Feishu's longest window, a minute, and a second more. */
const HISTORY_MS = 61_000;

/** Limiters already told about the calls made before their first sender started (once each: a Worker builds a sender per request). */
const remembering = new WeakMap<RateLimiter, Promise<void>>();

/** The send uuid of part `part` of an outbox row: stable across retries and restarts. */
export function sendUuid(row: Pick<OutboxRow, 'id' | 'createdAt'>, part: number): string {
  return `lvzhi-${row.id}-${row.createdAt.toString(36)}-${part}`;
}

const PLATFORM = 'feishu' as const;
/** The IM API's own frequency limit (per receiving user; per message for a PATCH): HTTP 400, no reset header. */
const PER_USER_LIMITED = 230020;
const SEND = 'im.message.create';
const PATCH = 'im.message.patch';
/** Limiter pause scopes: one API for the whole app, or one receiver. */
const appScope = (api: string) => `feishu-api:${api}`;
const personScope = (key: string) => `feishu-user:${key}`;
/** Message ids of a multi-part card are stored comma-joined in messages.external_id. */
const joinIds = (ids: readonly string[]) => ids.join(',');
const splitIds = (s: string | null) => (s ? s.split(',').filter(Boolean) : []);

export function createFeishuSender(deps: Pick<Deps, 'db' | 'log' | 'clock'>, client: Pick<FeishuClient, 'sendCard' | 'patchCard' | 'urgent'>, opts: FeishuSenderOptions): Sender {
  const now = opts.now ?? (() => performance.now());
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  const { limiter } = opts;
  // Throws RetryLater while Feishu has asked this API (for the whole app) or this person to wait.
  const checkPaused = (key: string, api: string) => {
    const t = now();
    const app = limiter.pausedUntil(appScope(api), t);
    const person = limiter.pausedUntil(personScope(key), t);
    if (app > t) throw new RetryLater(app - t, `feishu paused ${api} for the app`, { appWide: true });
    if (person > t) throw new RetryLater(person - t, `feishu paused sending to ${key}`);
  };

  const rememberEarlierCalls = async () => {
    try {
      const wall = deps.clock();
      const t = now();
      const sent = await sentSince(deps.db, PLATFORM, wall - HISTORY_MS);
      const unrecorded = Array.from({ length: opts.unrecordedAtStart ?? 16 }, () => ({ atMs: t }));
      limiter.remember([...sent.map((r) => ({ key: r.externalId, atMs: t - (wall - r.sentAt) })), ...unrecorded]);
    } catch (e) {
      // Not knowing them risks a 429 at worst, which is handled: send anyway.
      deps.log.error('feishu sender could not read the recent sends', { error: e instanceof Error ? e.message : String(e) });
    }
  };
  const remembered = () => {
    let done = remembering.get(limiter);
    if (!done) remembering.set(limiter, (done = rememberEarlierCalls()));
    return done;
  };

  const paced = async <T>(key: string, api: string, run: () => Promise<T>): Promise<T> => {
    await remembered();
    checkPaused(key, api);
    const asked = now();
    const slot = limiter.reserve(key, asked);
    if (slot.waitMs > 0) {
      // A timer can fire early on a busy event loop (its clock is read once per turn), and the
      // limiter counts on no call going before its slot: sleep again until the slot has come.
      for (let before = asked, left = slot.waitMs; left > 0; ) {
        await sleep(left);
        const t = now();
        // A clock that does not move with the sleep (a test's fixed clock) would never get there.
        if (t === before) break;
        before = t;
        left = asked + slot.waitMs - t;
      }
      // A pause may have begun while this call waited for its turn.
      checkPaused(key, api);
    }
    slot.sent(now());
    try {
      return await run();
    } catch (e) {
      if (!(e instanceof FeishuError)) throw e;
      if (e.kind === 'rate_limited') {
        const delayMs = (e.resetSeconds ?? 1) * 1000;
        if (e.code === PER_USER_LIMITED) {
          limiter.pause(personScope(key), now() + delayMs);
          throw new RetryLater(delayMs, e.message);
        }
        limiter.pause(appScope(api), now() + delayMs);
        throw new RetryLater(delayMs, e.message, { appWide: true });
      }
      if (e.kind === 'permanent') throw new PermanentFailure(`飞书拒绝: ${e.message}`);
      throw e;
    } finally {
      slot.answered(now());
    }
  };

  const render = (card: CardSpec): unknown[] => {
    let parts: unknown[];
    try {
      parts = opts.render(card);
    } catch (e) {
      throw new PermanentFailure(`卡片无法转换为飞书卡片: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (parts.length === 0) throw new PermanentFailure('卡片转换结果为空');
    return parts;
  };

  // A pending row was never recorded (record and status commit together); if the process died
  // after Feishu accepted a card, the same uuid makes Feishu return that message, not a new one.
  const send = async (row: OutboxRow, card: CardSpec, openId: string, at: number): Promise<DeliveryRecord> => {
    const ids: string[] = [];
    const parts = render(card);
    for (const [i, part] of parts.entries()) {
      const { messageId } = await paced(openId, SEND, () => client.sendCard(openId, part, sendUuid(row, i)));
      ids.push(messageId);
    }
    const urgent = (row.payload as OutboxPayload).urgent;
    if (urgent && ids[0]) {
      // 加急 is on top of the card: if it is refused (no permission, no SMS quota), the card is
      // still delivered and recorded, and the refusal is logged rather than retried.
      try {
        const { invalidIds } = await paced(openId, `im.message.urgent_${urgent}`, () => client.urgent(ids[0]!, urgent, [openId]));
        if (invalidIds.length > 0) deps.log.error('feishu urgent refused for some users', { outboxId: row.id, invalidIds });
      } catch (e) {
        deps.log.error('feishu urgent failed', { outboxId: row.id, kind: urgent, error: e instanceof Error ? e.message : String(e) });
      }
    }
    return (tx) => recordDelivered(tx, { platform: PLATFORM, personId: row.personId, subject: row.subject, outboxId: row.id, card, externalId: joinIds(ids) }, at);
  };

  const update = async (row: OutboxRow, card: CardSpec, openId: string | null, at: number): Promise<DeliveryRecord | void> => {
    // An update refreshes the person's latest card on the subject; none yet means nothing to refresh.
    const existing = await latestMessage(deps.db, PLATFORM, row.personId, row.subject);
    const oldIds = splitIds(existing?.externalId ?? null);
    if (!existing || oldIds.length === 0) return;
    const key = openId ?? `person:${row.personId}`;
    const parts = render(card);
    for (let i = 0; i < Math.min(parts.length, oldIds.length); i++) await paced(key, PATCH, () => client.patchCard(oldIds[i]!, parts[i]));
    if (parts.length > oldIds.length && openId) {
      // The new card needs more parts than were sent: the extra ones go out as new messages.
      const added: string[] = [];
      for (let i = oldIds.length; i < parts.length; i++) added.push((await paced(openId, SEND, () => client.sendCard(openId, parts[i], sendUuid(row, i)))).messageId);
      return (tx) => setMessageDelivery(tx, existing.id, joinIds([...oldIds, ...added]), card, at);
    }
    if (parts.length < oldIds.length) deps.log.info('feishu update has fewer parts than the sent card; the surplus parts are left as they were', { outboxId: row.id, sent: oldIds.length, now: parts.length });
    return (tx) => replaceMessageCard(tx, existing.id, card, at);
  };

  return {
    async deliver({ row, card }: Delivery, at: number): Promise<DeliveryRecord | void> {
      const openId = await identityOf(deps.db, row.personId, PLATFORM);
      if (row.kind === 'update') return update(row, card, openId, at);
      if (!openId) throw new PermanentFailure(NOT_BOUND);
      return send(row, card, openId, at);
    },
  };
}
