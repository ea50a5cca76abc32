/**
 * One contract every platform adapter passes: the local simulator and Feishu (DingTalk later),
 * in-process and (src/runtime/worker.workerd.test.ts) inside the Workers runtime.
 * Each driver speaks its platform's real wire format — the simulator's form posts, Feishu's
 * encrypted and signed callbacks against the mock Open API — and reads the cards as that
 * platform shows them (for Feishu: the JSON 2.0 cards the mock received, checked strictly).
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { identities, people, selfEvaluations } from '../../db/schema';
import type { Db } from '../../db/client';
import { walk, type CardSpec } from '../../cards/kit';
import { renderFeishuCard, renderFeishuCards } from '../../cards/render/feishu';
import { validateFeishuCard } from '../../cards/render/feishu-validate';
import { buildDeps, silentLogger } from '../deps';
import { createBot } from '../bot/router';
import { registerFlows } from '../flows';
import { createApp } from '../http/app';
import { createOutboxPump } from '../outbox/sender';
import { createRateLimiter } from '../outbox/rate-limit';
import { createHarness } from '../test/harness';
import { createLocalSender } from './local/sender';
import { createRoutingSender } from './routing-sender';
import { createFeishuClient } from './feishu/client';
import { createFeishuSender } from './feishu/sender';
import { startMockFeishu, type MockFeishu } from './feishu/mock-server';
import { encryptFeishu, feishuSignature } from './feishu/verify';
import { consoleMessages } from '../flows/campaign/console';
import { enqueue } from '../store/outbox.repo';
import { shanghaiDate } from '../domain/time';

export interface SeenCard {
  title: string;
  text: string;
  ref: string | number;
  actions: Map<string, { id: string; value: Record<string, string | number> }>;
  fields: string[];
}

export interface Answer {
  status: number;
  toast?: { type: string; text: string };
  cardTitle?: string;
}

export interface Driver {
  readonly name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  person(mobile: string): Promise<number>;
  cards(personId: number): Promise<SeenCard[]>;
  act(personId: number, card: SeenCard, actionId: string, form: Record<string, string>, opts?: { eventId?: string }): Promise<Answer>;
  /** The same request with a forged signature or from a forged origin. */
  forge(personId: number, card: SeenCard, actionId: string, form: Record<string, string>): Promise<number>;
  /** Delivers everything queued (the sender loop's work). */
  flush(): Promise<void>;
  db(): Db;
  /** The app's clock: dates the contract picks are relative to it (the worker's is the real one). */
  now(): number;
}

// ---- the local simulator -------------------------------------------------------------

export function seenFromSpec(spec: CardSpec, ref: number): SeenCard {
  const actions = new Map<string, { id: string; value: Record<string, string | number> }>();
  const fields: string[] = [];
  for (const el of walk(spec.elements)) {
    if (el.type === 'button' && el.action) actions.set(el.action.id, { id: el.action.id, value: { ...el.action.value } });
    if (el.type === 'input' || el.type === 'select' || el.type === 'date') fields.push(el.name);
  }
  return { title: spec.header.title, text: JSON.stringify(spec), ref, actions, fields };
}

/**
 * Where a driver's requests go and where it finds what happened: the app in-process (below), or
 * the worker under workerd over the network (src/runtime/worker.workerd.test.ts).
 */
export interface Backend {
  readonly name: string;
  /** A fresh demo database (and, with `feishu`, a fresh mock Open API and everyone with a Feishu account). */
  setup(opts: { feishu: boolean }): Promise<void>;
  teardown(): Promise<void>;
  request(path: string, init: RequestInit): Promise<Response>;
  /** The origin the simulator's own pages post from. */
  origin(): string;
  /** The clock callbacks are stamped with. */
  now(): number;
  db(): Db;
  mock(): MockFeishu;
  /** The simulator's messages of a person. */
  messages(personId: number): Promise<Array<{ id: number; card: CardSpec }>>;
  /** Waits until everything queued has been delivered. */
  flush(): Promise<void>;
}

