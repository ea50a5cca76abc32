/**
 * The bot: one entry for every platform. It de-duplicates by event key in the database,
 * resolves the acting person, parses the action against cards/actions.ts and hands it to the
 * flow registered for it. Every failure becomes a toast, never a broken callback.
 */
import { parseAction, type ActionId, type ActionValue } from '../../cards/actions';
import { REFUSAL_TEXT } from '../../cards/messages';
import type { Actor } from '../domain/roles';
import type { FormValues } from '../domain/self-evaluation';
import type { Deps } from '../deps';
import { findActorByIdentity } from '../store/org.repo';
import { claimEvent, releaseEvent, storeReply } from '../store/inbound.repo';
import { exclusive } from '../store/serialize';
import { toast, type InboundEvent, type Reply } from './inbound';

export interface ActionContext<A extends ActionId> {
  readonly deps: Deps;
  readonly actor: Actor;
  readonly value: ActionValue<A>;
  readonly form: FormValues;
  readonly event: InboundEvent;
  readonly now: number;
}

export type ActionHandler<A extends ActionId> = (ctx: ActionContext<A>) => Promise<Reply>;

/** A direct message to the bot: answered through the outbox, not in the HTTP reply. */
export interface InboundMessage {
  readonly platform: InboundEvent['platform'];
  readonly eventKey: string;
  readonly actorExternalId: string;
  readonly text: string | null;
}

export type MessageHandler = (ctx: { deps: Deps; actor: Actor; message: InboundMessage; now: number }) => Promise<void>;

export interface Bot {
  on<A extends ActionId>(id: A, handler: ActionHandler<A>): void;
  onMessage(handler: MessageHandler): void;
  /**
   * `onLate` receives the real answer when it came after the platform's budget, so the adapter
   * can still update the card (Feishu: delayed update with the callback token).
   */
  handle(event: InboundEvent, opts?: { onLate?: (reply: Reply) => Promise<void> }): Promise<Reply>;
  /** Returns false when the message was a duplicate or came from someone unknown. */
  handleMessage(message: InboundMessage): Promise<boolean>;
}

export function createBot(deps: Deps): Bot {
  const handlers = new Map<string, ActionHandler<ActionId>>();
  let messageHandler: MessageHandler | null = null;

  async function run(event: InboundEvent, now: number): Promise<Reply> {
    const actor = await findActorByIdentity(deps.db, event.platform, event.actorExternalId);
    if (!actor) return toast('error', REFUSAL_TEXT.unknown_person);
    const parsed = parseAction(event.actionId, event.value);
    if (!parsed.ok) return toast('error', REFUSAL_TEXT[parsed.error]);
    const handler = handlers.get(parsed.action.id);
    if (!handler) return toast('error', REFUSAL_TEXT.unknown_action);
    return handler({ deps, actor, value: parsed.action.value as never, form: event.form, event, now });
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
      const claim = await exclusive(deps.db, () => claimEvent(deps.db, key, message.platform, now));
      if (!claim.first) return false;
      const actor = await findActorByIdentity(deps.db, message.platform, message.actorExternalId);
      if (!actor || !messageHandler) {
        deps.log.info('message from an unknown person ignored', { platform: message.platform });
        return false;
      }
      try {
        await messageHandler({ deps, actor, message, now });
        return true;
      } catch (error) {
        deps.log.error('message handling failed', { error: error instanceof Error ? error.stack ?? error.message : String(error) });
        await exclusive(deps.db, () => releaseEvent(deps.db, key)).catch(() => {});
        throw error;
      }
    },
    async handle(event, opts = {}) {
      const now = deps.clock();
      const key = `${event.platform}:${event.eventKey}`;
      const claim = await exclusive(deps.db, () => claimEvent(deps.db, key, event.platform, now));
      if (!claim.first) return (claim.reply as Reply | null) ?? toast('info', REFUSAL_TEXT.duplicate);

      let finished = false;
      const work = run(event, now).then(
        async (reply) => {
          // Duplicates get the toast again; the card was already answered the first time
          // (storing every card would make each click write kilobytes more).
          await exclusive(deps.db, () => storeReply(deps.db, key, reply.toast ? { toast: reply.toast } : {}));
          finished = true;
          return reply;
        },
        async (error: unknown) => {
          deps.log.error('action failed', { action: event.actionId, error: error instanceof Error ? error.stack ?? error.message : String(error) });
          await exclusive(deps.db, () => releaseEvent(deps.db, key)).catch(() => {});
          finished = true;
          return toast('error', REFUSAL_TEXT.internal);
        },
      );
      // Answer within the platform's budget even if the database is slow; the work still completes.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<Reply>((resolve) => {
        timer = setTimeout(() => resolve(toast('info', '已受理，正在处理，请稍后查看卡片')), deps.replyBudgetMs);
      });
      const reply = await Promise.race([work, late]);
      clearTimeout(timer);
      const answeredLate = !finished;
      deps.defer(async () => {
        const final = await work;
        if (answeredLate && opts.onLate && final.card) await opts.onLate(final);
      });
      return reply;
    },
  };
}
