/**
 * The Feishu Open API calls the adapter makes, over @larksuiteoapi/node-sdk's Client (which
 * fetches, caches and refreshes the tenant_access_token), with every failure turned into one
 * FeishuError classified for the outbox: rate_limited (wait resetSeconds), transient (retry
 * with backoff) or permanent (give up).
 *
 * How the SDK (1.74.0) surfaces results, read from its source (lib/index.js):
 * - Its axios instance's response interceptor returns `resp.data`, so a call resolves to the
 *   JSON body `{code, msg, data}`; a body with code ≠ 0 on HTTP 200 (batch_send documents its
 *   errors that way) resolves too and must be checked here.
 * - Non-2xx answers reject with the AxiosError itself (logged, then rethrown):
 *   `e.response.status`, `e.response.headers` (lower-case names: x-ogw-ratelimit-reset) and
 *   `e.response.data` (`{code, msg}`). Network errors and timeouts are AxiosErrors without
 *   `response` (`e.code` ECONNREFUSED, ECONNRESET, ECONNABORTED, ETIMEDOUT…).
 * - A failed token fetch: transport errors are the AxiosError; an HTTP-200 answer without a
 *   token throws `Error("failed to get tenant_access_token, code: X, msg: Y")`.
 * - The token cache defaults to one module-wide cache keyed by app id; each client here gets
 *   its own, so it can be dropped when Feishu says the token is invalid (99991661/99991663).
 * - The SDK hands the cache an expiry instant it read from the wall clock; the cache instead
 *   takes the token's lifetime (`expire`, seconds) from the token answer passing through our
 *   HTTP instance, and counts it on the client's own clock, so expiry is testable.
 * The SDK logs failures with the whole axios error (request headers included), so its
 * logger is silenced; callers log the classified error.
 */
import * as lark from '@larksuiteoapi/node-sdk';
import { sdkDomain } from './domain';

export type FeishuErrorKind = 'rate_limited' | 'transient' | 'permanent';

export class FeishuError extends Error {
  override readonly name = 'FeishuError';
  constructor(
    readonly kind: FeishuErrorKind,
    /** Feishu's code, or null when there was no answer (network, timeout). */
    readonly code: number | null,
    readonly msg: string,
    readonly detail: { api?: string; status?: number; resetSeconds?: number } = {},
  ) {
    super(`${detail.api ?? 'feishu'}: ${kind}${code !== null ? ` ${code}` : ''}${detail.status ? ` (HTTP ${detail.status})` : ''}: ${msg}`);
  }
  /** For rate_limited: seconds until the window resets (x-ogw-ratelimit-reset, else 1). */
  get resetSeconds(): number | undefined {
    return this.detail.resetSeconds;
  }
}