export function localDriver(backend: Backend = inProcess()): Driver {
  let seq = 0;
  const post = (body: URLSearchParams, origin = backend.origin()) =>
    backend.request('/local/action', { method: 'POST', body, redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin } });
  const formBody = (personId: number, card: SeenCard, actionId: string, form: Record<string, string>, nonce: string) => {
    const action = card.actions.get(actionId);
    if (!action) throw new Error(`${card.title} has no ${actionId}`);
    return new URLSearchParams({ ...form, _action: JSON.stringify(action), _actor: `p${personId}`, _nonce: nonce, _message: String(card.ref) });
  };
  return {
    name: `local simulator${backend.name}`,
    setup: () => backend.setup({ feishu: false }),
    teardown: () => backend.teardown(),
    async person(mobile) { return (await backend.db().select({ id: people.id }).from(people).where(eq(people.mobile, mobile)))[0]!.id; },
    async cards(personId) { return (await backend.messages(personId)).map((m) => seenFromSpec(m.card, m.id)); },
    async act(personId, card, actionId, form, opts = {}) {
      const res = await post(formBody(personId, card, actionId, form, opts.eventId ?? `n${backend.now()}-${++seq}`));
      await this.flush();
      const toast = new URL(res.headers.get('location') ?? '/', 'http://x').searchParams;
      const after = (await backend.messages(personId)).find((m) => m.id === card.ref);
      return { status: res.status, toast: { type: toast.get('tone') ?? '', text: toast.get('toast') ?? '' }, cardTitle: after?.card.header.title };
    },
    async forge(personId, card, actionId, form) {
      return (await post(formBody(personId, card, actionId, form, `forged${++seq}`), 'https://evil.example.com')).status;
    },
    flush: () => backend.flush(),
    db: () => backend.db(),
    now: () => backend.now(),
  };
}

/** The app in this process, on the test harness (a temporary libSQL file, a fake clock). */
export function inProcess(): Backend {
  let h: Awaited<ReturnType<typeof createHarness>>;
  let mock: MockFeishu | null = null;
  let app: ReturnType<typeof createApp>;
  let pump: { kick(): Promise<void> } | null = null;
  const deferred: Promise<unknown>[] = [];
  return {
    name: '',
    async setup({ feishu }) {
      h = await createHarness();
      app = h.app;
      pump = null;
      if (!feishu) return;
      mock = await startMockFeishu({ appId: 'cli_contract', appSecret: 'contract-secret', validateCard: validateFeishuCard });
      const all = await h.db.select({ id: people.id }).from(people);
      await h.db.insert(identities).values(all.map((p) => ({ personId: p.id, platform: 'feishu' as const, externalId: `ou_${p.id}` })));
      const deps = buildDeps(h.db, { clock: h.now, log: silentLogger, defer: (w) => void deferred.push(w()) });
      const bot = createBot(deps);
      registerFlows(bot);
      const client = createFeishuClient({ appId: 'cli_contract', appSecret: 'contract-secret', domain: mock.url });
      const sender = createFeishuSender(deps, client, { render: renderFeishuCards, limiter: createRateLimiter({ perSecond: 50, perMinute: 1000, perKeyPerSecond: 5 }) });
      pump = createOutboxPump(deps, createRoutingSender(deps, { local: createLocalSender(deps), feishu: sender }));
      const config = { appId: 'cli_contract', appSecret: 'contract-secret', encryptKey: ENCRYPT_KEY, verificationToken: TOKEN, domain: mock.url, mode: 'webhook' as const, rate: { perSecond: 50, perMinute: 1000, perUserPerSecond: 5 } };
      app = createApp(deps, bot, { feishu: { config, render: renderFeishuCard, delayedUpdate: (t, c) => client.delayedUpdate(t, c) } });
      // The harness seeded the demo before anyone had a Feishu account: send the consoles again.
      await enqueue(h.db, await consoleMessages(h.db, 1, 'send', 'feishu-contract', h.now()), h.now());
      await pump.kick();
    },
    async teardown() {
      await Promise.allSettled(deferred);
      await mock?.close();
      mock = null;
      await h.close();
    },
    request: async (path, init) => app.request(path, { ...init, headers: { ...(init.headers as Record<string, string>), host: 'localhost' } }),
    origin: () => 'http://localhost',
    now: () => h.now(),
    db: () => h.db,
    mock: () => mock!,
    messages: (personId) => h.messages(personId),
    async flush() {
      // With Feishu, this app's own sender delivers; the harness's (simulator-only) one must not.
      if (!pump) return h.flush();
      await Promise.all(deferred.splice(0));
      await pump.kick();
    },
  };
}

// ---- Feishu ---------------------------------------------------------------------------

export const ENCRYPT_KEY = 'contract-encrypt-key';
export const TOKEN = 'contract-verification-token';

function jsonWalk(node: unknown, visit: (o: Record<string, unknown>) => void): void {
  if (Array.isArray(node)) node.forEach((n) => jsonWalk(n, visit));
  else if (node && typeof node === 'object') {
    visit(node as Record<string, unknown>);
    Object.values(node).forEach((v) => jsonWalk(v, visit));
  }
}

