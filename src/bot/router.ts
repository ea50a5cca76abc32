/**
 * The bot: one entry for every platform. It de-duplicates by platform and event key in the
 * database, resolves the acting person, parses the action against cards/actions.ts and hands it
 * to the flow registered for it. Every failure becomes a toast, never a broken callback.
 */
import { parseAction, type ActionId, type ActionValue } from '../../cards/actions';
import { REFUSAL_TEXT } from '../../cards/messages';
import type { Actor } from '../domain/roles';
import type { FormValues } from '../domain/self-evaluation';
import type { Deps } from '../deps';
import type { Statement } from '../store/batch';
import type { Db, Executor } from '../store/db';
import { claimAction, releaseEvent, storeReply, storeReplyStatement } from '../store/inbound.repo';
import { enqueue } from '../store/outbox.repo';
import { exclusive } from '../store/serialize';
import { toast, type InboundEvent, type Reply } from './inbound';

export interface ActionContext<A extends ActionId> {
  readonly deps: Deps;
  readonly actor: Actor;
  readonly value: ActionValue<A>;
  readonly form: FormValues;
  readonly event: InboundEvent;
  readonly now: number;
  /**
   * The statement that stores `reply` as this event's answer, replayed to redeliveries. A handler
   * that writes puts it in its own write batch and, once that committed, returns this same
   * reply: the router then stores nothing more (one commit per click instead of two).
   */
  readonly replyStatement: (db: Executor, reply: Reply) => Statement;
  /** The results of the handler's `preload`, in order; undefined when it has none. */
  readonly preloaded?: readonly unknown[];
}

export type ActionHandler<A extends ActionId> = ((ctx: ActionContext<A>) => Promise<Reply>) & {
  /**
   * Reads the handler needs, run in the batch that claims the event and finds the actor: a
   * click's reads are then one round trip, its write the second (docs/flows.md).
   */
  readonly preload?: (db: Db, value: ActionValue<A>) => readonly Statement[];
};

/** A direct message to the bot: answered through the outbox, not in the HTTP reply. */
export interface InboundMessage {
  readonly platform: InboundEvent['platform'];
  readonly eventKey: string;
  readonly actorExternalId: string;
  readonly text: string | null;
}

export type MessageHandler = (ctx: { deps: Deps; actor: Actor; message: InboundMessage; now: number }) => Promise<void>;

export interface HandleOptions {
  /** When the request arrived (deps.clock() units): the reply budget counts from here. */
  readonly arrivedAt?: number;
  /**
   * Receives the real answer when it came after the platform's budget and carries a card, so the
   * adapter can still update the card (Feishu: delayed update with the callback token). Without
   * it, or if it fails, the card is sent to the person through the outbox.
   */
  readonly onLate?: (reply: Reply) => Promise<void>;
}

export interface Bot {
  on<A extends ActionId>(id: A, handler: ActionHandler<A>): void;
  onMessage(handler: MessageHandler): void;
  handle(event: InboundEvent, opts?: HandleOptions): Promise<Reply>;
  /** Returns false when the message was a duplicate or came from someone unknown. */
  handleMessage(message: InboundMessage): Promise<boolean>;
}

/** What handling an action came to; `actor` is set when a handler ran. */
interface Outcome {
  readonly reply: Reply;
  readonly actor?: Actor;
}

export const ACCEPTED_TEXT = '已受理，正在处理，请稍后查看卡片';

const errorText = (error: unknown) => (error instanceof Error ? error.stack ?? error.message : String(error));

/**
 * What is kept of an answer for redeliveries: the toast. The card was answered the first time
 * (storing every card would make each click write kilobytes more).
 */
const storedForm = (reply: Reply) => (reply.toast ? { toast: reply.toast } : {});

/** Resolves with the outcome, or null if `ms` passed first; `work` must not reject. */
function withinBudget(work: Promise<Outcome>, ms: number): Promise<Outcome | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), Math.max(0, ms));
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