/** 99991400: gateway frequency limit (docs: HTTP 429, some old APIs 400); 230020: IM "triggers the frequency limit". */
const RATE_LIMIT_CODES = new Set([99991400, 230020]);
/** Token missing / invalid (the cache is then dropped and the call retried later). */
const TOKEN_CODES = new Set([99991661, 99991663, 99991664]);
/** Documented as "try again": internal errors, "the message is being sent". */
const TRANSIENT_CODES = new Set([1500, 1503, 230049]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ERR_NETWORK', 'ERR_BAD_RESPONSE', 'ERR_CANCELED']);

function classify(status: number | undefined, code: number | null): FeishuErrorKind {
  if (status === 429 || (code !== null && RATE_LIMIT_CODES.has(code))) return 'rate_limited';
  if (code !== null && (TOKEN_CODES.has(code) || TRANSIENT_CODES.has(code))) return 'transient';
  if (status !== undefined && status >= 500) return 'transient';
  return 'permanent';
}

function headerOf(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const h = headers as Record<string, unknown> & { get?: (n: string) => unknown };
  const v = h[name] ?? (typeof h.get === 'function' ? h.get(name) : undefined);
  if (Array.isArray(v)) return v[0] === undefined ? undefined : String(v[0]);
  return v === undefined || v === null ? undefined : String(v);
}

function codeOf(body: unknown): { code: number | null; msg: string } {
  if (body && typeof body === 'object') {
    const b = body as { code?: unknown; msg?: unknown };
    const code = typeof b.code === 'number' ? b.code : typeof b.code === 'string' && /^\d+$/.test(b.code) ? Number(b.code) : null;
    return { code, msg: typeof b.msg === 'string' ? b.msg : '' };
  }
  return { code: null, msg: typeof body === 'string' ? body.slice(0, 200) : '' };
}

/** Turns anything a call threw into a FeishuError. */
export function toFeishuError(e: unknown, api?: string): FeishuError {
  if (e instanceof FeishuError) return e;
  const err = e as { isAxiosError?: boolean; response?: { status?: number; headers?: unknown; data?: unknown }; code?: string; message?: string };
  if (err && err.isAxiosError) {
    const res = err.response;
    if (!res) return new FeishuError('transient', null, `${err.code ?? 'network error'}: ${err.message ?? ''}`.trim(), { ...(api ? { api } : {}) });
    const { code, msg } = codeOf(res.data);
    const kind = classify(res.status, code);
    const reset = Number(headerOf(res.headers, 'x-ogw-ratelimit-reset'));
    return new FeishuError(kind, code, msg || `HTTP ${res.status}`, {
      ...(api ? { api } : {}),
      ...(res.status !== undefined ? { status: res.status } : {}),
      ...(kind === 'rate_limited' ? { resetSeconds: Number.isFinite(reset) && reset > 0 ? reset : 1 } : {}),
    });
  }
  const message = e instanceof Error ? e.message : String(e);
  const token = /failed to get tenant_access_token, code: (\S+), msg: (.*)$/s.exec(message);
  if (token) {
    const code = /^\d+$/.test(token[1]!) ? Number(token[1]) : null;
    // An answer without a token: bad credentials are permanent, an unknown answer is not.
    const kind = code === null ? 'transient' : classify(200, code);
    return new FeishuError(kind, code, token[2]!, { api: 'tenant_access_token', ...(kind === 'rate_limited' ? { resetSeconds: 1 } : {}) });
  }
  const netCode = (e as { code?: unknown })?.code;
  if (typeof netCode === 'string' && NETWORK_CODES.has(netCode)) return new FeishuError('transient', null, `${netCode}: ${message}`, { ...(api ? { api } : {}) });
  return new FeishuError('transient', null, message, { ...(api ? { api } : {}) });
}

/** Seconds before a token's end that it is no longer used (the SDK's own margin: the network takes time). */
const TOKEN_MARGIN_S = 180;

/**
 * A per-client token cache the adapter can drop; same contract as the SDK's DefaultCache, but
 * expiry counted on the injected clock from the lifetime Feishu gave (see `lifetime`).
 */
class TokenCache implements lark.Cache {
  private readonly values = new Map<string, { value: unknown; expiresAt: number }>();
  /** Token → lifetime in seconds, from the token answer, until the SDK stores that token. */
  private readonly lifetimes = new Map<string, number>();
  constructor(private readonly now: () => number) {}
  private keyOf(key: string | symbol | object, namespace?: string) {
    return `${namespace ?? ''}/${key.toString()}`;
  }
  lifetime(token: string, expireSeconds: number) {
    this.lifetimes.set(token, expireSeconds);
  }
  async get(key: string | symbol | object, options?: { namespace?: string }) {
    const hit = this.values.get(this.keyOf(key, options?.namespace));
    if (hit && hit.expiresAt > this.now()) return hit.value;
    return undefined;
  }
  async set(key: string | symbol | object, value: unknown, _wallClockExpiry?: number, options?: { namespace?: string }) {
    const seconds = typeof value === 'string' ? this.lifetimes.get(value) : undefined;
    if (typeof value === 'string') this.lifetimes.delete(value);
    // A value whose lifetime we did not see is not kept: the next call fetches a token again.
    if (seconds === undefined) return true;
    this.values.set(this.keyOf(key, options?.namespace), { value, expiresAt: this.now() + Math.max(seconds - TOKEN_MARGIN_S, 0) * 1000 });
    return true;
  }
  clear() {
    this.values.clear();
    this.lifetimes.clear();
  }
}

const silent: lark.Logger = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {}, trace: () => {} };

/**
 * The SDK's own axios instance (its interceptor unwraps `resp.data`), with a timeout; token
 * answers tell the cache the token's lifetime.
 */
