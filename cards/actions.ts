import { z } from 'zod';
import type { ActionRef } from './kit';

/**
 * The action-id contract "<flow>.<verb>", shared by card builders (which encode) and the
 * router (which parses). Every value carries what the action needs to find its subject and
 * the revision the card was built on, so a stale or replayed card is recognised.
 */
// Values come back from platforms as numbers or digit strings; nothing else is coerced
// (Number('') is 0, Number(true) is 1: a tampered card must not pass as revision 0).
const digits = z.union([z.number(), z.string().regex(/^\d{1,15}$/).transform(Number)]);
const id = digits.pipe(z.number().int().positive());
const rev = digits.pipe(z.number().int().min(0));

const versionRef = z.object({ evaluationId: id, version: id, rev });

export const ActionSchemas = {
  'campaign.open-self-eval': z.object({ campaignId: id }),
  'campaign.progress': z.object({ campaignId: id }),
  'campaign.remind-late': z.object({ campaignId: id }),
  'self-eval.open': z.object({ evaluationId: id }),
  'help.show': z.object({}),
  'self-eval.save': versionRef,
  'self-eval.submit': versionRef,
  'self-eval.sign': versionRef,
  'self-eval.head-return': versionRef,
  'self-eval.accept': versionRef,
  'self-eval.return': versionRef,
  'ledger.open': z.object({ entryId: id }),
  'ledger.submit': z.object({ entryId: id, rev }),
  'ledger.return': z.object({ entryId: id, rev }),
} as const;

export type ActionId = keyof typeof ActionSchemas;
export type ActionValue<A extends ActionId> = z.infer<(typeof ActionSchemas)[A]>;
export type ParsedAction = { [A in ActionId]: { id: A; value: ActionValue<A> } }[ActionId];

export function encodeAction<A extends ActionId>(id: A, value: ActionValue<A>): ActionRef {
  return { id, value: { ...value } };
}

export type ActionParseError = 'unknown_action' | 'bad_action_value';

export function parseAction(
  id: string,
  value: unknown,
): { ok: true; action: ParsedAction } | { ok: false; error: ActionParseError } {
  if (!Object.hasOwn(ActionSchemas, id)) return { ok: false, error: 'unknown_action' };
  const schema = ActionSchemas[id as ActionId];
  const parsed = schema.safeParse(value);
  if (!parsed.success) return { ok: false, error: 'bad_action_value' };
  return { ok: true, action: { id, value: parsed.data } as ParsedAction };
}
