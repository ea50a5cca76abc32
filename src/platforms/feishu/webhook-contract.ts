/**
 * The Feishu webhook's contract, shared by the in-process tests (routes.test.ts) and the run inside
 * the Workers runtime (src/runtime/worker.workerd.test.ts): the URL check, verification, a card
 * action's answer, a direct message answered once per message with the help card, the token
 * checked inside the ciphertext.
 */
import { expect, it } from 'vitest';
import { validateFeishuCard } from '../../../cards/render/feishu-validate';
import type { MockFeishu } from './mock-server';

export interface WebhookTarget {
  /** Posts a payload encrypted with the app's key; signed unless `sign` is false, with `key` if given. */
  post(payload: unknown, opts?: { sign?: boolean; key?: string }): Promise<Response>;
  /** Lets queued cards reach the mock. */
  settle(): Promise<void>;
  mock(): MockFeishu;
  /** The Verification Token and app id the target was configured with. */
  token: string;
  appId: string;
  /** A person with a Feishu account and their open_id. */
  openId: string;
}

export function webhookContract(t: () => WebhookTarget): void {
  it('answers the encrypted URL check at once, and only with the right token', async () => {
    const ok = await t().post({ challenge: 'ch-1', token: t().token, type: 'url_verification' }, { sign: false });
    expect(await ok.json()).toEqual({ challenge: 'ch-1' });
    const wrong = await t().post({ challenge: 'ch-2', token: 'nope', type: 'url_verification' }, { sign: false });
    expect(wrong.status).toBe(401);
  });

  it('answers a card action with a toast in Chinese and English and a valid card', async () => {
    const action = {
      schema: '2.0',
      header: { event_id: 'act-1', event_type: 'card.action.trigger', token: t().token, create_time: '1', tenant_key: 't', app_id: t().appId },
      event: { operator: { open_id: t().openId }, token: 'c-1', action: { tag: 'button', value: { a: 'help.show', v: {} } }, context: { open_message_id: 'om_1', open_chat_id: 'oc' } },
    };
    const body = (await (await t().post(action)).json()) as { toast: unknown; card: { type: string; data: unknown } };
    expect(body.toast).toEqual({ type: 'info', content: '待办已刷新', i18n: { zh_cn: '待办已刷新', en_us: 'Tasks refreshed' } });
    expect(body.card.type).toBe('raw');
    expect(validateFeishuCard(body.card.data)).toEqual([]);
  });

  it('refuses an unsigned or wrongly signed event', async () => {
    const event = { schema: '2.0', header: { event_id: 'e-x', event_type: 'im.message.receive_v1', token: t().token }, event: {} };
    expect((await t().post(event, { sign: false })).status).toBe(401);
    expect((await t().post(event, { key: 'other' })).status).toBe(401);
  });

  const directMessage = (eventId: string, messageId: string, token = t().token) => ({
    schema: '2.0',
    header: { event_id: eventId, event_type: 'im.message.receive_v1', token, create_time: '1', tenant_key: 't', app_id: t().appId },
    event: { sender: { sender_id: { open_id: t().openId }, sender_type: 'user' }, message: { message_id: messageId, chat_id: 'oc_p2p', chat_type: 'p2p', message_type: 'text', content: JSON.stringify({ text: '我的待办' }) } },
  });
  const cardsToFiller = () => t().mock().state.messages.filter((m) => m.receive_id === t().openId);

  it('answers a direct message with the help card in Feishu, once per message, however often it is delivered', async () => {
    // A redelivery may repeat the event_id, or come under a new event_id with the same message_id.
    for (const eventId of ['msg-1', 'msg-1', 'msg-1-again']) {
      const res = await t().post(directMessage(eventId, 'om_in'));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({});
      await t().settle();
    }
    expect(cardsToFiller()).toHaveLength(1);
    expect(JSON.stringify(cardsToFiller()[0]!.card)).toContain('我的待办');
    expect(validateFeishuCard(cardsToFiller()[0]!.card)).toEqual([]);
    // Another message is answered on its own.
    await t().post(directMessage('msg-2', 'om_in_2'));
    await t().settle();
    expect(cardsToFiller()).toHaveLength(2);
  });

  it('refuses a validly signed and encrypted body whose Verification Token is wrong', async () => {
    const res = await t().post(directMessage('msg-forged', 'om_forged', 'not-the-token'));
    expect(res.status).toBe(401);
    await t().settle();
    expect(cardsToFiller()).toHaveLength(0);
  });
}
