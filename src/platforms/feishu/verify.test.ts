import { createCipheriv, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decryptFeishu, encryptFeishu, feishuSignature, timingSafeEqual, UNSIGNED_MAX_BYTES, verifyFeishuRequest, type VerifyOptions } from './verify';

// Node's own crypto is the independent oracle for the Web Crypto implementation.
const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const KEY = 'enc-key-for-tests';
const TOKEN = 'verification-token';
const NOW = 1_700_000_000_000;
const TS = String(NOW / 1000);

const cardCallback = JSON.parse(fixture('card-callback-communication.json')) as { header: { token: string } };
/** The Verification Token the documented callback carries in its header. */
const CALLBACK_TOKEN = cardCallback.header.token;

async function signedRequest(plain: object, over: Partial<Omit<VerifyOptions, 'rawBody'>> = {}, timestamp = TS): Promise<VerifyOptions & { rawBody: string }> {
  const rawBody = `{ "encrypt": "${await encryptFeishu(KEY, JSON.stringify(plain))}" }`;
  const signature = await feishuSignature(timestamp, 'nonce-1', KEY, rawBody);
  return { headers: { timestamp, nonce: 'nonce-1', signature }, encryptKey: KEY, verificationToken: CALLBACK_TOKEN, nowMs: NOW, ...over, rawBody };
}

describe('decryptFeishu / encryptFeishu', () => {
  it('decrypts the published vector', async () => {
    expect(await decryptFeishu('test key', 'P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=')).toBe('hello world');
  });

  it('decrypts the oapi-sdk-go TestDecryptEvent body to its plaintext event', async () => {
    const { encrypt } = JSON.parse(fixture('dispatcher_test.TestDecryptEvent.json')) as { encrypt: string };
    const plain = await decryptFeishu('1212121212', encrypt);
    expect(plain).toBe(fixture('dispatcher_test.mockEventReq.json').trimEnd());
    expect(JSON.parse(plain)).toMatchObject({ header: { event_type: 'contact.user.created_v3', token: 'v' }, type: 'url_verification' });
  });

  it('round-trips text, including non-ASCII, with a random IV', async () => {
    const text = JSON.stringify({ name: '张三', note: 'x'.repeat(100_000) });
    const a = await encryptFeishu(KEY, text);
    const b = await encryptFeishu(KEY, text);
    expect(a).not.toBe(b);
    expect(await decryptFeishu(KEY, a)).toBe(text);
  });

  it('produces what aes-256-cbc with key sha256(encryptKey) produces', async () => {
    const iv = new Uint8Array(16).map((_, i) => i * 7);
    const c = createCipheriv('aes-256-cbc', createHash('sha256').update(KEY).digest(), iv);
    const expected = Buffer.concat([Buffer.from(iv), c.update('履职 payload', 'utf8'), c.final()]).toString('base64');
    expect(await encryptFeishu(KEY, '履职 payload', iv)).toBe(expected);
  });

  it('rejects the wrong key, a short body and non-base64', async () => {
    const enc = await encryptFeishu(KEY, '{"a":1}');
    await expect(decryptFeishu('other key', enc)).rejects.toThrow();
    await expect(decryptFeishu(KEY, btoa('0123456789abcdef'))).rejects.toThrow();
    await expect(decryptFeishu(KEY, '***')).rejects.toThrow();
  });
});

describe('feishuSignature / timingSafeEqual', () => {
  it('is lower-case hex sha256 of timestamp+nonce+key+body', async () => {
    const body = '{"encrypt":"abc"}';
    const expected = createHash('sha256').update(`1700000000n0nce${KEY}${body}`).digest('hex');
    expect(await feishuSignature('1700000000', 'n0nce', KEY, body)).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
  });

  it('compares whole strings', () => {
    expect(timingSafeEqual('abc', 'abc')).toBe(true);
    expect(timingSafeEqual('', '')).toBe(true);
    expect(timingSafeEqual('abc', 'abd')).toBe(false);
    expect(timingSafeEqual('abc', 'abcd')).toBe(false);
    expect(timingSafeEqual('abcd', 'abc')).toBe(false);
    expect(timingSafeEqual('', 'a')).toBe(false);
  });
});

