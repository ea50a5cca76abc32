/**
 * The Feishu Open API calls the adapter makes, over plain fetch, with every failure turned
 * into one FeishuError classified for the outbox: rate_limited (wait resetSeconds),
 * transient (retry with backoff) or permanent (give up).
 *
 * Why not @larksuiteoapi/node-sdk here: these are seven JSON calls plus the
 * tenant_access_token, and the SDK gave little beyond them. Its token cache had to be
 * replaced (to count the lifetime Feishu gives on our clock) and its errors decoded from
 * axios internals, while loading its 6 MB bundle took 0.5–0.8 s of every start, time in which
 * a restarted sender could not send, and a Worker had to bundle it. The SDK is still used where
 * it does real work: the long connection (ws.ts), loaded only in that mode.
 *
 * The HTTP exchange itself is a transport: fetch by default (Workers), node:http on Node
 * (src/runtime/node-http.ts), which costs a third of the CPU per call.
 *
 * The contract, from the Open API docs (服务端 API): every call sends
 * `Content-Type: application/json; charset=utf-8` and `Authorization: Bearer
 * <tenant_access_token>`; an answer is `{code, msg, data}`, code 0 meaning success, and some
 * errors come back on HTTP 200 with a non-zero code (batch_send documents its errors so).
 * A token comes from POST /open-apis/auth/v3/tenant_access_token/internal {app_id,
 * app_secret} → {code, msg, tenant_access_token, expire (seconds)}; under 30 minutes left,
 * Feishu hands out a new one and both stay valid, so a token is used until 3 minutes before
 * its end (the SDK's margin) and then fetched again. Frequency limits answer HTTP 429 (some
 * old APIs 400) with code 99991400 and x-ogw-ratelimit-reset (seconds).
 */
import { feishuBaseUrl } from './domain';

export type FeishuErrorKind = 'rate_limited' | 'transient' | 'permanent';

