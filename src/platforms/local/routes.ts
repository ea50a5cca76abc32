/**
 * The local chat simulator, the embedded default platform: a front page with the running
 * campaigns and the people to pick, a chat page per person with the cards they received,
 * and the callback endpoint the cards post to (the same router Feishu callbacks use).
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { CardSpec } from '../../../cards/kit';
import { cardCss, escapeHtml, renderCardHtml } from '../../../cards/render/html';
import { STAGE_LABELS, currentStage } from '../../domain/campaign';
import { ROLE_LABELS } from '../../domain/roles';
import { shanghaiDateTime, shanghaiDateZh } from '../../domain/time';
import type { Bot } from '../../bot/router';
import type { Reply } from '../../bot/inbound';
import type { Deps } from '../../deps';
import { isLoopbackHost } from '../../config/env';
import { listCampaigns } from '../../store/campaign.repo';
import { getPerson, identityOf, listPeople, type Platform } from '../../store/org.repo';
import { getMessage, messagesOf, replaceMessageCard } from '../../store/outbox.repo';
import { exclusive } from '../../store/serialize';
import { parseLocalFormPost, parseLocalJsonPost, type LocalParse } from './parse';

export const localPersonId = (externalId: string): number | null => {
  const m = /^p(\d+)$/.exec(externalId);
  return m ? Number(m[1]) : null;
};

const PAGE_CSS = `
body{margin:0;font-family:-apple-system,"PingFang SC","Microsoft YaHei",system-ui,sans-serif;background:#eef0f4;color:#1f2329}
header.top{background:#3370ff;color:#fff;padding:12px 16px;display:flex;gap:12px;align-items:center}
header.top a{color:#fff;text-decoration:none}
main{max-width:640px;margin:0 auto;padding:12px}
.toast{margin:8px 0;padding:10px 14px;border-radius:8px;color:#fff;scroll-margin-top:8px}
.toast-success{background:#2ea121}.toast-error{background:#f54a45}.toast-warning{background:#ff8800}.toast-info{background:#3370ff}
.people a{display:block;padding:10px 12px;background:#fff;border-radius:8px;margin:6px 0;color:inherit;text-decoration:none}
.people small,.campaigns small{color:#646a73}
.campaigns li{background:#fff;border-radius:8px;padding:10px 12px;margin:6px 0;list-style:none}
.campaigns{padding:0}
.msg-time{font-size:12px;color:#8f959e;margin:14px 0 4px}
.empty{color:#646a73;text-align:center;padding:40px 0}
.composer{display:flex;gap:8px;margin:16px 0}.composer input{flex:1;padding:8px;border:1px solid #d0d3d6;border-radius:6px}.composer button{padding:8px 16px;border:0;border-radius:6px;background:#3370ff;color:#fff}
`;

/** The tab icon: 履 on the simulator's blue. */
const FAVICON_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#3370ff"/><text x="16" y="23" font-size="20" text-anchor="middle" fill="#fff" font-family="sans-serif">履</text></svg>';