describe('verifyFeishuRequest with an encrypt key', () => {
  it('accepts a signed encrypted callback and returns the decrypted body', async () => {
    expect(await verifyFeishuRequest(await signedRequest(cardCallback))).toEqual({ ok: true, body: cardCallback });
  });

  it('signs the raw body: a re-serialised body fails', async () => {
    const req = await signedRequest(cardCallback);
    const compact = JSON.stringify(JSON.parse(req.rawBody));
    expect(compact).not.toBe(req.rawBody);
    expect(await verifyFeishuRequest({ ...req, rawBody: compact })).toMatchObject({ ok: false, status: 401, reason: 'bad signature' });
    const signedCompact = await feishuSignature(TS, 'nonce-1', KEY, compact);
    expect(await verifyFeishuRequest({ ...req, headers: { ...req.headers, signature: signedCompact } })).toMatchObject({ ok: false, status: 401 });
  });

  it('refuses a forged signature, a signature made with another key, and another nonce', async () => {
    const req = await signedRequest(cardCallback);
    const forged = { ...req, headers: { ...req.headers, signature: 'f'.repeat(64) } };
    expect(await verifyFeishuRequest(forged)).toMatchObject({ ok: false, status: 401 });
    const otherKey = await feishuSignature(TS, 'nonce-1', 'other', req.rawBody);
    expect(await verifyFeishuRequest({ ...req, headers: { ...req.headers, signature: otherKey } })).toMatchObject({ ok: false, status: 401 });
    expect(await verifyFeishuRequest({ ...req, headers: { ...req.headers, nonce: 'nonce-2' } })).toMatchObject({ ok: false, status: 401 });
  });

  it.each(['timestamp', 'nonce', 'signature'] as const)('refuses a request without the %s header', async (h) => {
    const req = await signedRequest(cardCallback);
    expect(await verifyFeishuRequest({ ...req, headers: { ...req.headers, [h]: null } })).toMatchObject({ ok: false, status: 401 });
    expect(await verifyFeishuRequest({ ...req, headers: { ...req.headers, [h]: undefined } })).toMatchObject({ ok: false, status: 401 });
  });

  it('refuses a timestamp 301 s off either way and accepts 299 s', async () => {
    for (const [offset, ok] of [[301, false], [-301, false], [299, true], [-299, true]] as const) {
      const req = await signedRequest(cardCallback, { nowMs: NOW + offset * 1000 });
      const res = await verifyFeishuRequest(req);
      expect(res.ok, `offset ${offset}`).toBe(ok);
      if (!ok) expect(res).toMatchObject({ status: 401, reason: 'stale' });
    }
  });

  it.each(['abc', '1.7e9', '17e8', '1700000000.0', ' 1700000000', '+1700000000', '0x6553f100', 'Infinity'])('refuses the validly signed timestamp %j instead of skipping the staleness check', async (ts) => {
    expect(await verifyFeishuRequest(await signedRequest(cardCallback, {}, ts))).toEqual({ ok: false, status: 401, reason: 'bad timestamp' });
  });

  it('accepts an upper-case hex signature', async () => {
    const req = await signedRequest(cardCallback);
    const upper = { ...req, headers: { ...req.headers, signature: req.headers.signature!.toUpperCase() } };
    expect(upper.headers.signature).not.toBe(req.headers.signature);
    expect(await verifyFeishuRequest(upper)).toEqual({ ok: true, body: cardCallback });
  });

  it('checks the raw bytes as received, so a body given as bytes verifies the same', async () => {
    const req = await signedRequest({ ...cardCallback, note: '履职' });
    expect(await verifyFeishuRequest({ ...req, rawBody: new TextEncoder().encode(req.rawBody) })).toMatchObject({ ok: true });
  });

  it('also checks the Verification Token inside a signed body, when one is configured', async () => {
    const req = await signedRequest(cardCallback);
    expect(await verifyFeishuRequest({ ...req, verificationToken: 'another-token' })).toEqual({ ok: false, status: 401, reason: 'bad token' });
    const { header: _header, ...headerless } = cardCallback;
    expect(await verifyFeishuRequest(await signedRequest(headerless))).toEqual({ ok: false, status: 401, reason: 'bad token' });
    // Without a configured token the signature alone authenticates.
    expect(await verifyFeishuRequest({ ...req, verificationToken: undefined })).toEqual({ ok: true, body: cardCallback });
  });

  it('checks the signature before parsing or decrypting anything bigger than a URL check', async () => {
    const headers = { timestamp: TS, nonce: 'n', signature: 'f'.repeat(64) };
    const base = { headers, encryptKey: KEY, verificationToken: TOKEN, nowMs: NOW };
    const garbage = 'x'.repeat(UNSIGNED_MAX_BYTES + 1);
    expect(await verifyFeishuRequest({ ...base, rawBody: garbage })).toEqual({ ok: false, status: 401, reason: 'bad signature' });
    const badCipher = JSON.stringify({ encrypt: 'A'.repeat(UNSIGNED_MAX_BYTES) });
    expect(await verifyFeishuRequest({ ...base, rawBody: badCipher })).toEqual({ ok: false, status: 401, reason: 'bad signature' });
    expect(await verifyFeishuRequest({ ...base, headers: {}, rawBody: badCipher })).toEqual({ ok: false, status: 401, reason: 'missing signature headers' });
    // An unsigned URL check is decrypted only while it is as small as Feishu's.
    const padded = { challenge: 'c-1', token: TOKEN, type: 'url_verification', pad: 'p'.repeat(UNSIGNED_MAX_BYTES) };
    const rawBody = JSON.stringify({ encrypt: await encryptFeishu(KEY, JSON.stringify(padded)) });
    expect(await verifyFeishuRequest({ ...base, headers: {}, rawBody })).toEqual({ ok: false, status: 401, reason: 'missing signature headers' });
  });

  it('honours a custom tolerance', async () => {
    const req = await signedRequest(cardCallback, { nowMs: NOW + 61_000, toleranceSeconds: 60 });
    expect(await verifyFeishuRequest(req)).toMatchObject({ ok: false, reason: 'stale' });
  });

  it('refuses a plain body, an undecryptable one and bad JSON', async () => {
    const plain = JSON.stringify(cardCallback);
    const sig = await feishuSignature(TS, 'n', KEY, plain);
    const base = { headers: { timestamp: TS, nonce: 'n', signature: sig }, encryptKey: KEY, nowMs: NOW };
    expect(await verifyFeishuRequest({ ...base, rawBody: plain })).toMatchObject({ ok: false, status: 401 });
    expect(await verifyFeishuRequest({ ...base, rawBody: '{"encrypt":"AAAA"}' })).toMatchObject({ ok: false, status: 401, reason: 'decrypt failed' });
    const notJson = `{"encrypt":"${await encryptFeishu(KEY, 'not json')}"}`;
    expect(await verifyFeishuRequest({ ...base, rawBody: notJson })).toMatchObject({ ok: false, status: 401 });
    expect(await verifyFeishuRequest({ ...base, rawBody: '{"encrypt":' })).toEqual({ ok: false, status: 400, reason: 'bad json' });
  });

  it('accepts an unsigned encrypted url_verification only with the right token', async () => {
    const check = { challenge: 'c-1', token: TOKEN, type: 'url_verification' };
    const rawBody = JSON.stringify({ encrypt: await encryptFeishu(KEY, JSON.stringify(check)) });
    const base = { rawBody, headers: {}, encryptKey: KEY, nowMs: NOW };
    expect(await verifyFeishuRequest({ ...base, verificationToken: TOKEN })).toEqual({ ok: true, body: check });
    expect(await verifyFeishuRequest({ ...base, verificationToken: 'wrong' })).toMatchObject({ ok: false, status: 401, reason: 'bad token' });
    // The key alone authenticates when no token is configured.
    expect(await verifyFeishuRequest(base)).toEqual({ ok: true, body: check });
  });

  it('treats the oapi-sdk-go encrypted body as a url_verification carrying header.token', async () => {
    const base = { rawBody: fixture('dispatcher_test.TestDecryptEvent.json'), headers: {}, encryptKey: '1212121212', nowMs: NOW };
    expect(await verifyFeishuRequest({ ...base, verificationToken: 'v' })).toMatchObject({ ok: true, body: { challenge: '1212' } });
    expect(await verifyFeishuRequest({ ...base, verificationToken: 'x' })).toMatchObject({ ok: false, status: 401 });
  });

  it('refuses an encrypted body when no key is configured', async () => {
    const req = await signedRequest(cardCallback);
    expect(await verifyFeishuRequest({ ...req, encryptKey: undefined })).toMatchObject({ ok: false, status: 401 });
  });
});

