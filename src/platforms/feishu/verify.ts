/**
 * Feishu request authentication and decryption, on Web Crypto only so it runs unchanged on
 * Cloudflare Workers and Node 20. Rules (PLATFORMS.md §3): with an Encrypt Key, bodies are
 * AES-256-CBC encrypted and signed over the RAW body; without one, only the Verification
 * Token inside the body identifies the sender.
 */
const utf8 = new TextEncoder();

function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function toBase64(bytes: Uint8Array): string {
  let bin = '';
  // Chunked: String.fromCharCode(...bytes) overflows the argument limit on large bodies.
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

async function aesKey(encryptKey: string, usage: 'encrypt' | 'decrypt'): Promise<CryptoKey> {
  const digest = await crypto.subtle.digest('SHA-256', utf8.encode(encryptKey));
  return crypto.subtle.importKey('raw', digest, { name: 'AES-CBC' }, false, [usage]);
}

/** base64(IV ‖ ciphertext) → plaintext. Throws on bad base64, length, padding or UTF-8. */
export async function decryptFeishu(encryptKey: string, encrypt: string): Promise<string> {
  const bytes = fromBase64(encrypt);
  if (bytes.length < 32 || bytes.length % 16 !== 0) throw new Error('bad ciphertext length');
  const plain = await crypto.subtle.decrypt({ name: 'AES-CBC', iv: bytes.slice(0, 16) }, await aesKey(encryptKey, 'decrypt'), bytes.slice(16));
  return new TextDecoder('utf-8', { fatal: true }).decode(plain);
}

/** The inverse of decryptFeishu; a random IV unless one is given (tests). */
export async function encryptFeishu(encryptKey: string, plaintext: string, iv?: Uint8Array): Promise<string> {
  const ivBytes = iv ? new Uint8Array(iv) : crypto.getRandomValues(new Uint8Array(16));
  if (ivBytes.length !== 16) throw new Error('iv must be 16 bytes');
  const cipher = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CBC', iv: ivBytes }, await aesKey(encryptKey, 'encrypt'), utf8.encode(plaintext)));
  const out = new Uint8Array(16 + cipher.length);
  out.set(ivBytes, 0);
  out.set(cipher, 16);
  return toBase64(out);
}

/** X-Lark-Signature: hex sha256(timestamp + nonce + encryptKey + raw body as received). */
export async function feishuSignature(timestamp: string, nonce: string, encryptKey: string, rawBody: string | Uint8Array): Promise<string> {
  const prefix = utf8.encode(timestamp + nonce + encryptKey);
  const body = typeof rawBody === 'string' ? utf8.encode(rawBody) : rawBody;
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix, 0);
  signed.set(body, prefix.length);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', signed));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Compares every position up to the longer length, so timing reveals neither prefix nor length. */
export function timingSafeEqual(a: string, b: string): boolean {
  const n = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < n; i++) diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  return diff === 0;
}

export interface VerifyOptions {
  /** The body exactly as received (bytes, or text for tests). */
  rawBody: string | Uint8Array;
  /** X-Lark-Request-Timestamp, X-Lark-Request-Nonce, X-Lark-Signature. */
  headers: { timestamp?: string | null; nonce?: string | null; signature?: string | null };
  encryptKey?: string;
  verificationToken?: string;
  nowMs: number;
  /** Allowed clock skew of the request timestamp, seconds. */
  toleranceSeconds?: number;
}

export type VerifyResult = { ok: true; body: unknown } | { ok: false; status: 400 | 401; reason: string };

/**
 * The largest body decrypted without a valid signature. Feishu does not sign the URL check, so
 * it must be decrypted to be recognised; it is a few hundred bytes. Anything bigger is refused
 * on the signature alone, before any JSON parsing or decryption (an unauthenticated post cannot
 * make us decrypt megabytes).
 */
export const UNSIGNED_MAX_BYTES = 4096;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const deny = (reason: string): VerifyResult & { ok: false } => ({ ok: false, status: 401, reason });

/** The Verification Token a body carries: `header.token` (v2 envelope) or `token` (v1, url_verification). */
function bodyToken(body: unknown): string | null {
  if (!isRecord(body)) return null;
  if (isRecord(body.header) && typeof body.header.token === 'string') return body.header.token;
  return typeof body.token === 'string' ? body.token : null;
}

const tokenMatches = (body: unknown, expected: string): boolean => {
  const got = bodyToken(body);
  return got !== null && timingSafeEqual(got, expected);
};

function parseJson(raw: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(new TextDecoder().decode(raw)) };
  } catch {
    return { ok: false };
  }
}

/** Timestamp (digits only: `1e9` or `abc` would skip the staleness check), freshness, signature. */
async function checkSignature(raw: Uint8Array, opts: VerifyOptions & { encryptKey: string }): Promise<VerifyResult & { ok: false } | null> {
  const { timestamp, nonce, signature } = opts.headers;
  if (!timestamp || !nonce || !signature) return deny('missing signature headers');
  if (!/^\d{1,12}$/.test(timestamp)) return deny('bad timestamp');
  const skew = Math.abs(opts.nowMs / 1000 - Number(timestamp));
  if (skew > (opts.toleranceSeconds ?? 300)) return deny('stale');
  const expected = await feishuSignature(timestamp, nonce, opts.encryptKey, raw);
  return timingSafeEqual(signature.toLowerCase(), expected) ? null : deny('bad signature');
}

async function decryptBody(raw: Uint8Array, encryptKey: string): Promise<VerifyResult> {
  const outer = parseJson(raw);
  if (!outer.ok) return { ok: false, status: 400, reason: 'bad json' };
  // With a key configured Feishu encrypts everything; a plain body would be a downgrade.
  if (!isRecord(outer.value) || typeof outer.value.encrypt !== 'string') return deny('expected an encrypted body');
  try {
    return { ok: true, body: JSON.parse(await decryptFeishu(encryptKey, outer.value.encrypt)) };
  } catch {
    return deny('decrypt failed');
  }
}

/** Authenticates one request and returns its (decrypted) JSON body. */
export async function verifyFeishuRequest(opts: VerifyOptions): Promise<VerifyResult> {
  const raw = typeof opts.rawBody === 'string' ? utf8.encode(opts.rawBody) : opts.rawBody;
  if (!opts.encryptKey) {
    const outer = parseJson(raw);
    if (!outer.ok) return { ok: false, status: 400, reason: 'bad json' };
    if (isRecord(outer.value) && Object.hasOwn(outer.value, 'encrypt')) return deny('encrypted body but no encrypt key configured');
    if (!opts.verificationToken) return deny('no verification configured');
    return tokenMatches(outer.value, opts.verificationToken) ? { ok: true, body: outer.value } : deny('bad token');
  }

  const refused = await checkSignature(raw, { ...opts, encryptKey: opts.encryptKey });
  if (refused && raw.length > UNSIGNED_MAX_BYTES) return refused;
  const decrypted = await decryptBody(raw, opts.encryptKey);
  if (!decrypted.ok) return decrypted;
  const body = decrypted.body;
  // Unsigned (or badly signed), only the URL check passes: Feishu does not sign it.
  if (refused && !(isRecord(body) && body.type === 'url_verification')) return refused;
  // Defence in depth: the token inside the ciphertext must match too, when one is configured.
  if (opts.verificationToken && !tokenMatches(body, opts.verificationToken)) return deny('bad token');
  return { ok: true, body };
}
