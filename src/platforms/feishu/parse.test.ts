import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAction } from '../../../cards/actions';
import { parseFeishuBody, type FeishuInbound } from './parse';
import { encryptFeishu, feishuSignature, verifyFeishuRequest } from './verify';

type Json = Record<string, unknown> & { event: Record<string, unknown> & { action: Record<string, unknown> } };
const fixture = (name: string): Json => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as Json;

/** The official callback with our button's `{a, v}` value and an action tweak. */
function withAction(name: string, action: Record<string, unknown>): Json {
  const body = fixture(name);
  body.event.action = { ...body.event.action, ...action };
  return body;
}

function ok(body: unknown): FeishuInbound {
  const res = parseFeishuBody(body);
  if (!res.ok) throw new Error(res.error);
  return res.value;
}

function cardAction(body: unknown): Extract<FeishuInbound, { kind: 'card_action' }> {
  const v = ok(body);
  if (v.kind !== 'card_action') throw new Error(`expected card_action, got ${v.kind}`);
  return v;
}

const ourValue = { a: 'self-eval.submit', v: { evaluationId: 12, version: 3, rev: 0 } };

describe('card.action.trigger', () => {
  it('maps the official callback example', () => {
    expect(cardAction(fixture('card-callback-communication.json'))).toEqual({
      kind: 'card_action',
      eventId: 'f7984f25108f8137722bb63c*****',
      callbackToken: 'c-295ee57216a5dc9de90fefd0aadb4b1d7d******',
      openMessageId: 'om_574d639e4a44e4dd646eaf628e2*****',
      openChatId: 'oc_e4d2605ca917e695f54f11aaf56*****',
      tenantKey: '2df73991750*****',
      event: {
        platform: 'feishu',
        eventKey: 'f7984f25108f8137722bb63c*****',
        actorExternalId: 'ou_3c14f3a59eaf2825dbe25359f15*****',
        // {"key":"value"} is not our {a, v}: the router will say 无法识别的操作.
        actionId: '',
        value: { key: 'value' },
        form: {
          'field name1': ['selectDemo1', 'selectDemo2'],
          'field name2': 'value2',
          DatePicker_bpqdq5puvn4: '2024-04-01 +0800',
          DateTimePicker_ihz2d7a74i: '2024-04-29 07:07 +0800',
          Input_lf4fmxwfrd9: '1234',
          PersonSelect_2ejys7ype7m: 'ou_3c14f3a59eaf2825dbe25359f15*****',
          Select_a2d5b7l3zd: '1',
          TimePicker_7ecsf6xkqsq: '00:00 +0800',
        },
      },
    });
    expect(parseAction('', { key: 'value' })).toEqual({ ok: false, error: 'unknown_action' });
  });

  it('reads our {a, v} value from the form-submit example, which the router accepts', () => {
    const { event } = cardAction(withAction('form-container.callback.json', { value: ourValue }));
    expect(event.actionId).toBe('self-eval.submit');
    expect(event.value).toEqual({ evaluationId: 12, version: 3, rev: 0 });
    expect(event.actorExternalId).toBe('ou_3c14f3a59eaf2825dbe25359f15*****');
    expect(event.form).toEqual({
      DatePicker_bpqdq5puvn4: '2024-04-01 +0800',
      DateTimePicker_ihz2d7a74i: '2024-04-29 07:07 +0800',
      Input_lf4fmxwfrd9: '1234',
      PersonSelect_2ejys7ype7m: 'ou_3c14f3a59eaf2825dbe25359f1595b00',
      Select_a2d5b7l3zd: '1',
      TimePicker_7ecsf6xkqsq: '00:00 +0800',
    });
    expect(parseAction(event.actionId, event.value)).toMatchObject({ ok: true, action: { id: 'self-eval.submit' } });
  });

  it('passes v on unchecked, defaults it to {}, and marks non-{a,v} values unknown', () => {
    const f = 'card-callback-communication.json';
    expect(cardAction(withAction(f, { value: { a: 'campaign.progress' } })).event).toMatchObject({ actionId: 'campaign.progress', value: {} });
    expect(cardAction(withAction(f, { value: { a: 'x', v: 'str' } })).event).toMatchObject({ actionId: 'x', value: 'str' });
    expect(cardAction(withAction(f, { value: 'just a string' })).event).toMatchObject({ actionId: '', value: 'just a string' });
    expect(cardAction(withAction(f, { value: { a: '' } })).event.actionId).toBe('');
    expect(cardAction(withAction(f, { value: { a: 7 } })).event.actionId).toBe('');
    expect(cardAction(withAction(f, { value: undefined })).event).toMatchObject({ actionId: '', value: null });
  });

  it('coerces form scalars to strings and drops nulls and objects', () => {
    const body = withAction('form-container.callback.json', { form_value: { n: 3, b: true, z: null, o: { x: 1 }, l: ['a', 2, null] } });
    expect(cardAction(body).event.form).toEqual({ n: '3', b: 'true', l: ['a', '2'] });
    expect(cardAction(withAction('form-container.callback.json', { form_value: undefined })).event.form).toEqual({});
  });

  it('puts input_value / option / options of a component outside a form under its name', () => {
    const f = 'card-callback-communication.json';
    const lone = (extra: Record<string, unknown>) => cardAction(withAction(f, { form_value: undefined, tag: 'input', name: 'comment', value: ourValue, ...extra })).event.form;
    expect(lone({ input_value: '写得好' })).toEqual({ comment: '写得好' });
    expect(lone({ option: 'B' })).toEqual({ comment: 'B' });
    expect(lone({ options: ['a', 'b'] })).toEqual({ comment: ['a', 'b'] });
    expect(lone({ name: undefined, input_value: 'x' })).toEqual({});
    // Inside a form the submit button's name does not shadow a form field.
    const inForm = cardAction(withAction(f, { name: 'Input_lf4fmxwfrd9', input_value: 'other' })).event.form;
    expect(inForm.Input_lf4fmxwfrd9).toBe('1234');
  });

  it('fails without an operator open_id, and without context gives nulls', () => {
    const noOp = fixture('card-callback-communication.json');
    noOp.event.operator = { user_id: 'u' };
    const res = parseFeishuBody(noOp);
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error).toContain('operator.open_id');
    const noCtx = fixture('card-callback-communication.json');
    delete noCtx.event.context;
    delete noCtx.event.token;
    expect(cardAction(noCtx)).toMatchObject({ openMessageId: null, openChatId: null, callbackToken: null });
  });

  it('parses after encryption, signing and verification end to end', async () => {
    const key = 'k';
    const rawBody = JSON.stringify({ encrypt: await encryptFeishu(key, JSON.stringify(withAction('form-container.callback.json', { value: ourValue }))) });
    const headers = { timestamp: '1700000000', nonce: 'n', signature: await feishuSignature('1700000000', 'n', key, rawBody) };
    const verified = await verifyFeishuRequest({ rawBody, headers, encryptKey: key, nowMs: 1_700_000_000_000 });
    if (!verified.ok) throw new Error(verified.reason);
    expect(cardAction(verified.body).event).toMatchObject({ actionId: 'self-eval.submit', eventKey: 'f7984f25108f8137722bb63c*****' });
  });
});

