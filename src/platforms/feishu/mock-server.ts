/**
 * A mock of the Feishu Open API for tests and benchmarks (Node-only test support): the calls
 * the Feishu adapter makes, with the documented contract — tenant_access_token, Bearer auth,
 * send with uuid de-duplication, PATCH, delayed update with callback tokens (2 uses, 30 min),
 * batch send, urgent, batch_get_id — and the documented rate limits: per app QPS + QPM per
 * API answered with HTTP 429 / 99991400 and x-ogw-ratelimit-* headers, per receiving user
 * (send) and per message (PATCH) QPS answered with 230020. `state` records what the
 * RECEIVING side saw, so tests count duplicates and losses there rather than trusting the
 * sender.
 *
 * Sources: riba2534/feishu-open-docs im-v1/message/create.md, im-v1/message-card/patch.md,
 * im-v1/message-card/uMDO1YjLzgTN24yM4UjN.md, im-v1/batch_message/ucDO1EjL3gTNx4yN4UTM.md,
 * im-v1/buzz-messages/urgent_app.md, contact-v3/user/batch_get_id.md,
 * api-call-guide/uUzN04SN3QjL1cDN.md, authentication-management/access-token/tenant_access_token_internal.md.
 * Where the docs give no HTTP status for an error (delayed update, auth), 400/401 are guesses.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type MockRoute = 'token' | 'send' | 'patch' | 'card_update' | 'batch_send' | 'urgent' | 'batch_get_id';

export interface MockRateLimits {
  /** Per app per API, calls per second (doc: 50). Infinity switches it off. */
  perSecond?: number;
  /** Per app per API, calls per minute (doc: 1000). */
  perMinute?: number;
  /** Sends to one user per second (doc: 5). */
  perUserPerSecond?: number;
  /** PATCHes of one message per second (doc: 5). */
  perMessagePatchPerSecond?: number;
}

/** A failure to inject into the next matching request. */
export interface FailSpec {
  /** Which call fails; any call but the token fetch when omitted. */
  route?: MockRoute;
  /** HTTP status (default 500). */
  status?: number;
  code?: number;
  msg?: string;
  headers?: Record<string, string>;
  /** 'reset' drops the connection; 'hang' never answers (a client timeout). */
  network?: 'reset' | 'hang';
  /** Handle the request first (e.g. record the message), then fail the answer: a lost response. */
  afterHandling?: boolean;
  /** How many requests it applies to (default 1). */
  times?: number;
}

export interface MockOptions {
  appId?: string;
  appSecret?: string;
  rateLimits?: MockRateLimits;
  /** Checks a parsed card; any message refuses it (230099 on send/PATCH). */
  validateCard?: (card: unknown) => string[];
  failNext?: FailSpec[];
  /** open_ids outside the app's availability: sending to them answers 230013. */
  outsideAvailability?: Iterable<string>;
  /** The contact directory batch_get_id answers from: mobile/email → open_id. */
  directory?: { mobiles?: Record<string, string>; emails?: Record<string, string> };
  /**
   * The mock's clock: token expiry, uuid window, rate windows. Default: a fixed instant plus the
   * real time elapsed since start (rate windows must open again), never today's date.
   */
  now?: () => number;
  /** Listen on this loopback port (default: any free one), e.g. to replace a mock a running worker points at. */
  port?: number;
}

export interface MockMessage {
  message_id: string;
  receive_id: string;
  msg_type: string;
  /** The card as sent. */
  card: unknown;
  /** The card as the user sees it now (after PATCHes and delayed updates). */
  current: unknown;
  uuid: string | null;
  created: number;
}