function page(title: string, body: string, extraHead = ''): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" type="image/svg+xml" href="/favicon.svg">
<title>${escapeHtml(title)}</title><style>${PAGE_CSS}${cardCss}</style>${extraHead}</head><body>${body}</body></html>`;
}

/**
 * The largest form post accepted. A complete self-evaluation at every field's maximum
 * (20,000-character report, 2,000 characters per indicator, percent-encoded: 9 bytes per
 * Chinese character) stays under it for schemes of up to about 50 indicators.
 */
export const MAX_POST_BYTES = 1024 * 1024;

/** The host name of a Host header (lower case, without the port; IPv6 keeps its brackets). */
export function hostNameOf(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

/** Platforms whose people act there, not in the simulator, and how their users call them. */
const OTHER_PLATFORMS: ReadonlyArray<{ platform: Platform; label: string }> = [
  { platform: 'feishu', label: '飞书' },
  { platform: 'dingtalk', label: '钉钉' },
];

/** Stops a double click in the browser; the server de-duplicates anyway. */
const SUBMIT_ONCE = `<script>
document.addEventListener('submit', function (e) {
  var f = e.target; if (f.dataset.sent) { e.preventDefault(); return; }
  f.dataset.sent = '1';
  setTimeout(function () { f.querySelectorAll('button').forEach(function (b) { b.disabled = true; }); }, 0);
});
</script>`;

/** Browsers send Origin on form posts; a mismatch means another site is posting for someone. */
function sameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (!origin) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

export interface LocalRouteOptions {
  /** Host names answered besides loopback ones (SIMULATOR_HOSTS). */
  readonly hosts?: readonly string[];
}

export function createLocalRoutes(deps: Deps, bot: Bot, afterAction: () => void, opts: LocalRouteOptions = {}): Hono {
  const app = new Hono();
  const allowedHosts = new Set((opts.hosts ?? []).map((h) => h.toLowerCase()));

  // DNS rebinding: a page on another name that resolves to this address would be same-origin
  // with itself, so the Origin check passes. The Host it sends names it: answer only names
  // that are this machine's or configured.
  const hostGuard: MiddlewareHandler = async (c, next) => {
    const name = hostNameOf(c.req.header('host') ?? new URL(c.req.url).host);
    if (isLoopbackHost(name) || allowedHosts.has(name)) return next();
    return c.html(page('拒绝访问', `<main><p class="empty">模拟器不接受以“${escapeHtml(name.slice(0, 100))}”访问。请用本机地址（localhost 或 127.0.0.1）打开；如需其他主机名，请由管理员加入 SIMULATOR_HOSTS。</p></main>`), 403);
  };
  for (const path of ['/', '/chat/*', '/local/*']) app.use(path, hostGuard);

  const tooLarge = (c: Context) => {
    const text = `提交的内容过大（超过 ${MAX_POST_BYTES / 1024 / 1024} MB），未做任何保存。请精简后重试。`;
    if ((c.req.header('content-type') ?? '').includes('application/json')) return c.json({ error: text }, 413);
    return c.html(page('内容过大', `<main><p class="empty">${escapeHtml(text)}<a href="/">返回首页</a></p></main>`), 413);
  };
  const limitBody = bodyLimit({ maxSize: MAX_POST_BYTES, onError: tooLarge });

  /** Why this person may not act here: they are bound to another platform and act there. */
  const boundElsewhere = async (personId: number): Promise<string | null> => {
    for (const p of OTHER_PLATFORMS) if (await identityOf(deps.db, personId, p.platform)) return `该人员已绑定${p.label}，请在${p.label}中操作`;
    return null;
  };

  app.get('/favicon.svg', (c) => c.body(FAVICON_SVG, 200, { 'content-type': 'image/svg+xml', 'cache-control': 'public, max-age=86400' }));
  // Browsers ask for it whatever the page says: nothing to show, but no 404 in every log.
  app.get('/favicon.ico', (c) => c.body(null, 204, { 'cache-control': 'public, max-age=86400' }));

  app.get('/', async (c) => {
    const [campaigns, people] = await Promise.all([listCampaigns(deps.db), listPeople(deps.db)]);
    const cs = campaigns.map((cp) => {
      const cur = currentStage(cp.stages);
      return `<li><strong>${escapeHtml(cp.name)}</strong><br><small>${escapeHtml(cp.schemeName)} · 当前阶段：${cur ? escapeHtml(STAGE_LABELS[cur.stage]) : '—'}${cur?.dueAt ? `（截止${escapeHtml(shanghaiDateZh(cur.dueAt))}）` : ''}</small></li>`;
    });
    const ps = people.map((p) => {
      const roles = p.roles.map((r) => `${ROLE_LABELS[r.role]}${r.unitName ? `·${r.unitName}` : ''}`).join('，');
      return `<a href="/chat/${p.id}" data-person="${p.id}"><strong>${escapeHtml(p.name)}</strong> <small>${escapeHtml(roles || (p.unitName ?? ''))}</small></a>`;
    });
    return c.html(page('履职评估 · 本地聊天模拟器', `<header class="top"><strong>履职评估</strong><span>本地聊天模拟器</span></header><main>
<h2>进行中的评估</h2>${cs.length ? `<ul class="campaigns">${cs.join('')}</ul>` : '<p class="empty">暂无评估</p>'}
<h2>选择人员，查看其聊天</h2><div class="people">${ps.join('') || '<p class="empty">暂无人员，请先导入单位和人员</p>'}</div></main>`));
  });

  app.get('/chat/:personId{[0-9]+}', async (c) => {
    const personId = Number(c.req.param('personId'));
    const person = await getPerson(deps.db, personId);
    const actor = person ? await identityOf(deps.db, personId, 'local') : null;
    if (!person || !actor) return c.html(page('未找到', '<main><p class="empty">未找到该人员。<a href="/">返回</a></p></main>'), 404);
    const msgs = await messagesOf(deps.db, 'local', personId);
    const bound = await boundElsewhere(personId);
    const tone = ['success', 'error', 'warning', 'info'].includes(c.req.query('tone') ?? '') ? c.req.query('tone') : 'info';
    const toastText = c.req.query('toast');
    // The toast goes right above the card acted on (the page scrolls to it), so it covers nothing.
    const at = Number(c.req.query('at'));
    const toastAt = toastText && msgs.some((m) => m.id === at) ? at : null;
    const toast = toastText ? `<div class="toast toast-${tone}" id="toast" role="status">${escapeHtml(toastText)}</div>` : '';
    const cards = msgs.map((m) => `${m.id === toastAt ? toast : ''}<div class="msg-time">${escapeHtml(shanghaiDateTime(m.updatedAt))}</div>${renderCardHtml(m.card as CardSpec, { messageId: m.id, actor, nonce: `m${m.id}u${m.updatedAt}` })}`);
    const stamp = msgs.reduce((s, m) => Math.max(s, m.updatedAt), 0) + ':' + msgs.length;
    // Other people's actions change this chat: reload when it changed and nothing is being typed.
    const poll = `<script>
