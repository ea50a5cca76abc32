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
import { createHarness, T0 } from '../test/harness';
import { createLocalSender } from './local/sender';
import { createRoutingSender } from './routing-sender';
import { createFeishuClient } from './feishu/client';
import { createFeishuSender } from './feishu/sender';
import { startMockFeishu, type MockFeishu } from './feishu/mock-server';
import { encryptFeishu, feishuSignature } from './feishu/verify';
import { consoleMessages } from '../flows/campaign/console';
import { enqueue } from '../store/outbox.repo';

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

export function localDriver(): Driver {
  let h: Awaited<ReturnType<typeof createHarness>>;
  let seq = 0;
  const post = (body: URLSearchParams, origin = 'http://localhost') =>
    h.app.request('/local/action', { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', origin, host: 'localhost' } });
  const formBody = (personId: number, card: SeenCard, actionId: string, form: Record<string, string>, nonce: string) => {
    const action = card.actions.get(actionId);
    if (!action) throw new Error(`${card.title} has no ${actionId}`);
    return new URLSearchParams({ ...form, _action: JSON.stringify(action), _actor: `p${personId}`, _nonce: nonce, _message: String(card.ref) });
  };
  return {
    name: 'local simulator',
    async setup() { h = await createHarness(); },
    async teardown() { await h.close(); },
    async person(mobile) { return (await h.personByMobile(mobile)).id; },
    async cards(personId) { return (await h.messages(personId)).map((m) => seenFromSpec(m.card, m.id)); },
    async act(personId, card, actionId, form, opts = {}) {
      const res = await post(formBody(personId, card, actionId, form, opts.eventId ?? `n${++seq}`));
      await this.flush();
      const toast = new URL(res.headers.get('location') ?? '/', 'http://x').searchParams;
      const after = (await h.messages(personId)).find((m) => m.id === card.ref);
      return { status: res.status, toast: { type: toast.get('tone') ?? '', text: toast.get('toast') ?? '' }, cardTitle: after?.card.header.title };
    },
    async forge(personId, card, actionId, form) {
      return (await post(formBody(personId, card, actionId, form, `forged${++seq}`), 'https://evil.example.com')).status;
    },
    async flush() { await h.flush(); },
    db: () => h.db,
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

export function feishuDriver(): Driver {
  let h: Awaited<ReturnType<typeof createHarness>>;
  let mock: MockFeishu;
  let app: ReturnType<typeof createApp>;
  let pump: { kick(): Promise<void> };
  let seq = 0;
  const deferred: Promise<unknown>[] = [];
  /** What the Feishu client shows after a callback answer replaced a card. */
  const answered = new Map<string, unknown>();
  const openId = (personId: number) => `ou_${personId}`;

  async function callback(personId: number, card: SeenCard, actionId: string, form: Record<string, string>, eventId: string, sign: (raw: string, ts: string, nonce: string) => Promise<string>, tsOffsetS = 0) {
    const action = card.actions.get(actionId);
    if (!action) throw new Error(`${card.title} has no ${actionId}`);
    const envelope = {
      schema: '2.0',
      header: { event_id: eventId, token: TOKEN, create_time: String(T0 * 1000), event_type: 'card.action.trigger', tenant_key: 'tk', app_id: 'cli_contract' },
      event: {
        operator: { tenant_key: 'tk', open_id: openId(personId) },
        token: mock.state.issueCallbackToken({ messageId: String(card.ref) }),
        action: { tag: 'button', value: { a: action.id, v: action.value }, name: 'submit', form_value: form },
        host: 'im_message',
        context: { open_message_id: String(card.ref), open_chat_id: 'oc_1' },
      },
    };
    const raw = JSON.stringify({ encrypt: await encryptFeishu(ENCRYPT_KEY, JSON.stringify(envelope)) });
    const ts = String(Math.floor(h.now() / 1000) + tsOffsetS);
    const nonce = `nonce${++seq}`;
    return app.request('/feishu/webhook', {
      method: 'POST',
      body: raw,
      headers: { 'content-type': 'application/json', 'x-lark-request-timestamp': ts, 'x-lark-request-nonce': nonce, 'x-lark-signature': await sign(raw, ts, nonce) },
    });
  }

  return {
    name: 'Feishu',
    async setup() {
      answered.clear();
      h = await createHarness();
      mock = await startMockFeishu({ appId: 'cli_contract', appSecret: 'contract-secret', validateCard: validateFeishuCard });
      const all = await h.db.select({ id: people.id }).from(people);
      await h.db.insert(identities).values(all.map((p) => ({ personId: p.id, platform: 'feishu' as const, externalId: openId(p.id) })));
      const deps = buildDeps(h.db, { clock: h.now, log: silentLogger, defer: (w) => void deferred.push(w()) });
      const bot = createBot(deps);
      registerFlows(bot);
      const client = createFeishuClient({ appId: 'cli_contract', appSecret: 'contract-secret', domain: mock.url });
      const feishu = createFeishuSender(deps, client, { render: renderFeishuCards, limiter: createRateLimiter({ perSecond: 50, perMinute: 1000, perKeyPerSecond: 5 }) });
      pump = createOutboxPump(deps, createRoutingSender(deps, { local: createLocalSender(deps), feishu }));
      const config = { appId: 'cli_contract', appSecret: 'contract-secret', encryptKey: ENCRYPT_KEY, verificationToken: TOKEN, domain: mock.url, mode: 'webhook' as const, rate: { perSecond: 50, perMinute: 1000, perUserPerSecond: 5 } };
      app = createApp(deps, bot, { feishu: { config, render: renderFeishuCard, delayedUpdate: (t, c) => client.delayedUpdate(t, c) } });
      // The harness seeded the demo before anyone had a Feishu account: send the consoles again.
      await enqueue(h.db, await consoleMessages(h.db, 1, 'send', 'feishu-contract', h.now()), h.now());
      await pump.kick();
    },
    async teardown() {
      await Promise.allSettled(deferred);
      await mock.close();
      await h.close();
    },
    async person(mobile) { return (await h.personByMobile(mobile)).id; },
    async cards(personId) {
      return mock.state.messages.filter((m) => m.receive_id === openId(personId)).map((m) => seenFromFeishu(answered.get(m.message_id) ?? m.current, m.message_id));
    },
    async act(personId, card, actionId, form, opts = {}) {
      const res = await callback(personId, card, actionId, form, opts.eventId ?? `ev${++seq}`, (raw, ts, nonce) => feishuSignature(ts, nonce, ENCRYPT_KEY, raw));
      const body = (await res.json()) as { toast?: { type: string; content: string }; card?: { type: string; data: unknown } };
      if (body.card) {
        expect(validateFeishuCard(body.card.data)).toEqual([]);
        answered.set(String(card.ref), body.card.data);
      }
      await this.flush();
      return { status: res.status, toast: body.toast ? { type: body.toast.type, text: body.toast.content } : undefined, cardTitle: body.card ? seenFromFeishu(body.card.data, '').title : undefined };
    },
    async forge(personId, card, actionId, form) {
      const res = await callback(personId, card, actionId, form, `forged${++seq}`, async (raw, ts, nonce) => feishuSignature(ts, nonce, 'not-the-key', raw));
      const stale = await callback(personId, card, actionId, form, `stale${++seq}`, (raw, ts, nonce) => feishuSignature(ts, nonce, ENCRYPT_KEY, raw), -600);
      expect(stale.status).toBe(401);
      return res.status;
    },
    async flush() {
      await Promise.all(deferred.splice(0));
      await pump.kick();
      // Every card Feishu received is valid JSON 2.0 by the strict check.
      for (const m of mock.state.messages) expect(validateFeishuCard(m.current), m.message_id).toEqual([]);
    },
    db: () => h.db,
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

  async function openStage() {
    const console = await latest(d, ids.evaluator, '履职评估');
    const r = await d.act(ids.evaluator, console, 'campaign.open-self-eval', { due: '2026-12-31' });
    expect(r.toast?.text, d.name).toContain('单位自评已启动');
  }

  it(`${d.name}: rejects forged requests and changes nothing`, async () => {
    const console = await latest(d, ids.evaluator, '履职评估');
    expect([401, 403]).toContain(await d.forge(ids.evaluator, console, 'campaign.open-self-eval', { due: '2026-12-31' }));
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