export class FeishuError extends Error {
  override readonly name = 'FeishuError';
  constructor(
    readonly kind: FeishuErrorKind,
    /** Feishu's code, or null when there was no answer (network, timeout) or none in it. */
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
/** Token missing / invalid (the cached token is then dropped and the call retried later). */
const TOKEN_CODES = new Set([99991661, 99991663, 99991664]);
/** Documented as "try again": internal errors, "the message is being sent". */
const TRANSIENT_CODES = new Set([1500, 1503, 230049]);

function classify(status: number, code: number | null): FeishuErrorKind {
  if (status === 429 || (code !== null && RATE_LIMIT_CODES.has(code))) return 'rate_limited';
  if (code !== null && (TOKEN_CODES.has(code) || TRANSIENT_CODES.has(code))) return 'transient';
  if (status >= 500) return 'transient';
  return 'permanent';
}

function codeOf(body: unknown): { code: number | null; msg: string } {
  if (body && typeof body === 'object') {
    const b = body as { code?: unknown; msg?: unknown };
    const code = typeof b.code === 'number' ? b.code : typeof b.code === 'string' && /^\d+$/.test(b.code) ? Number(b.code) : null;
    return { code, msg: typeof b.msg === 'string' ? b.msg : '' };
  }
  return { code: null, msg: typeof body === 'string' ? body.slice(0, 200) : '' };
}

/** One HTTP request as the client makes it: always a JSON body. */
export interface HttpRequest {
  readonly method: 'POST' | 'PATCH';
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Give up (and reject) when no whole answer has come within this. */
  readonly timeoutMs: number;
}

/** A whole answer, whatever its status. */
export interface HttpAnswer {
  readonly status: number;
  /** A header by its lower-case name. */
  header(name: string): string | null;
  readonly text: string;
}

/** Makes one exchange; rejects only when there is no answer (refused, reset, timed out), with the cause's `code` where there is one. */
export type HttpTransport = (url: string, req: HttpRequest) => Promise<HttpAnswer>;

/** The runtime's fetch (Workers, tests). */
export const fetchTransport: HttpTransport = async (url, req) => {
  const res = await fetch(url, { method: req.method, headers: req.headers, body: req.body, signal: AbortSignal.timeout(req.timeoutMs) });
  return { status: res.status, header: (name) => res.headers.get(name), text: await res.text() };
};

/** No answer at all (refused, reset, timed out): worth retrying. */
function transportError(e: unknown, api: string): FeishuError {
  const err = e as { name?: unknown; message?: unknown; code?: unknown; cause?: { code?: unknown } } | null;
  const code = typeof err?.code === 'string' ? err.code : typeof err?.cause?.code === 'string' ? err.cause.code : null;
  const why = code ?? (err?.name === 'TimeoutError' ? 'timeout' : 'network error');
  return new FeishuError('transient', null, `${why}: ${typeof err?.message === 'string' ? err.message : String(e)}`, { api });
}

/** An answer that is not a success: its HTTP status, Feishu's code and the reset header classify it. */
function answerError(api: string, answer: HttpAnswer, body: unknown): FeishuError {
  const { status } = answer;
  const { code, msg } = codeOf(body);
  if (status >= 200 && status < 300 && code === null) return new FeishuError('transient', null, 'answer without a code', { api, status });
  const kind = classify(status, code);
  const reset = Number(answer.header('x-ogw-ratelimit-reset'));
  return new FeishuError(kind, code, msg || `HTTP ${status}`, { api, status, ...(kind === 'rate_limited' ? { resetSeconds: Number.isFinite(reset) && reset > 0 ? reset : 1 } : {}) });
}

/** Seconds before a token's end that it is no longer used (the SDK's own margin: the network takes time). */
const TOKEN_MARGIN_S = 180;

export interface FeishuClientConfig {
  appId: string;
  appSecret: string;
  /** 'feishu' (open.feishu.cn), 'lark' (open.larksuite.com) or a base URL (a mock). */
  domain: string;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** The clock token expiry is counted on, in ms; only differences matter (default performance.now()). */
  now?: () => number;
  /** How requests are made (default fetchTransport); tests pass answers a mock cannot give. */
  transport?: HttpTransport;
}

export type UrgentKind = 'app' | 'sms' | 'phone';

const chunk = <T>(xs: readonly T[], n: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
};

export function createFeishuClient(cfg: FeishuClientConfig) {
  const base = feishuBaseUrl(cfg.domain);
  const now = cfg.now ?? (() => performance.now());
  const timeoutMs = cfg.timeoutMs ?? 10_000;
  const transport = cfg.transport ?? fetchTransport;
  let token: { value: string; usableUntil: number } | null = null;
  // Concurrent calls without a token share one fetch of it.
  let fetching: Promise<string> | null = null;

  /** One exchange: the parsed answer when it is a success (2xx, code 0), else a FeishuError. */
  async function exchange(api: string, method: HttpRequest['method'], path: string, body: unknown, bearer: string | null): Promise<Record<string, unknown>> {
    let answer: HttpAnswer;
    try {
      answer = await transport(`${base}${path}`, {
        method,
        headers: { 'content-type': 'application/json; charset=utf-8', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
        body: JSON.stringify(body),
        timeoutMs,
      });
    } catch (e) {
      throw transportError(e, api);
    }
    let parsed: unknown = answer.text;
    try {
      parsed = JSON.parse(answer.text);
    } catch {
      // not JSON (a proxy's error page): classified by its status
    }
    if (answer.status >= 200 && answer.status < 300 && codeOf(parsed).code === 0) return parsed as Record<string, unknown>;
    throw answerError(api, answer, parsed);
  }

  async function fetchToken(): Promise<string> {
    const api = 'tenant_access_token';
    const answer = await exchange(api, 'POST', '/open-apis/auth/v3/tenant_access_token/internal', { app_id: cfg.appId, app_secret: cfg.appSecret }, null);
    const { tenant_access_token: value, expire } = answer;
    if (typeof value !== 'string' || value === '') throw new FeishuError('transient', 0, 'no tenant_access_token in the answer', { api });
    // A token whose lifetime we did not see, or too short to keep, is used for this call only.
    if (typeof expire === 'number' && Number.isFinite(expire) && expire > TOKEN_MARGIN_S) token = { value, usableUntil: now() + (expire - TOKEN_MARGIN_S) * 1000 };
    return value;
  }

  function tenantToken(): Promise<string> {
    if (token && token.usableUntil > now()) return Promise.resolve(token.value);
    fetching ??= fetchToken().finally(() => {
      fetching = null;
    });
    return fetching;
  }

  /** An authorised call; returns `data` of a successful answer. */
  async function call<T>(api: string, method: HttpRequest['method'], path: string, body: unknown): Promise<T> {
    const bearer = await tenantToken();
    try {
      const answer = await exchange(api, method, path, body, bearer);
      return (answer.data ?? {}) as T;
    } catch (e) {
      // Feishu no longer takes this token (revoked, expired early): the next call fetches one.
      if (e instanceof FeishuError && e.code !== null && TOKEN_CODES.has(e.code) && token?.value === bearer) token = null;
      throw e;
    }
  }

  const messagePath = (messageId: string) => `/open-apis/im/v1/messages/${encodeURIComponent(messageId)}`;

  return {
    /** Sends a card to one user; `uuid` (≤ 50 chars) makes a repeat within 1 h return the same message. */
    async sendCard(openId: string, card: unknown, uuid: string): Promise<{ messageId: string }> {
      const api = 'im.message.create';
      if (uuid.length > 50) throw new FeishuError('permanent', null, `uuid longer than 50 characters: ${uuid}`, { api });
      const data = await call<{ message_id?: string }>(api, 'POST', '/open-apis/im/v1/messages?receive_id_type=open_id', {
        receive_id: openId,
        msg_type: 'interactive',
        content: JSON.stringify(card),
        uuid,
      });
      if (!data.message_id) throw new FeishuError('transient', 0, 'no message_id in the answer', { api });
      return { messageId: data.message_id };
    },

    /** Replaces a sent card (the card must declare config.update_multi: true, before and after). */
    async patchCard(messageId: string, card: unknown): Promise<void> {
      await call('im.message.patch', 'PATCH', messagePath(messageId), { content: JSON.stringify(card) });
    },

    /** Delayed update with a card-callback token (30 min, 2 uses); call after answering the callback. */
    async delayedUpdate(token: string, card: unknown): Promise<void> {
      await call('interactive.card.update', 'POST', '/open-apis/interactive/v1/card/update', { token, card });
    },

    /** 加急: in-app, SMS or phone; returns the ids Feishu could not buzz. */
    async urgent(messageId: string, kind: UrgentKind, openIds: readonly string[]): Promise<{ invalidIds: string[] }> {
      const invalidIds: string[] = [];
      for (const part of chunk(openIds, 200)) {
        const data = await call<{ invalid_user_id_list?: string[] }>(`im.message.urgent_${kind}`, 'PATCH', `${messagePath(messageId)}/urgent_${kind}?user_id_type=open_id`, { user_id_list: part });
        invalidIds.push(...(data.invalid_user_id_list ?? []));
      }
      return { invalidIds };
    },

    /** 批量发送: one card to ≤ 200 users and/or ≤ 200 departments (async on Feishu's side; bm- ids cannot be patched). */
    async batchSend(to: { openIds?: readonly string[]; departmentIds?: readonly string[] }, card: unknown): Promise<{ messageId: string; invalid: { openIds: string[]; departmentIds: string[] } }> {
      const api = 'message.batch_send';
      const openIds = [...(to.openIds ?? [])];
      const departmentIds = [...(to.departmentIds ?? [])];
      if (openIds.length > 200 || departmentIds.length > 200) throw new FeishuError('permanent', null, 'batch_send takes at most 200 open_ids and 200 department_ids', { api });
      if (openIds.length === 0 && departmentIds.length === 0) throw new FeishuError('permanent', null, 'batch_send needs open_ids or department_ids', { api });
      const data = await call<{ message_id?: string; invalid_open_ids?: string[]; invalid_department_ids?: string[] }>(api, 'POST', '/open-apis/message/v4/batch_send/', {
        msg_type: 'interactive',
        card,
        ...(openIds.length ? { open_ids: openIds } : {}),
        ...(departmentIds.length ? { department_ids: departmentIds } : {}),
      });
      return { messageId: data.message_id ?? '', invalid: { openIds: data.invalid_open_ids ?? [], departmentIds: data.invalid_department_ids ?? [] } };
    },

    /** Mobiles and emails → open_id, for those Feishu knows (≤ 50 of each per call). */
    async batchGetIds(q: { mobiles?: readonly string[]; emails?: readonly string[] }): Promise<Map<string, string>> {
      const mobiles = chunk(q.mobiles ?? [], 50);
      const emails = chunk(q.emails ?? [], 50);
      const out = new Map<string, string>();
      for (let i = 0; i < Math.max(mobiles.length, emails.length); i++) {
        const data = await call<{ user_list?: Array<{ user_id?: string; mobile?: string; email?: string }> }>('contact.user.batch_get_id', 'POST', '/open-apis/contact/v3/users/batch_get_id?user_id_type=open_id', {
          ...(mobiles[i] ? { mobiles: mobiles[i] } : {}),
          ...(emails[i] ? { emails: emails[i] } : {}),
        });
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