var dirty=false;document.addEventListener('input',function(){dirty=true});
setInterval(function(){fetch('/local/chat/${personId}/stamp').then(function(r){return r.text()}).then(function(s){if(s!==${JSON.stringify(stamp)}&&!dirty)location.reload()}).catch(function(){})},3000);
</script>`;
    return c.html(page(`${person.name} · 履职评估`, `<header class="top"><a href="/">← 返回</a><strong>${escapeHtml(person.name)}</strong></header><main>
${bound ? `<div class="toast toast-warning" role="note">${escapeHtml(bound)}</div>` : ''}
${toastAt === null ? toast : ''}
${cards.join('') || '<p class="empty">还没有收到卡片</p>'}
${bound ? '' : `<form class="composer" method="post" action="/local/message"><input type="hidden" name="_actor" value="${escapeHtml(actor)}"><input type="hidden" name="_nonce" value="${crypto.randomUUID()}"><input name="text" placeholder="给机器人发消息，例如：待办" aria-label="消息"><button type="submit">发送</button></form>`}</main>${SUBMIT_ONCE}${poll}`));
  });

  // Writing to the bot in the simulator, as in Feishu: the answer is the help card.
  app.post('/local/message', limitBody, async (c) => {
    if (!sameOrigin(c.req.header('origin'), c.req.header('host'))) return c.json({ error: 'cross-origin request refused' }, 403);
    const body = (await c.req.parseBody()) as Record<string, string>;
    const actor = typeof body._actor === 'string' ? body._actor : '';
    const nonce = typeof body._nonce === 'string' ? body._nonce : '';
    const personId = localPersonId(actor);
    if (personId === null || !nonce) return c.text('bad request', 400);
    const bound = await boundElsewhere(personId);
    if (bound) return c.redirect(`/chat/${personId}?${new URLSearchParams({ toast: bound, tone: 'error' })}`, 303);
    await bot.handleMessage({ platform: 'local', eventKey: `msg:${actor}:${nonce}`, actorExternalId: actor, text: typeof body.text === 'string' ? body.text : null });
    afterAction();
    return c.redirect(`/chat/${personId}?${new URLSearchParams({ toast: '已发送，机器人将回复您的待办事项', tone: 'info' })}`, 303);
  });

  app.get('/local/chat/:personId{[0-9]+}/stamp', async (c) => {
    const msgs = await messagesOf(deps.db, 'local', Number(c.req.param('personId')));
    return c.text(msgs.reduce((s, m) => Math.max(s, m.updatedAt), 0) + ':' + msgs.length);
  });

  app.get('/local/messages/:personId{[0-9]+}', async (c) => {
    const msgs = await messagesOf(deps.db, 'local', Number(c.req.param('personId')));
    return c.json(msgs.map((m) => ({ id: m.id, subject: m.subject, card: m.card, createdAt: m.createdAt, updatedAt: m.updatedAt })));
  });

  app.post('/local/action', limitBody, async (c) => {
    // Cards post from this origin only: a page elsewhere cannot act for a person.
    if (!sameOrigin(c.req.header('origin'), c.req.header('host'))) return c.json({ error: 'cross-origin request refused' }, 403);
    const isJson = (c.req.header('content-type') ?? '').includes('application/json');
    let parsed: LocalParse;
    if (isJson) parsed = parseLocalJsonPost(await c.req.json().catch(() => null));
    else parsed = parseLocalFormPost((await c.req.parseBody({ all: true })) as Record<string, string | string[]>);
    if (!parsed.ok) return isJson ? c.json({ error: `bad request: ${parsed.error}` }, 400) : c.html(page('请求无效', `<main><p class="empty">请求无效：${escapeHtml(parsed.error)}</p></main>`), 400);

    const { event } = parsed;
    const actorPersonId = localPersonId(event.actorExternalId);
    // Someone bound to Feishu acts in Feishu: the simulator must not let anyone act in their name.
    const bound = actorPersonId === null ? null : await boundElsewhere(actorPersonId);
    if (bound) {
      if (isJson) return c.json({ toast: { type: 'error', text: bound } }, 403);
      return c.redirect(`/chat/${actorPersonId}?${new URLSearchParams({ toast: bound, tone: 'error' })}#toast`, 303);
    }
    const reply: Reply = await bot.handle(event);
    // The acted-on card is replaced in its owner's chat only: a forwarded card stays as it was.
    if (reply.card && event.messageId !== undefined) {
      const msg = await getMessage(deps.db, event.messageId);
      if (msg && msg.platform === 'local' && msg.personId === actorPersonId) await exclusive(deps.db, () => replaceMessageCard(deps.db, msg.id, reply.card!, deps.clock()));
    }
    afterAction();
    if (isJson) return c.json(reply);
    const q = new URLSearchParams({ toast: reply.toast?.text ?? '', tone: reply.toast?.type ?? 'info', ...(event.messageId ? { at: String(event.messageId) } : {}) });
    const anchor = reply.toast?.text ? '#toast' : event.messageId ? `#msg-${event.messageId}` : '';
    return c.redirect(`/chat/${actorPersonId ?? ''}?${q}${anchor}`, 303);
  });

  return app;
}
