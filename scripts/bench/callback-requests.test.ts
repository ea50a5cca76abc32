/** The callback bench sends what the server accepts and reads the answers the server gives. */
import { describe, expect, it } from 'vitest';
import { encodeAction } from '../../cards/actions';
import { actions, button, type CardSpec } from '../../cards/kit';
import { renderFeishuCard } from '../../cards/render/feishu';
import { toast } from '../../src/bot/inbound';
import { parseFeishuBody } from '../../src/platforms/feishu/parse';
import { feishuCallbackAnswer } from '../../src/platforms/feishu/routes';
import { verifyFeishuRequest } from '../../src/platforms/feishu/verify';
import { openLoopUnits } from './callback-open';
import { ENCRYPT_KEY, TOKEN, cardClick, directMessage, readAnswer, type SignedRequest } from './callback-requests';

/** Verified as the server does, at the request's own timestamp (no clock read here). */
async function received(req: SignedRequest) {
  const verified = await verifyFeishuRequest({
    rawBody: req.body,
    headers: { timestamp: req.headers['x-lark-request-timestamp'], nonce: req.headers['x-lark-request-nonce'], signature: req.headers['x-lark-signature'] },
    encryptKey: ENCRYPT_KEY,
    verificationToken: TOKEN,
    nowMs: Number(req.headers['x-lark-request-timestamp']) * 1000,
  });
  if (!verified.ok) throw new Error(verified.reason);
  return parseFeishuBody(verified.body);
}

describe('callback bench requests', () => {
  it('sends a card click the server verifies and reads as our save action', async () => {
    const parsed = await received(await cardClick({ evaluationId: 7, openId: 'ou_7' }, 'self-eval.save', 3, { score_2: '5' }, 'c-token'));
    expect(parsed).toMatchObject({
      ok: true,
      value: { kind: 'card_action', callbackToken: 'c-token', event: { actorExternalId: 'ou_7', actionId: 'self-eval.save', value: { evaluationId: 7, version: 1, rev: 3 }, form: { score_2: '5' } } },
    });
  });

  it('sends a direct message the server verifies and keys by its message_id', async () => {
    const parsed = await received(await directMessage('ou_9', 'om_bench_1', '待办'));
    expect(parsed).toMatchObject({ ok: true, value: { kind: 'message', messageId: 'om_bench_1', senderOpenId: 'ou_9', text: '待办' } });
  });
});

describe('callback bench answers', () => {
  // The 自评 card's two buttons, submit first: the revision must be read from the save button.
  const card: CardSpec = {
    header: { title: '自评' },
    elements: [{ type: 'form', name: 'f', elements: [actions(
      button({ label: '提交签发', style: 'primary', submit: true, action: encodeAction('self-eval.submit', { evaluationId: 7, version: 1, rev: 99 }) }),
      button({ label: '保存草稿', style: 'default', submit: true, action: encodeAction('self-eval.save', { evaluationId: 7, version: 1, rev: 4 }) }),
    )] }],
  };

  it('reads the toast and the next revision from the answer as the server renders it', () => {
    const answer = JSON.stringify(feishuCallbackAnswer(toast('success', '草稿已保存', card), renderFeishuCard));
    expect(readAnswer(answer)).toEqual({ toast: '草稿已保存', toastType: 'success', rev: 4, empty: false });
  });

  it('tells the empty answer to a message from a toast without a card and from junk', () => {
    expect(readAnswer('{}')).toEqual({ toast: null, toastType: null, rev: null, empty: true });
    expect(readAnswer(JSON.stringify(feishuCallbackAnswer(toast('info', '已受理'), renderFeishuCard)))).toMatchObject({ toast: '已受理', rev: null, empty: false });
    expect(readAnswer('internal error')).toEqual({ toast: null, toastType: null, rev: null, empty: false });
  });
});

describe('open-loop units', () => {
  it('gives each save unit 3 s between clicks and each submit its own unit', () => {
    // 100/s: 80 saves a second over 240 units; 30 s: 150 submits.
    expect(openLoopUnits(100, 30)).toEqual({ saveUnits: 240, submitUnits: 150 });
    // Too short a run to revisit any unit: one unit per save.
    expect(openLoopUnits(100, 1)).toEqual({ saveUnits: 80, submitUnits: 5 });
  });
});