export interface MockState {
  messages: MockMessage[];
  patches: Array<{ message_id: string; card: unknown; at: number }>;
  delayedUpdates: Array<{ token: string; card: unknown; at: number }>;
  urgents: Array<{ message_id: string; kind: 'app' | 'sms' | 'phone'; user_ids: string[]; invalid: string[]; at: number }>;
  batchSends: Array<{ message_id: string; card: unknown; open_ids: string[]; department_ids: string[]; invalid_open_ids: string[]; invalid_department_ids: string[]; at: number }>;
  /** Every HTTP request, the token fetch included. */
  requests: number;
  requestsByRoute: Record<MockRoute | 'unknown', number>;
  /** Token fetches that returned a token. */
  tokensIssued: number;
  /** Requests refused for frequency: 429 (per app) or 230020 (per user, per message). */
  rateLimited: number;
  /** Sends answered with an earlier message because their uuid was seen within the hour. */
  dedupeHits: number;
  /** Cards received per open_id (single sends and batch sends). */
  perReceiver: Map<string, number>;
  outsideAvailability: Set<string>;
  directory: { mobiles: Map<string, string>; emails: Map<string, string> };
  /** Issues a card-callback update token (as a card.action.trigger would carry), optionally aged. */
  issueCallbackToken(opts?: { ageMs?: number; messageId?: string }): string;
  /** Queues a failure for the next matching request. */
  failNext(spec: FailSpec): void;
  /** Invalidates every tenant_access_token issued so far (as if revoked or expired). */
  revokeTokens(): void;
}