export function seenFromFeishu(card: unknown, ref: string): SeenCard {
  const actions = new Map<string, { id: string; value: Record<string, string | number> }>();
  const fields: string[] = [];
  jsonWalk(card, (o) => {
    if (o.tag === 'button' && Array.isArray(o.behaviors)) {
      for (const b of o.behaviors as Array<{ type: string; value?: { a: string; v: Record<string, string | number> } }>) {
        if (b.type === 'callback' && b.value) actions.set(b.value.a, { id: b.value.a, value: b.value.v });
      }
    }
    if (['input', 'select_static', 'multi_select_static', 'date_picker'].includes(String(o.tag)) && typeof o.name === 'string') fields.push(o.name);
  });
  const header = (card as { header?: { title?: { content?: string } } }).header;
  return { title: header?.title?.content ?? '', text: JSON.stringify(card), ref, actions, fields };
}

export function feishuDriver(backend: Backend = inProcess()): Driver {
  let seq = 0;
  /** What the Feishu client shows after a callback answer replaced a card. */
  const answered = new Map<string, unknown>();
  const openId = (personId: number) => `ou_${personId}`;

  async function callback(personId: number, card: SeenCard, actionId: string, form: Record<string, string>, eventId: string, key: string, tsOffsetS = 0) {
    const action = card.actions.get(actionId);
    if (!action) throw new Error(`${card.title} has no ${actionId}`);
    const envelope = {
      schema: '2.0',
      header: { event_id: eventId, token: TOKEN, create_time: String(backend.now() * 1000), event_type: 'card.action.trigger', tenant_key: 'tk', app_id: 'cli_contract' },
      event: {
        operator: { tenant_key: 'tk', open_id: openId(personId) },
        token: backend.mock().state.issueCallbackToken({ messageId: String(card.ref) }),
        action: { tag: 'button', value: { a: action.id, v: action.value }, name: 'submit', form_value: form },
        host: 'im_message',
        context: { open_message_id: String(card.ref), open_chat_id: 'oc_1' },
      },
    };
    const raw = JSON.stringify({ encrypt: await encryptFeishu(ENCRYPT_KEY, JSON.stringify(envelope)) });
    const ts = String(Math.floor(backend.now() / 1000) + tsOffsetS);
    const nonce = `nonce${++seq}`;
    return backend.request('/feishu/webhook', {
      method: 'POST',
      body: raw,
      headers: { 'content-type': 'application/json', 'x-lark-request-timestamp': ts, 'x-lark-request-nonce': nonce, 'x-lark-signature': await feishuSignature(ts, nonce, key, raw) },
    });
  }

  return {
    name: `Feishu${backend.name}`,
    async setup() {
      answered.clear();
      await backend.setup({ feishu: true });
    },
    teardown: () => backend.teardown(),
    async person(mobile) { return (await backend.db().select({ id: people.id }).from(people).where(eq(people.mobile, mobile)))[0]!.id; },
    async cards(personId) {
      return backend.mock().state.messages.filter((m) => m.receive_id === openId(personId)).map((m) => seenFromFeishu(answered.get(m.message_id) ?? m.current, m.message_id));
    },
    async act(personId, card, actionId, form, opts = {}) {
      const res = await callback(personId, card, actionId, form, opts.eventId ?? `ev${backend.now()}-${++seq}`, ENCRYPT_KEY);
      const body = (await res.json()) as { toast?: { type: string; content: string }; card?: { type: string; data: unknown } };
      if (body.card) {
        expect(validateFeishuCard(body.card.data)).toEqual([]);
        answered.set(String(card.ref), body.card.data);
      }
      await this.flush();
      return { status: res.status, toast: body.toast ? { type: body.toast.type, text: body.toast.content } : undefined, cardTitle: body.card ? seenFromFeishu(body.card.data, '').title : undefined };
    },
    async forge(personId, card, actionId, form) {
      const res = await callback(personId, card, actionId, form, `forged${++seq}`, 'not-the-key');
      const stale = await callback(personId, card, actionId, form, `stale${++seq}`, ENCRYPT_KEY, -600);
      expect(stale.status).toBe(401);
      return res.status;
    },
    async flush() {
      await backend.flush();
      // Every card Feishu received is valid JSON 2.0 by the strict check.
      for (const m of backend.mock().state.messages) expect(validateFeishuCard(m.current), m.message_id).toEqual([]);
    },
    db: () => backend.db(),
    now: () => backend.now(),
  };
}

// ---- the contract ----------------------------------------------------------------------

export const M = { filler: '13800000001', head: '13800000002', otherFiller: '13800000003', evaluator: '13800000013' };

export function fill(card: SeenCard, score = '8'): Record<string, string> {
  const form: Record<string, string> = {};
  for (const name of card.fields) {
    if (name.startsWith('score_')) form[name] = score;
    else if (name.startsWith('expl_')) form[name] = '对照评分细则逐项自查，相关工作均已落实。';
    else if (name.startsWith('evid_')) form[name] = 'https://oa.example.gov.cn/files/evidence.pdf';
    else if (name === 'report') form[name] = '本单位严格按照核准的宗旨和业务范围开展工作，存在的问题已制定整改措施。';
  }
  return form;
}