describe('other bodies', () => {
  it('answers both url_verification examples and the Go SDK body with their challenge', () => {
    expect(ok(fixture('send-notifications-to-developers-server.url_verification.json'))).toEqual({ kind: 'challenge', challenge: 'ajls384kdjxxxx' });
    expect(ok(fixture('send-callbacks-to-developers-server.url_verification.json'))).toEqual({ kind: 'challenge', challenge: '1b6aef1a-401f-406a-be41-f48911eabcef' });
    expect(ok(fixture('dispatcher_test.mockEventReq.json'))).toEqual({ kind: 'challenge', challenge: '1212' });
  });

  it('reads a text message from im.message.receive_v1', () => {
    expect(ok(fixture('receive.im.message.receive_v1.json'))).toEqual({
      kind: 'message',
      eventId: '5e3702a84e847582be8db7fb73283c02',
      messageId: 'om_5ce6d572455d361153b7cb51da133945',
      senderOpenId: 'ou_84aad35d084aa403a838cf73ee18467',
      chatId: 'oc_5ce6d572455d361153b7xx51da133945',
      chatType: 'group',
      messageType: 'text',
      text: '@_user_1 hello',
    });
  });

  it('gives no text for other message types or unreadable content', () => {
    const image = fixture('receive.im.message.receive_v1.json');
    const message = image.event.message as Record<string, unknown>;
    Object.assign(message, { message_type: 'image', content: '{"image_key":"img_x"}' });
    expect(ok(image)).toMatchObject({ kind: 'message', messageType: 'image', text: null });
    Object.assign(message, { message_type: 'text', content: 'not json' });
    expect(ok(image)).toMatchObject({ kind: 'message', text: null });
  });

  it('ignores other events with their type and id', () => {
    const user = fixture('dispatcher_test.mockEventReq.json');
    delete user.type;
    expect(ok(user)).toEqual({ kind: 'ignored', eventId: 'f7984f25108f8137722bb63cee927e66', eventType: 'contact.user.created_v3' });
    const v1 = { uuid: 'u-1', ts: '1', token: 't', type: 'event_callback', event: { type: 'app_ticket' } };
    expect(ok(v1)).toEqual({ kind: 'ignored', eventId: 'u-1', eventType: 'app_ticket' });
  });

  it('refuses what is not a Feishu body', () => {
    for (const body of [null, 'x', [], {}, { schema: '2.0', header: {} }, { type: 'url_verification' }]) expect(parseFeishuBody(body).ok).toBe(false);
  });
});
