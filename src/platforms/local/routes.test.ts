/** The simulator's HTTP side: Host allow-list, body caps, people bound to Feishu, favicon, toast. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { count, eq } from 'drizzle-orm';
import { auditLog, identities, inboundEvents, messages } from '../../../db/schema';
import { createBot } from '../../bot/router';
import { registerFlows } from '../../flows';
import { createApp } from '../../http/app';
import { actionOf, createHarness } from '../../test/harness';
import { MAX_POST_BYTES, hostNameOf } from './routes';

type H = Awaited<ReturnType<typeof createHarness>>;

const FILLER = '13800000001';
const EVALUATOR = '13800000013';

describe('local simulator routes', () => {
  let h: H;
  let app: ReturnType<typeof createApp>;
  beforeEach(async () => {
    h = await createHarness();
    const bot = createBot(h.deps);
    registerFlows(bot);
    app = createApp(h.deps, bot, { simulatorHosts: ['lvzhi.example.cn'] });
  });
  afterEach(async () => h.close());

  /** What an action could have changed. */
  const footprint = async () => ({
    events: (await h.db.select({ n: count() }).from(inboundEvents))[0]!.n,
    audit: (await h.db.select({ n: count() }).from(auditLog))[0]!.n,
    messages: await h.db.select({ id: messages.id, updatedAt: messages.updatedAt }).from(messages),
  });

  const jsonAction = (personId: number, eventId: string, action: { id: string; value: Record<string, string | number> }, form: Record<string, string> = {}) =>
    JSON.stringify({ actor: `p${personId}`, eventId, action, form });

  describe('Host allow-list (DNS rebinding)', () => {
    it.each(['127.0.0.1:8787', 'localhost:8787', 'localhost', '127.1.2.3', '[::1]:8787', 'LVZHI.example.cn:443', 'lvzhi.example.cn'])('Host: %s is answered', async (host) => {
      const res = await app.request('/', { headers: { host } });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('选择人员');
    });

    it.each(['evil.example', 'evil.example:8787', 'localhost.evil.example', '127.0.0.1.nip.io', 'lvzhi.example.cn.evil.example', '0.0.0.0:8787'])('Host: %s gets 403 with a Chinese page', async (host) => {
      const filler = await h.personByMobile(FILLER);
      for (const path of ['/', `/chat/${filler.id}`, `/local/messages/${filler.id}`, `/local/chat/${filler.id}/stamp`]) {
        const res = await app.request(path, { headers: { host } });
        expect(res.status, path).toBe(403);
        const text = await res.text();
        expect(text).toContain('模拟器不接受');
        expect(text).toContain('SIMULATOR_HOSTS');
      }
    });

    it('refuses an action from a rebound name and changes nothing', async () => {
      const evaluator = await h.personByMobile(EVALUATOR);
      const consoleCard = (await h.messages(evaluator.id)).find((m) => m.subject.includes('console'))!.card;
      const before = await footprint();
      const res = await app.request('/local/action', {
        method: 'POST',
        headers: { host: 'evil.example:8787', origin: 'http://evil.example:8787', 'content-type': 'application/json' },
        body: jsonAction(evaluator.id, 'rebound-1', actionOf(consoleCard, 'campaign.open-self-eval'), { due: '2026-12-31' }),
      });
      expect(res.status).toBe(403);
      expect(await footprint()).toEqual(before);
    });

    it('leaves the routes that are not the simulator alone', async () => {
      expect((await app.request('/healthz', { headers: { host: 'lvzhi.public.example' } })).status).toBe(200);
    });

    it.each([
      ['127.0.0.1:8787', '127.0.0.1'],
      ['[::1]:8787', '[::1]'],
      ['[::1]', '[::1]'],
      ['Example.CN', 'example.cn'],
      [' localhost:80 ', 'localhost'],
    ])('hostNameOf(%j) = %j', (host, name) => {
      expect(hostNameOf(host)).toBe(name);
    });
  });

  describe('body size caps', () => {
    const big = 'x'.repeat(2 * 1024 * 1024);

    it('refuses a 2 MB form post to /local/action with 413 and a Chinese page, storing nothing', async () => {
      const filler = await h.personByMobile(FILLER);
      const before = await footprint();
      const body = new URLSearchParams({ _action: JSON.stringify({ id: 'help.show', value: {} }), _actor: `p${filler.id}`, _nonce: 'big-1', report: big });
      const res = await app.request('/local/action', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      expect(res.status).toBe(413);
      expect(await res.text()).toContain('提交的内容过大（超过 1 MB）');
      expect(await footprint()).toEqual(before);
    });

    it('refuses a 2 MB JSON post with 413 and a Chinese error', async () => {
      const filler = await h.personByMobile(FILLER);
      const res = await app.request('/local/action', {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: jsonAction(filler.id, 'big-2', { id: 'help.show', value: {} }, { report: big }),
      });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: string }).error).toContain('提交的内容过大');
    });

    it('counts a streamed body without Content-Length too', async () => {
      const filler = await h.personByMobile(FILLER);
      const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent === 0) controller.enqueue(new TextEncoder().encode(`_actor=p${filler.id}&_nonce=s1&text=`));
          if (sent >= 2 * 1024 * 1024) return controller.close();
          sent += chunk.length;
          controller.enqueue(chunk);
        },
      });
      const res = await app.request('/local/message', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: stream, duplex: 'half' } as RequestInit);
      expect(res.status).toBe(413);
      expect(sent).toBeLessThan(2 * 1024 * 1024);
    });

    it('refuses a 2 MB message to the bot', async () => {
      const filler = await h.personByMobile(FILLER);
      const before = await footprint();
      const res = await app.request('/local/message', { method: 'POST', body: new URLSearchParams({ _actor: `p${filler.id}`, _nonce: 'm1', text: big }) });
      expect(res.status).toBe(413);
      expect(await footprint()).toEqual(before);
    });

    it('lets a post just under the cap through to the ordinary checks', async () => {
      const filler = await h.personByMobile(FILLER);
      const body = new URLSearchParams({ _actor: `p${filler.id}`, _nonce: 'm2', text: '待办' + ' '.repeat(MAX_POST_BYTES - 200) });
      expect(body.toString().length).toBeLessThan(MAX_POST_BYTES);
      const res = await app.request('/local/message', { method: 'POST', body });
      expect(res.status).toBe(303);
    });
  });

  describe('people bound to Feishu', () => {
    const refusal = '该人员已绑定飞书，请在飞书中操作';

    it('refuses their actions and messages in the simulator and changes nothing', async () => {
      const evaluator = await h.personByMobile(EVALUATOR);
      await h.db.insert(identities).values({ personId: evaluator.id, platform: 'feishu', externalId: 'ou_evaluator' });
      const consoleMsg = (await h.messages(evaluator.id)).find((m) => m.subject.includes('console'))!;
      const open = actionOf(consoleMsg.card, 'campaign.open-self-eval');
      const before = await footprint();

      const json = await app.request('/local/action', { method: 'POST', headers: { 'content-type': 'application/json' }, body: jsonAction(evaluator.id, 'bound-1', open, { due: '2026-12-31' }) });
      expect(json.status).toBe(403);
      expect(await json.json()).toEqual({ toast: { type: 'error', text: refusal } });

      const form = new URLSearchParams({ _action: JSON.stringify(open), _actor: `p${evaluator.id}`, _nonce: 'bound-2', _message: String(consoleMsg.id), due: '2026-12-31' });
      const posted = await app.request('/local/action', { method: 'POST', body: form });
      expect(posted.status).toBe(303);
      const to = new URL(posted.headers.get('location')!, 'http://localhost');
      expect(to.pathname).toBe(`/chat/${evaluator.id}`);
      expect(to.searchParams.get('toast')).toBe(refusal);
      expect(to.searchParams.get('tone')).toBe('error');

      const said = await app.request('/local/message', { method: 'POST', body: new URLSearchParams({ _actor: `p${evaluator.id}`, _nonce: 'bound-3', text: '待办' }) });
      expect(said.status).toBe(303);
      expect(new URL(said.headers.get('location')!, 'http://localhost').searchParams.get('toast')).toBe(refusal);

      expect(await footprint()).toEqual(before);
      // Their chat says so and offers no composer.
      const chat = await (await app.request(`/chat/${evaluator.id}`)).text();
      expect(chat).toContain(refusal);
      expect(chat).not.toContain('action="/local/message"');
    });

    it('lets everyone else act as before', async () => {
      const evaluator = await h.personByMobile(EVALUATOR);
      const filler = await h.personByMobile(FILLER);
      await h.db.insert(identities).values({ personId: filler.id, platform: 'feishu', externalId: 'ou_filler' });
      const consoleCard = (await h.messages(evaluator.id)).find((m) => m.subject.includes('console'))!.card;
      const res = await app.request('/local/action', { method: 'POST', headers: { 'content-type': 'application/json' }, body: jsonAction(evaluator.id, 'free-1', actionOf(consoleCard, 'campaign.open-self-eval'), { due: '2026-12-31' }) });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { toast: { type: string } }).toast.type).toBe('success');
      expect(await h.db.select({ n: count() }).from(auditLog).where(eq(auditLog.action, 'campaign.open_self_evaluation'))).toEqual([{ n: 1 }]);
      const chat = await (await app.request(`/chat/${evaluator.id}`)).text();
      expect(chat).toContain('action="/local/message"');
    });
  });

  describe('favicon', () => {
    it('answers /favicon.ico and /favicon.svg, and pages link the icon', async () => {
      const ico = await app.request('/favicon.ico');
      expect(ico.status).toBe(204);
      const svg = await app.request('/favicon.svg');
      expect(svg.status).toBe(200);
      expect(svg.headers.get('content-type')).toBe('image/svg+xml');
      expect(await svg.text()).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      expect(await (await app.request('/')).text()).toContain('<link rel="icon" type="image/svg+xml" href="/favicon.svg">');
    });
  });

  describe('toast placement', () => {
    it('puts the toast right above the card acted on and scrolls to it, not over a title', async () => {
      // The filler gets the 自评 card, then the 我的待办 card below it, and acts on the second.
      const evaluator = await h.personByMobile(EVALUATOR);
      const filler = await h.personByMobile(FILLER);
      const consoleCard = (await h.messages(evaluator.id)).find((m) => m.subject.includes('console'))!.card;
      await h.act(evaluator.id, actionOf(consoleCard, 'campaign.open-self-eval'), { due: '2026-12-31' });
      await app.request('/local/message', { method: 'POST', body: new URLSearchParams({ _actor: `p${filler.id}`, _nonce: 'todo-1', text: '待办' }) });
      await h.flush();
      const [first, todo] = await h.messages(filler.id);
      expect(todo?.subject).toBe('help');

      const form = new URLSearchParams({ _action: JSON.stringify(actionOf(todo!.card, 'self-eval.open')), _actor: `p${filler.id}`, _nonce: 'toast-1', _message: String(todo!.id) });
      const res = await app.request('/local/action', { method: 'POST', body: form });
      expect(res.status).toBe(303);
      const location = res.headers.get('location')!;
      expect(location.endsWith('#toast')).toBe(true);
      const to = new URL(location, 'http://localhost');
      expect(to.searchParams.get('at')).toBe(String(todo!.id));

      const html = await (await app.request(`${to.pathname}${to.search}`)).text();
      const articleOf = (id: number) => html.lastIndexOf('<article', html.indexOf(`id="msg-${id}"`));
      const toastAt = html.indexOf('id="toast"');
      expect(html.match(/id="toast"/g)).toHaveLength(1);
      expect(toastAt).toBeGreaterThan(articleOf(first!.id));
      expect(articleOf(todo!.id)).toBeGreaterThan(toastAt);
      // Nothing but the card's time stamp between them.
      expect(html.slice(toastAt, articleOf(todo!.id))).not.toContain('<article');
      expect(html).not.toMatch(/\.toast\{[^}]*position:\s*(sticky|fixed)/);
    });
  });
});