export async function latest(d: Driver, personId: number, titlePart: string, textPart?: string): Promise<SeenCard> {
  const cards = (await d.cards(personId)).filter((c) => c.title.includes(titlePart) && (!textPart || c.text.includes(textPart)));
  const card = cards[cards.length - 1];
  if (!card) throw new Error(`${d.name}: person ${personId} has no card titled ${titlePart}`);
  return card;
}

/** The contract itself: call inside a describe block, once per driver. */
export function adapterContract(make: () => Driver): void {
  const d = make();
  let ids: Record<keyof typeof M, number>;
  beforeEach(async () => {
    await d.setup();
    ids = Object.fromEntries(await Promise.all(Object.entries(M).map(async ([k, m]) => [k, await d.person(m)]))) as typeof ids;
  });
  afterEach(async () => d.teardown());
  const inAMonth = () => shanghaiDate(d.now() + 30 * 86_400_000);

  async function openStage() {
    const console = await latest(d, ids.evaluator, '履职评估');
    const r = await d.act(ids.evaluator, console, 'campaign.open-self-eval', { due: inAMonth() });
    expect(r.toast?.text, d.name).toContain('单位自评已启动');
  }

  it(`${d.name}: rejects forged requests and changes nothing`, async () => {
    const console = await latest(d, ids.evaluator, '履职评估');
    expect([401, 403]).toContain(await d.forge(ids.evaluator, console, 'campaign.open-self-eval', { due: inAMonth() }));
    expect(await d.cards(ids.filler)).toHaveLength(0);
  });

  it(`${d.name}: handles a replayed callback once, with one answer each`, async () => {
    await openStage();
    const card = await latest(d, ids.filler, '单位自评');
    const form = fill(card);
    const first = await d.act(ids.filler, card, 'self-eval.submit', form, { eventId: 'replay-1' });
    const again = await d.act(ids.filler, card, 'self-eval.submit', form, { eventId: 'replay-1' });
    expect(first.status).toBe(again.status);
    expect(again.toast).toEqual(first.toast);
    const [ev] = await d.db().select().from(selfEvaluations).where(eq(selfEvaluations.id, Number(card.actions.get('self-eval.submit')!.value.evaluationId)));
    expect(ev).toMatchObject({ status: 'submitted', revision: 1 });
    expect((await d.cards(ids.head)).filter((c) => c.title.includes('自评签发'))).toHaveLength(1);
  });

  it(`${d.name}: runs the whole 自评 flow`, async () => {
    await openStage();
    const v1 = await latest(d, ids.filler, '单位自评', '县疾病预防控制中心');
    const form = fill(v1);
    const firstScore = Object.keys(form).find((k) => k.startsWith('score_'))!;

    const bad = await d.act(ids.filler, v1, 'self-eval.submit', { ...form, [firstScore]: '99' });
    expect(bad.toast?.type).toBe('error');
    const stranger = await d.act(ids.otherFiller, v1, 'self-eval.submit', form);
    expect(stranger.toast?.text).toContain('无权限');

    expect((await d.act(ids.filler, v1, 'self-eval.submit', form)).toast?.text).toContain('已提交');
    const sign = await latest(d, ids.head, '自评签发');
    expect((await d.act(ids.head, sign, 'self-eval.sign', {})).toast?.text).toContain('已签发');
    const review = await latest(d, ids.evaluator, '自评审核');
    const cmt = review.fields.find((f) => f.startsWith('cmt_'))!;
    expect((await d.act(ids.evaluator, review, 'self-eval.return', { [cmt]: '请补充佐证材料' })).toast?.text).toContain('已退回');

    const v2 = await latest(d, ids.filler, '单位自评', '第2版');
    expect(v2.text).toContain('请补充佐证材料');
    expect((await d.act(ids.filler, v2, 'self-eval.submit', fill(v2, '9'))).toast?.text).toContain('已提交');
    const sign2 = await latest(d, ids.head, '自评签发', '第2版');
    await d.act(ids.head, sign2, 'self-eval.sign', {});
    const review2 = await latest(d, ids.evaluator, '自评审核', '第2版');
    expect((await d.act(ids.evaluator, review2, 'self-eval.accept', {})).toast?.text).toBe('审核通过');

    const evaluationId = Number(v1.actions.get('self-eval.submit')!.value.evaluationId);
    const [ev] = await d.db().select().from(selfEvaluations).where(eq(selfEvaluations.id, evaluationId));
    expect(ev).toMatchObject({ status: 'accepted', currentVersion: 2 });
  });
}
