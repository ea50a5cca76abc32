import type { CardSpec, Tone } from '../../cards/kit';
import type { FormValues } from '../domain/self-evaluation';
import type { Platform } from '../store/org.repo';

/** What every platform adapter turns a card callback into. */
export interface InboundEvent {
  readonly platform: Platform;
  /** The platform's delivery id (Feishu event_id, the simulator's nonce…): handled once. */
  readonly eventKey: string;
  readonly actorExternalId: string;
  readonly actionId: string;
  readonly value: unknown;
  readonly form: FormValues;
  /** The message the acted-on card lives in, when the platform says. */
  readonly messageId?: number;
}

/** The synchronous answer: a toast and the acted-on card re-rendered. */
export interface Reply {
  readonly toast?: { readonly type: Tone; readonly text: string };
  readonly card?: CardSpec;
}

export const toast = (type: Tone, text: string, card?: CardSpec): Reply => (card ? { toast: { type, text }, card } : { toast: { type, text } });