function httpWithTimeout(timeoutMs: number, cache: TokenCache): lark.HttpInstance {
  const base = lark.defaultHttpInstance;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const req = async (o: lark.HttpRequestOptions<any>): Promise<any> => {
    const body: unknown = await base.request({ timeout: timeoutMs, ...(o as object) });
    if (typeof o.url === 'string' && o.url.includes('/open-apis/auth/v3/tenant_access_token') && body && typeof body === 'object') {
      const { tenant_access_token: token, expire } = body as { tenant_access_token?: unknown; expire?: unknown };
      if (typeof token === 'string' && typeof expire === 'number' && Number.isFinite(expire)) cache.lifetime(token, expire);
    }
    return body;
  };
  return {
    request: (o) => req(o),
    get: (url, o) => req({ ...o, url, method: 'GET' }),
    delete: (url, o) => req({ ...o, url, method: 'DELETE' }),
    head: (url, o) => req({ ...o, url, method: 'HEAD' }),
    options: (url, o) => req({ ...o, url, method: 'OPTIONS' }),
    post: (url, data, o) => req({ ...o, url, method: 'POST', data }),
    put: (url, data, o) => req({ ...o, url, method: 'PUT', data }),
    patch: (url, data, o) => req({ ...o, url, method: 'PATCH', data }),
  };
}

export interface FeishuClientConfig {
  appId: string;
  appSecret: string;
  /** 'feishu' (open.feishu.cn), 'lark' (open.larksuite.com) or a base URL (a mock). */
  domain: string;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** The clock token expiry is counted on, in ms; only differences matter (default performance.now()). */
  now?: () => number;
}

export type UrgentKind = 'app' | 'sms' | 'phone';

interface Body<T> {
  code?: number;
  msg?: string;
  data?: T;
}

const chunk = <T>(xs: readonly T[], n: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
};