describe('verifyFeishuRequest with a verification token only', () => {
  const plain = (rawBody: string, verificationToken?: string): VerifyOptions => ({ rawBody, headers: {}, verificationToken, nowMs: NOW });

  it('accepts the plain url_verification with its token (top-level token)', async () => {
    const raw = fixture('send-notifications-to-developers-server.url_verification.json');
    expect(await verifyFeishuRequest(plain(raw, 'xxxxxx'))).toEqual({ ok: true, body: JSON.parse(raw) });
    expect(await verifyFeishuRequest(plain(raw, 'xxxxxy'))).toMatchObject({ ok: false, status: 401, reason: 'bad token' });
  });

  it('checks header.token of a v2 envelope', async () => {
    const raw = fixture('card-callback-communication.json');
    expect(await verifyFeishuRequest(plain(raw, '066zT6pS4QCbgj5Do145GfDbbag*****'))).toMatchObject({ ok: true });
    expect(await verifyFeishuRequest(plain(raw, '066zT6pS4QCbgj5Do145GfDbbag'))).toMatchObject({ ok: false, status: 401 });
  });

  it('refuses everything when nothing is configured, and a body without a token', async () => {
    const raw = fixture('send-callbacks-to-developers-server.url_verification.json');
    expect(await verifyFeishuRequest(plain(raw))).toEqual({ ok: false, status: 401, reason: 'no verification configured' });
    expect(await verifyFeishuRequest(plain('{"type":"url_verification","challenge":"c"}', TOKEN))).toMatchObject({ ok: false, status: 401 });
    expect(await verifyFeishuRequest(plain('[]', TOKEN))).toMatchObject({ ok: false, status: 401 });
    expect(await verifyFeishuRequest(plain('nope', TOKEN))).toMatchObject({ ok: false, status: 400 });
  });
});