export function createBot(deps: Deps): Bot {
  const handlers = new Map<string, ActionHandler<ActionId>>();
  let messageHandler: MessageHandler | null = null;

  /** Claim (in the database, so a redelivery is answered from there) and run; never rejects. */
  async function claimAndRun(event: InboundEvent, key: string, now: number): Promise<Outcome> {
    const parsed = parseAction(event.actionId, event.value);
    const handler = parsed.ok ? handlers.get(parsed.action.id) : undefined;
    const value = parsed.ok ? (parsed.action.value as never) : undefined;
    let claim: Awaited<ReturnType<typeof claimAction>>;
    try {
      // The claim, the actor and the handler's reads in one batch: one round trip.
      const reads = handler?.preload && value !== undefined ? handler.preload(deps.db, value) : [];
      claim = await exclusive(deps.db, () => claimAction(deps.db, key, event.platform, event.actorExternalId, now, reads));
    } catch (error) {
      // A database that refuses writes (read-only, locked past the retries): nothing was done.
      deps.log.error('event claim failed', { action: event.actionId, error: errorText(error) });
      return { reply: toast('error', REFUSAL_TEXT.internal) };
    }
    if (!claim.first) return { reply: (claim.reply as Reply | null) ?? toast('info', REFUSAL_TEXT.duplicate) };
    let outcome: Outcome;
    let storedWithWrite: Reply | null = null;
    const replyStatement = (db: Executor, reply: Reply) => {
      storedWithWrite = reply;
      return storeReplyStatement(db, key, storedForm(reply));
    };
    const { actor, preloaded } = claim;
    try {
      if (!actor) outcome = { reply: toast('error', REFUSAL_TEXT.unknown_person) };
      else if (!parsed.ok) outcome = { reply: toast('error', REFUSAL_TEXT[parsed.error]) };
      else if (!handler || value === undefined) outcome = { reply: toast('error', REFUSAL_TEXT.unknown_action) };
      else outcome = { reply: await handler({ deps, actor, value, form: event.form, event, now, replyStatement, ...(handler.preload ? { preloaded } : {}) }), actor };
    } catch (error) {
      deps.log.error('action failed', { action: event.actionId, error: errorText(error) });
      await exclusive(deps.db, () => releaseEvent(deps.db, key)).catch(() => {});
      return { reply: toast('error', REFUSAL_TEXT.internal) };
    }
    // Stored already when the handler's write carried it. Otherwise the action itself has taken
    // effect (or changed nothing), so a failure here is logged, not reported as one.
    if (outcome.reply === storedWithWrite) return outcome;
    await exclusive(deps.db, () => storeReply(deps.db, key, storedForm(outcome.reply))).catch((error: unknown) => deps.log.error('storing a reply failed', { error: errorText(error) }));
    return outcome;
  }

  /** The final card of an answer that missed the budget: once, by `onLate` or else the outbox. */
  async function deliverLate(key: string, outcome: Outcome, onLate: HandleOptions['onLate']): Promise<void> {
    const card = outcome.reply.card;
    if (!card || !outcome.actor) return;
    if (onLate) {
      try {
        return await onLate(outcome.reply);
      } catch (error) {
        deps.log.error('late answer not delivered to the card; sending it as a message', { error: errorText(error) });
      }
    }
    const personId = outcome.actor.personId;
    await exclusive(deps.db, () => enqueue(deps.db, [{ dedupeKey: `late:${key}`, kind: 'send', personId, subject: 'late-reply', card }], deps.clock()));
  }

  return {
    on(id, handler) {
      if (handlers.has(id)) throw new Error(`action ${id} registered twice`);
      handlers.set(id, handler as ActionHandler<ActionId>);
    },
    onMessage(handler) {
      messageHandler = handler;
    },
    async handleMessage(message) {
      const now = deps.clock();
      const key = `${message.platform}:${message.eventKey}`;
      const claim = await exclusive(deps.db, () => claimAction(deps.db, key, message.platform, message.actorExternalId, now));
      if (!claim.first) return false;
      const actor = claim.actor;
      if (!actor || !messageHandler) {
        deps.log.info('message from an unknown person ignored', { platform: message.platform });
        return false;
      }
      try {
        await messageHandler({ deps, actor, message, now });
        return true;
      } catch (error) {
        deps.log.error('message handling failed', { error: errorText(error) });
        await exclusive(deps.db, () => releaseEvent(deps.db, key)).catch(() => {});
        throw error;
      }
    },
    async handle(event, opts = {}) {
      // The budget counts from the request's arrival; the claim and the work race it together,
      // so a database held by another process cannot make the answer late.
      const arrivedAt = opts.arrivedAt ?? deps.clock();
      const key = `${event.platform}:${event.eventKey}`;
      const work = claimAndRun(event, key, arrivedAt);
      const inTime = await withinBudget(work, deps.replyBudgetMs - (deps.clock() - arrivedAt));
      if (inTime) return inTime.reply;
      deps.defer(async () => deliverLate(key, await work, opts.onLate));
      return toast('info', ACCEPTED_TEXT);
    },
  };
}
