import { describe, expect, it } from 'vitest';
import { ActionSchemas, encodeAction, parseAction, type ActionId, type ActionValue } from './actions';

/** One valid value per action id; the type makes a new id without a sample a compile error. */
const SAMPLES: { [A in ActionId]: ActionValue<A> } = {
  'campaign.open-self-eval': { campaignId: 7 },
  'campaign.progress': { campaignId: 7 },
  'campaign.remind-late': { campaignId: 7 },
  'self-eval.open': { evaluationId: 5 },
  'help.show': {},
  'self-eval.save': { evaluationId: 5, version: 2, rev: 0 },
  'self-eval.submit': { evaluationId: 5, version: 2, rev: 3 },
  'self-eval.sign': { evaluationId: 5, version: 1, rev: 4 },
  'self-eval.head-return': { evaluationId: 6, version: 1, rev: 4 },
  'self-eval.accept': { evaluationId: 6, version: 3, rev: 11 },
  'self-eval.return': { evaluationId: 6, version: 3, rev: 11 },
  'ledger.open': { entryId: 9 },
  'ledger.submit': { entryId: 9, rev: 0 },
  'ledger.return': { entryId: 9, rev: 1 },
};
const IDS = Object.keys(SAMPLES) as ActionId[];

function roundTrip<A extends ActionId>(id: A) {
  const ref = encodeAction(id, SAMPLES[id]);
  return { ref, parsed: parseAction(ref.id, ref.value) };
}

describe('action ids', () => {
  it('has a sample for exactly the ids the schemas know', () => {
    expect([...IDS].sort()).toEqual(Object.keys(ActionSchemas).sort());
  });
});

describe('encodeAction / parseAction', () => {
  it.each(IDS)('%s round-trips', (id) => {
    const { ref, parsed } = roundTrip(id);
    expect(ref).toEqual({ id, value: SAMPLES[id] });
    expect(ref.value).not.toBe(SAMPLES[id]);
    expect(parsed).toEqual({ ok: true, action: { id, value: SAMPLES[id] } });
  });

  it.each(IDS)('%s survives a JSON trip and string values, as platforms send them back', (id) => {
    const { ref } = roundTrip(id);
    const viaJson = JSON.parse(JSON.stringify(ref)) as { id: string; value: Record<string, unknown> };
    expect(parseAction(viaJson.id, viaJson.value)).toEqual({ ok: true, action: { id, value: SAMPLES[id] } });
    const asStrings = Object.fromEntries(Object.entries(ref.value).map(([k, v]) => [k, String(v)]));
    expect(parseAction(id, asStrings)).toEqual({ ok: true, action: { id, value: SAMPLES[id] } });
  });

  it('drops unknown keys from a value', () => {
    expect(parseAction('campaign.progress', { campaignId: 3, extra: 'x' })).toEqual({ ok: true, action: { id: 'campaign.progress', value: { campaignId: 3 } } });
  });
});

describe('parseAction refusals', () => {
  it.each(['self-eval.delete', '', 'self-eval', 'SELF-EVAL.SAVE', ' self-eval.save', 'campaign.open_self_eval', 'toString', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf', '__defineGetter__'])(
    'id %j → unknown_action',
    (id) => {
      expect(parseAction(id, { campaignId: 1, evaluationId: 1, version: 1, rev: 0 })).toEqual({ ok: false, error: 'unknown_action' });
    },
  );

  /** Each field of each id, removed or replaced by a value that is clearly not an id, version or revision. */
  const badValues = IDS.flatMap((id) => {
    const sample = SAMPLES[id] as Record<string, number>;
    return Object.keys(sample).flatMap((field) => {
      const without = Object.fromEntries(Object.entries(sample).filter(([k]) => k !== field));
      const positive = field !== 'rev';
      return [
        { id, field, label: 'missing', value: without as unknown },
        { id, field, label: 'undefined', value: { ...sample, [field]: undefined } },
        { id, field, label: 'non-numeric "abc"', value: { ...sample, [field]: 'abc' } },
        { id, field, label: 'an object', value: { ...sample, [field]: {} } },
        { id, field, label: 'fractional', value: { ...sample, [field]: 1.5 } },
        { id, field, label: 'negative', value: { ...sample, [field]: -1 } },
        { id, field, label: 'negative string', value: { ...sample, [field]: '-3' } },
        ...(positive ? [{ id, field, label: 'zero', value: { ...sample, [field]: 0 } }] : []),
      ];
    });
  });

  it.each(badValues)('$id with $field $label → bad_action_value', ({ id, value }) => {
    expect(parseAction(id, value)).toEqual({ ok: false, error: 'bad_action_value' });
  });

  it.each(IDS)('%s with no object value → bad_action_value', (id) => {
    for (const value of [undefined, null, 'x', 42, []]) expect(parseAction(id, value)).toEqual({ ok: false, error: 'bad_action_value' });
  });

  // Number() turns '', ' ', null, false and [] into 0 and true into 1: none of them is a number a card sent,
  // so each must be refused like 'abc' rather than read as revision 0 or id 1.
  it('refuses values that Number() would silently coerce (\'\', \' \', null, true, false, []) in every numeric field', () => {
    const accepted: string[] = [];
    for (const id of IDS) {
      for (const field of Object.keys(SAMPLES[id])) {
        for (const bad of ['', ' ', null, true, false, []] as unknown[]) {
          const r = parseAction(id, { ...SAMPLES[id], [field]: bad });
          if (r.ok) accepted.push(`${id} ${field}=${JSON.stringify(bad)} → ${JSON.stringify(r.action.value)}`);
        }
      }
    }
    expect(accepted).toEqual([]);
  });
});
