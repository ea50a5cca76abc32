import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFeishuClient, type FeishuClient, type FeishuClientConfig, type HttpAnswer } from './client';
import { startMockFeishu, type MockFeishu, type MockOptions } from './mock-server';
import { feishuError } from '../../test/feishu-error';

const APP = { appId: 'cli_test0000000001', appSecret: 's3cret' };
const card = (title: string) => ({ schema: '2.0', config: { update_multi: true }, header: { title: { tag: 'plain_text', content: title } }, body: { elements: [] } });
const titleOf = (c: unknown) => (c as { header: { title: { content: string } } }).header.title.content;

/** An answer as a transport returns it. */
const answer = (status: number, body: unknown, headers: Record<string, string> = {}): HttpAnswer => ({
  status,
  header: (name) => headers[name] ?? null,
  text: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('feishu client against the mock', () => {
  let mock: MockFeishu;
  let client: FeishuClient;
  const start = async (o: MockOptions = {}, c: Partial<FeishuClientConfig> = {}) => {
    mock = await startMockFeishu({ ...APP, ...o });
    client = createFeishuClient({ ...APP, domain: mock.url, timeoutMs: 2000, ...c });
  };
  beforeEach(async () => start());
  afterEach(async () => mock.close());

  it('fetches the tenant token once and reuses it for every call', async () => {
    await client.sendCard('ou_a', card('一'), 'u-1');
    await client.sendCard('ou_a', card('二'), 'u-2');
    await client.sendCard('ou_b', card('三'), 'u-3');
    expect(mock.state.tokensIssued).toBe(1);
    expect(mock.state.requestsByRoute.token).toBe(1);
    expect(mock.state.requestsByRoute.send).toBe(3);
  });

  it('sends a card with msg_type interactive, and a repeated uuid returns the same message without a second one', async () => {
    const a = await client.sendCard('ou_a', card('一'), 'lvzhi-1-x-0');
    const again = await client.sendCard('ou_a', card('一'), 'lvzhi-1-x-0');
    const b = await client.sendCard('ou_a', card('二'), 'lvzhi-2-x-0');
    expect(again.messageId).toBe(a.messageId);
    expect(b.messageId).not.toBe(a.messageId);
    expect(mock.state.messages.map((m) => [m.receive_id, m.uuid, titleOf(m.card)])).toEqual([
      ['ou_a', 'lvzhi-1-x-0', '一'],
      ['ou_a', 'lvzhi-2-x-0', '二'],
    ]);
    expect(mock.state.dedupeHits).toBe(1);
    expect(mock.state.perReceiver.get('ou_a')).toBe(2);
  });

  it('patches a sent card', async () => {
    const { messageId } = await client.sendCard('ou_a', card('原'), 'u-p');
    await client.patchCard(messageId, card('新'));
    expect(mock.state.patches).toHaveLength(1);
    expect(mock.state.patches[0]!.message_id).toBe(messageId);
    expect(titleOf(mock.state.messages[0]!.current)).toBe('新');
    const e = await feishuError(client.patchCard('om_nope', card('x')));
    expect(e).toMatchObject({ kind: 'permanent', code: 230001 });
  });

  it('delayed update: a callback token works twice, the third use and an expired token are refused', async () => {
    const token = mock.state.issueCallbackToken();
    await client.delayedUpdate(token, card('一'));
    await client.delayedUpdate(token, card('二'));
    const third = await feishuError(client.delayedUpdate(token, card('三')));
    expect(third).toMatchObject({ kind: 'permanent', code: 300040 });
    const old = mock.state.issueCallbackToken({ ageMs: 31 * 60_000 });
    expect(await feishuError(client.delayedUpdate(old, card('晚')))).toMatchObject({ kind: 'permanent', code: 300030 });
    expect(mock.state.delayedUpdates.map((u) => titleOf(u.card))).toEqual(['一', '二']);
  });

  it('urgent: app, sms and phone, returning the ids that could not be buzzed', async () => {
    const { messageId } = await client.sendCard('ou_a', card('急'), 'u-urgent');
    expect(await client.urgent(messageId, 'app', ['ou_a', 'ou_stranger'])).toEqual({ invalidIds: ['ou_stranger'] });
    expect(await client.urgent(messageId, 'sms', ['ou_a'])).toEqual({ invalidIds: [] });
    expect(await client.urgent(messageId, 'phone', ['ou_a'])).toEqual({ invalidIds: [] });
    expect(mock.state.urgents.map((u) => [u.message_id, u.kind, u.user_ids])).toEqual([
      [messageId, 'app', ['ou_a']],
      [messageId, 'sms', ['ou_a']],
      [messageId, 'phone', ['ou_a']],
    ]);
    expect(await feishuError(client.urgent(messageId, 'app', ['ou_stranger']))).toMatchObject({ kind: 'permanent', code: 230001 });
  });

  it('batch_send: one card object to users and departments, invalid ids reported', async () => {
    mock.state.outsideAvailability.add('ou_out');
    const res = await client.batchSend({ openIds: ['ou_a', 'ou_b', 'ou_out'], departmentIds: ['od-1'] }, card('通知'));
    expect(res.messageId).toMatch(/^bm-/);
    expect(res.invalid).toEqual({ openIds: ['ou_out'], departmentIds: [] });
    const sent = mock.state.batchSends[0]!;
    expect(sent.open_ids).toEqual(['ou_a', 'ou_b']);
    expect(sent.department_ids).toEqual(['od-1']);
    expect(titleOf(sent.card)).toBe('通知');
    expect(await feishuError(client.batchSend({ openIds: Array.from({ length: 201 }, (_, i) => `ou_${i}`) }, card('x')))).toMatchObject({ kind: 'permanent' });
    expect(mock.state.batchSends).toHaveLength(1);
  });

  it('batch_send errors come back as HTTP 200 with a code, and are still errors', async () => {
    await mock.close();
    await start({ validateCard: (c) => (titleOf(c) === '坏' ? ['header.title is bad'] : []) });
    const e = await feishuError(client.batchSend({ openIds: ['ou_a'] }, card('坏')));
    expect(e).toMatchObject({ kind: 'permanent', code: 11246 });
    expect(e.detail.status).toBe(200);
  });

  it('batch_get_id: 120 mobiles take 3 calls, and only known ones map to an open_id', async () => {
    const mobiles = Array.from({ length: 120 }, (_, i) => `1390000${String(i).padStart(4, '0')}`);
    for (const [i, m] of mobiles.entries()) if (i % 2 === 0) mock.state.directory.mobiles.set(m, `ou_m${i}`);
    mock.state.directory.emails.set('a@x.cn', 'ou_email');
    const ids = await client.batchGetIds({ mobiles, emails: ['a@x.cn', 'nobody@x.cn'] });
    expect(mock.state.requestsByRoute.batch_get_id).toBe(3);
    expect(ids.size).toBe(61);
    expect(ids.get(mobiles[0]!)).toBe('ou_m0');
    expect(ids.get(mobiles[118]!)).toBe('ou_m118');
    expect(ids.has(mobiles[1]!)).toBe(false);
    expect(ids.get('a@x.cn')).toBe('ou_email');
    expect(ids.has('nobody@x.cn')).toBe(false);
  });

  it('a 429 becomes rate_limited with the reset seconds from x-ogw-ratelimit-reset', async () => {
    await mock.close();
    await start({ rateLimits: { perSecond: 2, perMinute: 100, perUserPerSecond: 100 } });
    await client.sendCard('ou_a', card('1'), 'r-1');
    await client.sendCard('ou_b', card('2'), 'r-2');
    const e = await feishuError(client.sendCard('ou_c', card('3'), 'r-3'));
    expect(e).toMatchObject({ kind: 'rate_limited', code: 99991400, resetSeconds: 1 });
    expect(e.detail.status).toBe(429);
    expect(mock.state.rateLimited).toBe(1);
    expect(mock.state.messages).toHaveLength(2);
  });

  it('the per-user limit trips before the app limit, and a minute window reports its reset', async () => {
    await mock.close();
    await start({ rateLimits: { perSecond: 100, perMinute: 4, perUserPerSecond: 2 } });
    await client.sendCard('ou_a', card('1'), 'q-1');
    await client.sendCard('ou_a', card('2'), 'q-2');
    expect(await feishuError(client.sendCard('ou_a', card('3'), 'q-3'))).toMatchObject({ kind: 'rate_limited' });
    await client.sendCard('ou_b', card('4'), 'q-4');
    await client.sendCard('ou_b', card('5'), 'q-5');
    const e = await feishuError(client.sendCard('ou_c', card('6'), 'q-6'));
    expect(e.kind).toBe('rate_limited');
    expect(e.resetSeconds).toBeGreaterThan(50);
    expect(e.resetSeconds).toBeLessThanOrEqual(60);
  });

  it('a receiver outside the availability is permanent (230013), a bad card is permanent (230099)', async () => {
    await mock.close();
    await start({ outsideAvailability: ['ou_out'], validateCard: (c) => (titleOf(c) === '' ? ['header.title must not be empty'] : []) });
    const out = await feishuError(client.sendCard('ou_out', card('x'), 'p-1'));
    expect(out).toMatchObject({ kind: 'permanent', code: 230013 });
    const bad = await feishuError(client.sendCard('ou_a', card(''), 'p-2'));
    expect(bad).toMatchObject({ kind: 'permanent', code: 230099 });
    expect(bad.msg).toContain('header.title must not be empty');
    expect(mock.state.messages).toHaveLength(0);
  });

  it('5xx, a dropped connection and a timeout are transient; 230020 is rate_limited', async () => {
    mock.state.failNext({ route: 'send', status: 503, code: 1500, msg: 'internal error' });
    expect(await feishuError(client.sendCard('ou_a', card('x'), 't-1'))).toMatchObject({ kind: 'transient', code: 1500 });
    mock.state.failNext({ route: 'send', network: 'reset' });
    expect(await feishuError(client.sendCard('ou_a', card('x'), 't-2'))).toMatchObject({ kind: 'transient', code: null });
    mock.state.failNext({ route: 'send', network: 'hang' });
    const slow = createFeishuClient({ ...APP, domain: mock.url, timeoutMs: 300 });
    expect(await feishuError(slow.sendCard('ou_a', card('x'), 't-3'))).toMatchObject({ kind: 'transient', code: null });
    mock.state.failNext({ route: 'send', status: 400, code: 230020, msg: 'This operation triggers the frequency limit.' });
    expect(await feishuError(client.sendCard('ou_a', card('x'), 't-4'))).toMatchObject({ kind: 'rate_limited', code: 230020, resetSeconds: 1 });
    expect(mock.state.messages).toHaveLength(0);
  });

  it('a lost answer after the send went through: the retry with the same uuid gets the same message', async () => {
    mock.state.failNext({ route: 'send', status: 502, afterHandling: true });
    expect(await feishuError(client.sendCard('ou_a', card('一'), 'lost-1'))).toMatchObject({ kind: 'transient' });
    const { messageId } = await client.sendCard('ou_a', card('一'), 'lost-1');
    expect(mock.state.messages).toHaveLength(1);
    expect(mock.state.messages[0]!.message_id).toBe(messageId);
  });

  it('a revoked token is transient and the next call fetches a new one', async () => {
    await client.sendCard('ou_a', card('1'), 'k-1');
    mock.state.revokeTokens();
    expect(await feishuError(client.sendCard('ou_a', card('2'), 'k-2'))).toMatchObject({ kind: 'transient', code: 99991663 });
    await client.sendCard('ou_a', card('3'), 'k-3');
    expect(mock.state.tokensIssued).toBe(2);
    expect(mock.state.messages.map((m) => titleOf(m.card))).toEqual(['1', '3']);
  });

  it('a token is used until 3 minutes before the end of the lifetime Feishu gave, then a new one is fetched', async () => {
    let t = Date.UTC(2026, 9, 8, 1);
    const clock = () => t;
    await mock.close();
    await start({ now: clock }, { now: clock });
    await client.sendCard('ou_a', card('1'), 'e-1');
    t += (7200 - 180) * 1000 - 1;
    await client.sendCard('ou_a', card('2'), 'e-2');
    expect(mock.state.tokensIssued).toBe(1);
    t += 1;
    await client.sendCard('ou_a', card('3'), 'e-3');
    expect(mock.state.tokensIssued).toBe(2);
    // Feishu re-serves a token with over 30 minutes left, with what is left as its expire: a
    // second client an hour later keeps it for that hour, not two.
    t += 3600_000;
    const later = createFeishuClient({ ...APP, domain: mock.url, timeoutMs: 2000, now: clock });
    await later.sendCard('ou_b', card('4'), 'e-4');
    expect(mock.state.tokensIssued).toBe(3);
    t += (3600 - 180) * 1000;
    await later.sendCard('ou_b', card('5'), 'e-5');
    expect(mock.state.tokensIssued).toBe(4);
    expect(mock.state.messages.map((m) => titleOf(m.card))).toEqual(['1', '2', '3', '4', '5']);
  });

  it('wrong credentials are permanent; an unreachable server is transient', async () => {
    const wrong = createFeishuClient({ appId: APP.appId, appSecret: 'nope', domain: mock.url });
    expect(await feishuError(wrong.sendCard('ou_a', card('x'), 'c-1'))).toMatchObject({ kind: 'permanent', code: 10014 });
    const url = mock.url;
    await mock.close();
    const gone = createFeishuClient({ ...APP, domain: url, timeoutMs: 1000 });
    expect(await feishuError(gone.sendCard('ou_a', card('x'), 'c-2'))).toMatchObject({ kind: 'transient', code: null });
    await start();
  });

  it('calls without a token share one token fetch', async () => {
    await Promise.all(['a', 'b', 'c', 'd'].map((x) => client.sendCard(`ou_${x}`, card(x), `s-${x}`)));
    expect(mock.state.requestsByRoute.token).toBe(1);
    expect(mock.state.messages).toHaveLength(4);
  });

  it('classifies answers a mock cannot give: plain-text errors, a 400 frequency limit, no code, a token answer without a token', async () => {
    const answers: HttpAnswer[] = [];
    const fake = createFeishuClient({ ...APP, domain: 'https://open.feishu.cn', transport: async (url) => (url.includes('tenant_access_token') ? answer(200, { code: 0, tenant_access_token: 't-1', expire: 7200 }) : answers.shift()!) });
    answers.push(answer(429, 'Too Many Requests', { 'x-ogw-ratelimit-reset': '3' }));
    expect(await feishuError(fake.sendCard('ou_a', card('x'), 'f-1'))).toMatchObject({ kind: 'rate_limited', code: null, resetSeconds: 3, msg: 'Too Many Requests' });
    answers.push(answer(400, { code: 99991400, msg: 'old API limit' }));
    expect(await feishuError(fake.sendCard('ou_a', card('x'), 'f-2'))).toMatchObject({ kind: 'rate_limited', code: 99991400, resetSeconds: 1 });
    answers.push(answer(429, { code: 99991400, msg: 'request trigger frequency limit' }, { 'x-ogw-ratelimit-reset': '52' }));
    expect(await feishuError(fake.sendCard('ou_a', card('x'), 'f-3'))).toMatchObject({ kind: 'rate_limited', resetSeconds: 52 });
    answers.push(answer(502, '<html>bad gateway</html>'));
    expect(await feishuError(fake.sendCard('ou_a', card('x'), 'f-4'))).toMatchObject({ kind: 'transient', code: null, detail: { status: 502 } });
    answers.push(answer(200, { data: {} }));
    expect(await feishuError(fake.sendCard('ou_a', card('x'), 'f-5'))).toMatchObject({ kind: 'transient', code: null, msg: 'answer without a code' });
    answers.push(answer(200, { code: 0, data: { message_id: 'om_1' } }));
    expect(await fake.sendCard('ou_a', card('x'), 'f-6')).toEqual({ messageId: 'om_1' });

    const noToken = createFeishuClient({ ...APP, domain: 'https://open.feishu.cn', transport: async () => answer(200, { code: 0, msg: 'ok' }) });
    expect(await feishuError(noToken.sendCard('ou_a', card('x'), 'f-7'))).toMatchObject({ kind: 'transient', detail: { api: 'tenant_access_token' } });
    const refused = createFeishuClient({ ...APP, domain: 'https://open.feishu.cn', transport: () => Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } })) });
    const e = await feishuError(refused.sendCard('ou_a', card('x'), 'f-8'));
    expect(e).toMatchObject({ kind: 'transient', code: null });
    expect(e.msg).toContain('ECONNREFUSED');
  });

  it('sends the documented request: JSON with charset, the bearer token, receive_id_type and the stringified card', async () => {
    const seen: Array<{ url: string; method: string; headers: Readonly<Record<string, string>>; body: unknown }> = [];
    const fake = createFeishuClient({
      ...APP,
      domain: 'lark',
      transport: async (url, req) => {
        seen.push({ url, method: req.method, headers: req.headers, body: JSON.parse(req.body) });
        return url.includes('tenant_access_token') ? answer(200, { code: 0, tenant_access_token: 't-abc', expire: 7200 }) : answer(200, { code: 0, data: { message_id: 'om_9' } });
      },
    });
    await fake.sendCard('ou_a', card('一'), 'u-1');
    await fake.patchCard('om_9', card('二'));
    expect(seen.map((r) => [r.method, r.url])).toEqual([
      ['POST', 'https://open.larksuite.com/open-apis/auth/v3/tenant_access_token/internal'],
      ['POST', 'https://open.larksuite.com/open-apis/im/v1/messages?receive_id_type=open_id'],
      ['PATCH', 'https://open.larksuite.com/open-apis/im/v1/messages/om_9'],
    ]);
    expect(seen[0]!.body).toEqual({ app_id: APP.appId, app_secret: APP.appSecret });
    expect(seen[0]!.headers).toEqual({ 'content-type': 'application/json; charset=utf-8' });
    expect(seen[1]!.headers).toEqual({ 'content-type': 'application/json; charset=utf-8', authorization: 'Bearer t-abc' });
    expect(seen[1]!.body).toEqual({ receive_id: 'ou_a', msg_type: 'interactive', content: JSON.stringify(card('一')), uuid: 'u-1' });
    expect(seen[2]!.body).toEqual({ content: JSON.stringify(card('二')) });
  });
});