export function createFeishuClient(cfg: FeishuClientConfig) {
  const cache = new TokenCache(cfg.now ?? (() => performance.now()));
  const client = new lark.Client({
    appId: cfg.appId,
    appSecret: cfg.appSecret,
    appType: lark.AppType.SelfBuild,
    domain: sdkDomain(cfg.domain),
    cache,
    logger: silent,
    loggerLevel: lark.LoggerLevel.fatal,
    httpInstance: httpWithTimeout(cfg.timeoutMs ?? 10_000, cache),
  });

  /** Runs one call: a rejection or a body with code ≠ 0 becomes a FeishuError. */
  async function call<T>(api: string, run: () => Promise<Body<T> | undefined>): Promise<T> {
    let body: Body<T> | undefined;
    try {
      body = await run();
    } catch (e) {
      const fe = toFeishuError(e, api);
      if (fe.code !== null && TOKEN_CODES.has(fe.code)) cache.clear();
      throw fe;
    }
    const { code, msg } = codeOf(body);
    if (code !== 0 && code !== null) {
      const kind = classify(200, code);
      if (TOKEN_CODES.has(code)) cache.clear();
      throw new FeishuError(kind, code, msg, { api, status: 200, ...(kind === 'rate_limited' ? { resetSeconds: 1 } : {}) });
    }
    if (!body || code === null) throw new FeishuError('transient', null, 'answer without a code', { api });
    return (body.data ?? {}) as T;
  }

  return {
    /** Sends a card to one user; `uuid` (≤ 50 chars) makes a repeat within 1 h return the same message. */
    async sendCard(openId: string, card: unknown, uuid: string): Promise<{ messageId: string }> {
      if (uuid.length > 50) throw new FeishuError('permanent', null, `uuid longer than 50 characters: ${uuid}`, { api: 'im.message.create' });
      const data = await call<{ message_id?: string }>('im.message.create', () =>
        client.im.v1.message.create({
          params: { receive_id_type: 'open_id' },
          data: { receive_id: openId, msg_type: 'interactive', content: JSON.stringify(card), uuid },
        }),
      );
      if (!data.message_id) throw new FeishuError('transient', 0, 'no message_id in the answer', { api: 'im.message.create' });
      return { messageId: data.message_id };
    },

    /** Replaces a sent card (the card must declare config.update_multi: true, before and after). */
    async patchCard(messageId: string, card: unknown): Promise<void> {
      await call('im.message.patch', () => client.im.v1.message.patch({ path: { message_id: messageId }, data: { content: JSON.stringify(card) } }));
    },

    /** Delayed update with a card-callback token (30 min, 2 uses); call after answering the callback. */
    async delayedUpdate(token: string, card: unknown): Promise<void> {
      await call('interactive.card.update', () =>
        client.request<Body<unknown>>({ method: 'POST', url: '/open-apis/interactive/v1/card/update', data: { token, card } }),
      );
    },

    /** 加急: in-app, SMS or phone; returns the ids Feishu could not buzz. */
    async urgent(messageId: string, kind: UrgentKind, openIds: readonly string[]): Promise<{ invalidIds: string[] }> {
      const invalidIds: string[] = [];
      for (const part of chunk(openIds, 200)) {
        const payload = { path: { message_id: messageId }, params: { user_id_type: 'open_id' as const }, data: { user_id_list: part } };
        const m = client.im.v1.message;
        const data = await call<{ invalid_user_id_list?: string[] }>(`im.message.urgent_${kind}`, () =>
          kind === 'app' ? m.urgentApp(payload) : kind === 'sms' ? m.urgentSms(payload) : m.urgentPhone(payload),
        );
        invalidIds.push(...(data.invalid_user_id_list ?? []));
      }
      return { invalidIds };
    },

    /** 批量发送: one card to ≤ 200 users and/or ≤ 200 departments (async on Feishu's side; bm- ids cannot be patched). */
    async batchSend(to: { openIds?: readonly string[]; departmentIds?: readonly string[] }, card: unknown): Promise<{ messageId: string; invalid: { openIds: string[]; departmentIds: string[] } }> {
      const openIds = [...(to.openIds ?? [])];
      const departmentIds = [...(to.departmentIds ?? [])];
      if (openIds.length > 200 || departmentIds.length > 200) throw new FeishuError('permanent', null, 'batch_send takes at most 200 open_ids and 200 department_ids', { api: 'message.batch_send' });
      if (openIds.length === 0 && departmentIds.length === 0) throw new FeishuError('permanent', null, 'batch_send needs open_ids or department_ids', { api: 'message.batch_send' });
      const data = await call<{ message_id?: string; invalid_open_ids?: string[]; invalid_department_ids?: string[] }>('message.batch_send', () =>
        client.request<Body<{ message_id?: string; invalid_open_ids?: string[]; invalid_department_ids?: string[] }>>({
          method: 'POST',
          url: '/open-apis/message/v4/batch_send/',
          data: { msg_type: 'interactive', card, ...(openIds.length ? { open_ids: openIds } : {}), ...(departmentIds.length ? { department_ids: departmentIds } : {}) },
        }),
      );
      return { messageId: data.message_id ?? '', invalid: { openIds: data.invalid_open_ids ?? [], departmentIds: data.invalid_department_ids ?? [] } };
    },

    /** Mobiles and emails → open_id, for those Feishu knows (≤ 50 of each per call). */
    async batchGetIds(q: { mobiles?: readonly string[]; emails?: readonly string[] }): Promise<Map<string, string>> {
      const mobiles = chunk(q.mobiles ?? [], 50);
      const emails = chunk(q.emails ?? [], 50);
      const out = new Map<string, string>();
      for (let i = 0; i < Math.max(mobiles.length, emails.length); i++) {
        const data = await call<{ user_list?: Array<{ user_id?: string; mobile?: string; email?: string }> }>('contact.user.batch_get_id', () =>
          client.contact.v3.user.batchGetId({
            params: { user_id_type: 'open_id' },
            data: { ...(mobiles[i] ? { mobiles: mobiles[i] } : {}), ...(emails[i] ? { emails: emails[i] } : {}) },
          }),
        );
        for (const u of data.user_list ?? []) {
          if (!u.user_id) continue;
          if (u.mobile) out.set(u.mobile, u.user_id);
          if (u.email) out.set(u.email, u.user_id);
        }
      }
      return out;
    },
  };
}

export type FeishuClient = ReturnType<typeof createFeishuClient>;