export interface MockFeishu {
  url: string;
  state: MockState;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const HOUR = 3_600_000;
const TOKEN_TTL_S = 7200;
/** Where the default clock starts (2026-01-05 09:00 Shanghai). */
const MOCK_EPOCH = Date.UTC(2026, 0, 5, 1);
const CALLBACK_TOKEN_TTL = 30 * 60_000;
const CARD_MAX_BYTES = 30 * 1024;

const ok = (data?: unknown): Reply => ({ status: 200, body: data === undefined ? { code: 0, msg: 'success' } : { code: 0, msg: 'success', data } });
const fail = (status: number, code: number, msg: string, headers?: Record<string, string>): Reply => ({ status, body: { code, msg }, ...(headers ? { headers } : {}) });

/** Sliding-window log: at most `limit` hits in any window of `lengthMs`. */
class SlidingWindow {
  private readonly hits: number[] = [];
  constructor(readonly limit: number, readonly lengthMs: number) {}
  /** Seconds until a hit would be allowed, or 0 when allowed now (and then recorded). */
  tryHit(now: number): number {
    while (this.hits.length > 0 && this.hits[0]! <= now - this.lengthMs) this.hits.shift();
    if (this.hits.length >= this.limit) return Math.max(1, Math.ceil((this.hits[0]! + this.lengthMs - now) / 1000));
    this.hits.push(now);
    return 0;
  }
  /** Whether a hit would be allowed now, without recording it. */
  wouldAllow(now: number): boolean {
    while (this.hits.length > 0 && this.hits[0]! <= now - this.lengthMs) this.hits.shift();
    return this.hits.length < this.limit;
  }
}

function byteLength(s: string): number {
  return new TextEncoder().encode(s).length;
}

export async function startMockFeishu(opts: MockOptions = {}): Promise<MockFeishu> {
  const appId = opts.appId ?? 'cli_mock000000000000';
  const appSecret = opts.appSecret ?? 'mock-secret';
  const started = performance.now();
  const now = opts.now ?? (() => MOCK_EPOCH + (performance.now() - started));
  const limits = {
    perSecond: opts.rateLimits?.perSecond ?? 50,
    perMinute: opts.rateLimits?.perMinute ?? 1000,
    perUserPerSecond: opts.rateLimits?.perUserPerSecond ?? 5,
    perMessagePatchPerSecond: opts.rateLimits?.perMessagePatchPerSecond ?? 5,
  };

  const tokens = new Map<string, number>(); // tenant token → expires at
  let currentToken: { token: string; expiresAt: number } | null = null;
  const callbackTokens = new Map<string, { issuedAt: number; uses: number; messageId?: string }>();
  const byUuid = new Map<string, { messageId: string; at: number }>();
  const byId = new Map<string, MockMessage>();
  const failures: FailSpec[] = [...(opts.failNext ?? [])];
  const appWindows = new Map<string, SlidingWindow[]>();
  const userWindows = new Map<string, SlidingWindow>();
  const patchWindows = new Map<string, SlidingWindow>();
  let seq = 0;

  const state: MockState = {
    messages: [],
    patches: [],
    delayedUpdates: [],
    urgents: [],
    batchSends: [],
    requests: 0,
    requestsByRoute: { token: 0, send: 0, patch: 0, card_update: 0, batch_send: 0, urgent: 0, batch_get_id: 0, unknown: 0 },
    tokensIssued: 0,
    rateLimited: 0,
    dedupeHits: 0,
    perReceiver: new Map(),
    outsideAvailability: new Set(opts.outsideAvailability ?? []),
    directory: {
      mobiles: new Map(Object.entries(opts.directory?.mobiles ?? {})),
      emails: new Map(Object.entries(opts.directory?.emails ?? {})),
    },
    issueCallbackToken(o = {}) {
      const token = `c-mock${String(++seq).padStart(8, '0')}`;
      callbackTokens.set(token, { issuedAt: now() - (o.ageMs ?? 0), uses: 0, ...(o.messageId ? { messageId: o.messageId } : {}) });
      return token;
    },
    failNext(spec) {
      failures.push(spec);
    },
    revokeTokens() {
      tokens.clear();
      currentToken = null;
    },
  };

  const received = (openId: string) => state.perReceiver.set(openId, (state.perReceiver.get(openId) ?? 0) + 1);

  const checkCard = (card: unknown): string[] => {
    if (card === null || typeof card !== 'object' || Array.isArray(card)) return ['card must be a JSON object'];
    return opts.validateCard ? opts.validateCard(card) : [];
  };

  /** Parses a stringified card as send and PATCH carry it; returns the card or an error reply. */
  const parseContent = (content: unknown, badCode: number): { card: unknown } | Reply => {
    if (typeof content !== 'string') return fail(400, 230001, 'content must be a string');
    if (byteLength(content) > CARD_MAX_BYTES) return fail(400, 230025, 'The length of the message content reaches its limit.');
    let card: unknown;
    try {
      card = JSON.parse(content);
    } catch {
      return fail(400, badCode, 'Failed to create card content, ext=ErrCode: 200621; ErrMsg: parse card json err, please check whether the card json is correct');
    }
    const problems = checkCard(card);
    if (problems.length > 0) return fail(400, badCode, `Failed to create card content, ext=ErrMsg: ${problems.join('; ')}`);
    return { card };
  };

  const rateLimit = (route: MockRoute, extraKey?: { map: Map<string, SlidingWindow>; key: string; limit: number }): Reply | null => {
    const t = now();
    let windows = appWindows.get(route);
    if (!windows) {
      windows = [];
      if (Number.isFinite(limits.perSecond)) windows.push(new SlidingWindow(limits.perSecond, 1000));
      if (Number.isFinite(limits.perMinute)) windows.push(new SlidingWindow(limits.perMinute, 60_000));
      appWindows.set(route, windows);
    }
    let extra: SlidingWindow | undefined;
    if (extraKey && Number.isFinite(extraKey.limit)) {
      extra = extraKey.map.get(extraKey.key);
      if (!extra) extraKey.map.set(extraKey.key, (extra = new SlidingWindow(extraKey.limit, 1000)));
    }
    // A refused call is not counted in any window: check all before recording any.
    const all = extra ? [...windows, extra] : windows;
    const blocked = all.find((w) => !w.wouldAllow(t));
    if (blocked) {
      state.rateLimited++;
      const reset = blocked.tryHit(t);
      // The per-user (send) and per-message (PATCH) limits are the IM API's own: HTTP 400 with
      // 230020 and no gateway headers (im-v1/message/create.md, patch.md). The per-app limits
      // are the gateway's: 429, 99991400 and x-ogw-ratelimit-* (api-call-guide/uUzN04SN3QjL1cDN.md).
      if (blocked === extra) return fail(400, 230020, 'This operation triggers the frequency limit.');
      return fail(429, 99991400, 'request trigger frequency limit', {
        'x-ogw-ratelimit-limit': String(blocked.limit),
        'x-ogw-ratelimit-reset': String(reset),
      });
    }
    for (const w of all) w.tryHit(t);
    return null;
  };

  const handlers: Record<Exclude<MockRoute, 'token'>, (req: { params: Record<string, string>; query: URLSearchParams; body: Record<string, unknown> }) => Reply> = {
    send({ query, body }) {
      const receiveId = typeof body.receive_id === 'string' ? body.receive_id : '';
      const limited = rateLimit('send', { map: userWindows, key: receiveId, limit: limits.perUserPerSecond });
      if (limited) return limited;
      if (query.get('receive_id_type') !== 'open_id') return fail(400, 230001, 'mock supports receive_id_type=open_id only');
      if (!receiveId.startsWith('ou_')) return fail(400, 230034, 'The receive_id is invalid.');
      if (body.msg_type !== 'interactive') return fail(400, 230001, 'mock supports msg_type=interactive only');
      const uuid = body.uuid === undefined ? null : String(body.uuid);
      if (uuid !== null && uuid.length > 50) return fail(400, 99992402, 'field validation failed: uuid longer than 50');
      if (state.outsideAvailability.has(receiveId)) return fail(400, 230013, 'Bot has NO availability to this user.');
      const t = now();
      if (uuid !== null) {
        const seen = byUuid.get(uuid);
        if (seen && t - seen.at < HOUR) {
          state.dedupeHits++;
          const m = byId.get(seen.messageId)!;
          return ok({ message_id: m.message_id, msg_type: m.msg_type, create_time: String(m.created), deleted: false, updated: false });
        }
      }
      const parsed = parseContent(body.content, 230099);
      if (!('card' in parsed)) return parsed;
      const m: MockMessage = { message_id: `om_mock${String(++seq).padStart(10, '0')}`, receive_id: receiveId, msg_type: 'interactive', card: parsed.card, current: parsed.card, uuid, created: t };
      state.messages.push(m);
      byId.set(m.message_id, m);
      if (uuid !== null) byUuid.set(uuid, { messageId: m.message_id, at: t });
      received(receiveId);
      return ok({ message_id: m.message_id, msg_type: 'interactive', create_time: String(t), deleted: false, updated: false });
    },

    patch({ params, body }) {
      const id = params.message_id!;
      const limited = rateLimit('patch', { map: patchWindows, key: id, limit: limits.perMessagePatchPerSecond });
      if (limited) return limited;
      const m = byId.get(id);
      if (!m) return fail(400, 230001, `invalid message_id: ${id}`);
      if (now() - m.created > 14 * 24 * HOUR) return fail(400, 230031, 'Message can only be modified within 14 days after sending.');
      const parsed = parseContent(body.content, 230099);
      if (!('card' in parsed)) return parsed;
      m.current = parsed.card;
      state.patches.push({ message_id: id, card: parsed.card, at: now() });
      return ok({});
    },

    card_update({ body }) {
      const limited = rateLimit('card_update');
      if (limited) return limited;
      const token = typeof body.token === 'string' ? body.token : '';
      if (!token.startsWith('c-')) return fail(400, 300020, 'update card token format error');
      const entry = callbackTokens.get(token);
      if (!entry || now() - entry.issuedAt > CALLBACK_TOKEN_TTL) return fail(400, 300030, 'update card token expired');
      if (entry.uses >= 2) return fail(400, 300040, 'update card token exceeds the usage limit');
      const problems = checkCard(body.card);
      if (problems.length > 0) return fail(400, 11311, `card format error: ${problems.join('; ')}`);
      entry.uses++;
      state.delayedUpdates.push({ token, card: body.card, at: now() });
      if (entry.messageId) {
        const m = byId.get(entry.messageId);
        if (m) m.current = body.card;
      }
      return { status: 200, body: { code: 0, msg: 'ok' } };
    },

    batch_send({ body }) {
      const limited = rateLimit('batch_send');
      if (limited) return limited;
      // The docs list batch_send errors with HTTP 200 and a non-zero code.
      if (body.msg_type !== 'interactive') return fail(200, 10003, 'mock supports msg_type=interactive only');
      const openIds = Array.isArray(body.open_ids) ? body.open_ids.map(String) : [];
      const deptIds = Array.isArray(body.department_ids) ? body.department_ids.map(String) : [];
      if (openIds.length === 0 && deptIds.length === 0) return fail(200, 10003, 'Invalid parameter: no receivers');
      if (openIds.length > 200 || deptIds.length > 200) return fail(200, 10003, 'Invalid parameter: more than 200 ids');
      const problems = checkCard(body.card);
      if (problems.length > 0) return fail(200, 11246, `Create message content fail: ${problems.join('; ')}`);
      const invalidOpen = openIds.filter((id) => !id.startsWith('ou_') || state.outsideAvailability.has(id));
      const validOpen = openIds.filter((id) => !invalidOpen.includes(id));
      const invalidDept: string[] = deptIds.filter((id) => id === '0' || id === '');
      const message_id = `bm-mock${String(++seq).padStart(10, '0')}`;
      state.batchSends.push({ message_id, card: body.card, open_ids: validOpen, department_ids: deptIds.filter((d) => !invalidDept.includes(d)), invalid_open_ids: invalidOpen, invalid_department_ids: invalidDept, at: now() });
      for (const id of validOpen) received(id);
      return ok({ message_id, invalid_open_ids: invalidOpen, invalid_department_ids: invalidDept, invalid_user_ids: [], invalid_union_ids: [] });
    },

    urgent({ params, query, body }) {
      const limited = rateLimit('urgent');
      if (limited) return limited;
      const kind = params.kind as 'app' | 'sms' | 'phone';
      if (query.get('user_id_type') !== 'open_id') return fail(400, 230001, 'mock supports user_id_type=open_id only');
      const id = params.message_id!;
      const m = byId.get(id);
      if (!m) return fail(400, 230001, `invalid message_id: ${id}`);
      const list = Array.isArray(body.user_id_list) ? body.user_id_list.map(String) : [];
      if (list.length === 0 || list.length > 200) return fail(400, 230001, 'user_id_list must hold 1–200 ids');
      // A p2p card's chat holds only its receiver: everyone else is invalid.
      const invalid = list.filter((u) => u !== m.receive_id);
      const valid = list.filter((u) => u === m.receive_id);
      if (valid.length === 0) return fail(400, 230001, 'all user ids are invalid');
      state.urgents.push({ message_id: id, kind, user_ids: valid, invalid, at: now() });
      return ok({ invalid_user_id_list: invalid });
    },

    batch_get_id({ query, body }) {
      const limited = rateLimit('batch_get_id');
      if (limited) return limited;
      if ((query.get('user_id_type') ?? 'open_id') !== 'open_id') return fail(400, 99992402, 'mock supports user_id_type=open_id only');
      const mobiles = Array.isArray(body.mobiles) ? body.mobiles.map(String) : [];
      const emails = Array.isArray(body.emails) ? body.emails.map(String) : [];
      if (mobiles.length > 50 || emails.length > 50) return fail(400, 99992402, 'field validation failed: at most 50 mobiles and 50 emails');
      const status = { is_frozen: false, is_resigned: false, is_activated: true, is_exited: false, is_unjoin: false };
      const user_list = [
        ...emails.map((email) => {
          const id = state.directory.emails.get(email);
          return id ? { user_id: id, email, status } : { email };
        }),
        ...mobiles.map((mobile) => {
          const id = state.directory.mobiles.get(mobile);
          return id ? { user_id: id, mobile, status } : { mobile };
        }),
      ];
      return ok({ user_list });
    },
  };

  const route = (method: string, path: string): { route: MockRoute; params: Record<string, string> } | null => {
    if (method === 'POST' && path === '/open-apis/auth/v3/tenant_access_token/internal') return { route: 'token', params: {} };
    if (method === 'POST' && path === '/open-apis/im/v1/messages') return { route: 'send', params: {} };
    if (method === 'POST' && path === '/open-apis/interactive/v1/card/update') return { route: 'card_update', params: {} };
    if (method === 'POST' && (path === '/open-apis/message/v4/batch_send/' || path === '/open-apis/message/v4/batch_send')) return { route: 'batch_send', params: {} };
    if (method === 'POST' && path === '/open-apis/contact/v3/users/batch_get_id') return { route: 'batch_get_id', params: {} };
    let m = /^\/open-apis\/im\/v1\/messages\/([^/]+)\/urgent_(app|sms|phone)$/.exec(path);
    if (method === 'PATCH' && m) return { route: 'urgent', params: { message_id: decodeURIComponent(m[1]!), kind: m[2]! } };
    m = /^\/open-apis\/im\/v1\/messages\/([^/]+)$/.exec(path);
    if (method === 'PATCH' && m) return { route: 'patch', params: { message_id: decodeURIComponent(m[1]!) } };
    return null;
  };

  const tokenReply = (body: Record<string, unknown>): Reply => {
    if (body.app_id !== appId || body.app_secret !== appSecret) return fail(400, 10014, 'app secret invalid');
    const t = now();
    // Docs: under 30 min left → a new token (the old one stays valid); else the same one.
    if (!currentToken || currentToken.expiresAt - t < 30 * 60_000) {
      currentToken = { token: `t-mock${String(++seq).padStart(10, '0')}`, expiresAt: t + TOKEN_TTL_S * 1000 };
      tokens.set(currentToken.token, currentToken.expiresAt);
    }
    state.tokensIssued++;
    return { status: 200, body: { code: 0, msg: 'ok', tenant_access_token: currentToken.token, expire: Math.floor((currentToken.expiresAt - t) / 1000) } };
  };

  const authorised = (req: IncomingMessage): Reply | null => {
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer (\S+)$/.exec(auth);
    if (!m) return fail(401, 99991661, 'Missing access token for authorization. Please make a request with token attached.');
    const expiresAt = tokens.get(m[1]!);
    if (expiresAt === undefined || expiresAt <= now()) return fail(401, 99991663, 'Invalid access token for authorization. Please make a request with token attached.');
    return null;
  };

  const readBody = (req: IncomingMessage): Promise<string> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const write = (res: ServerResponse, r: Reply) => {
    res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8', ...(r.headers ?? {}) });
    res.end(JSON.stringify(r.body));
  };

  const takeFailure = (r: MockRoute): FailSpec | null => {
    const i = failures.findIndex((f) => (f.route ? f.route === r : r !== 'token'));
    if (i < 0) return null;
    const f = failures[i]!;
    const left = (f.times ?? 1) - 1;
    if (left <= 0) failures.splice(i, 1);
    else failures[i] = { ...f, times: left };
    return f;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    state.requests++;
    const url = new URL(req.url ?? '/', 'http://mock');
    const raw = await readBody(req);
    const matched = route(req.method ?? 'GET', url.pathname);
    if (!matched) {
      state.requestsByRoute.unknown++;
      return write(res, fail(404, 404, `mock: no route ${req.method} ${url.pathname}`));
    }
    state.requestsByRoute[matched.route]++;
    let body: Record<string, unknown> = {};
    if (raw.length > 0) {
      try {
        const parsed: unknown = JSON.parse(raw);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
      } catch {
        return write(res, fail(400, 9499, 'Bad Request: body is not JSON'));
      }
    }
    const failure = takeFailure(matched.route);
    if (failure && !failure.afterHandling) {
      if (failure.network === 'reset') return void req.socket.destroy();
      if (failure.network === 'hang') return;
      return write(res, fail(failure.status ?? 500, failure.code ?? 1500, failure.msg ?? 'internal error', failure.headers));
    }
    let reply: Reply;
    if (matched.route === 'token') reply = tokenReply(body);
    else reply = authorised(req) ?? handlers[matched.route]({ params: matched.params, query: url.searchParams, body });
    if (failure) {
      if (failure.network === 'reset') return void req.socket.destroy();
      if (failure.network === 'hang') return;
      reply = fail(failure.status ?? 500, failure.code ?? 1500, failure.msg ?? 'internal error', failure.headers);
    }
    write(res, reply);
  };

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) write(res, fail(500, 1500, `mock crashed: ${String(e)}`));
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    state,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const s of sockets) s.destroy();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
