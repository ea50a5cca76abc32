/**
 * The local chat simulator, the embedded default platform: a front page with the running
 * campaigns and the people to pick, a chat page per person with the cards they received,
 * and the callback endpoint the cards post to (the same router Feishu callbacks use).
 */
import { Hono } from 'hono';
import type { CardSpec } from '../../../cards/kit';
import { cardCss, escapeHtml, renderCardHtml } from '../../../cards/render/html';
import { STAGE_LABELS, currentStage } from '../../domain/campaign';
import { ROLE_LABELS } from '../../domain/roles';
import { shanghaiDateTime, shanghaiDateZh } from '../../domain/time';
import type { Bot } from '../../bot/router';
import type { Reply } from '../../bot/inbound';
import type { Deps } from '../../deps';
import { listCampaigns } from '../../store/campaign.repo';
import { getPerson, identityOf, listPeople } from '../../store/org.repo';
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
.toast{position:sticky;top:0;z-index:5;margin:8px 0;padding:10px 14px;border-radius:8px;color:#fff}
.toast-success{background:#2ea121}.toast-error{background:#f54a45}.toast-warning{background:#ff8800}.toast-info{background:#3370ff}
.people a{display:block;padding:10px 12px;background:#fff;border-radius:8px;margin:6px 0;color:inherit;text-decoration:none}
.people small,.campaigns small{color:#646a73}
.campaigns li{background:#fff;border-radius:8px;padding:10px 12px;margin:6px 0;list-style:none}
.campaigns{padding:0}
.msg-time{font-size:12px;color:#8f959e;margin:14px 0 4px}
.empty{color:#646a73;text-align:center;padding:40px 0}
.composer{display:flex;gap:8px;margin:16px 0}.composer input{flex:1;padding:8px;border:1px solid #d0d3d6;border-radius:6px}.composer button{padding:8px 16px;border:0;border-radius:6px;background:#3370ff;color:#fff}
`;

function page(title: string, body: string, extraHead = ''): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${PAGE_CSS}${cardCss}</style>${extraHead}</head><body>${body}</body></html>`;
}

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

export function createLocalRoutes(deps: Deps, bot: Bot, afterAction: () => void): Hono {
  const app = new Hono();

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
    const tone = ['success', 'error', 'warning', 'info'].includes(c.req.query('tone') ?? '') ? c.req.query('tone') : 'info';
    const toastText = c.req.query('toast');
    const cards = msgs.map((m) => `<div class="msg-time">${escapeHtml(shanghaiDateTime(m.updatedAt))}</div>${renderCardHtml(m.card as CardSpec, { messageId: m.id, actor, nonce: `m${m.id}u${m.updatedAt}` })}`);
    const stamp = msgs.reduce((s, m) => Math.max(s, m.updatedAt), 0) + ':' + msgs.length;
    // Other people's actions change this chat: reload when it changed and nothing is being typed.
    const poll = `<script>
var dirty=false;document.addEventListener('input',function(){dirty=true});
setInterval(function(){fetch('/local/chat/${personId}/stamp').then(function(r){return r.text()}).then(function(s){if(s!==${JSON.stringify(stamp)}&&!dirty)location.reload()}).catch(function(){})},3000);
</script>`;
    return c.html(page(`${person.name} · 履职评估`, `<header class="top"><a href="/">← 返回</a><strong>${escapeHtml(person.name)}</strong></header><main>
${toastText ? `<div class="toast toast-${tone}" role="status">${escapeHtml(toastText)}</div>` : ''}
${cards.join('') || '<p class="empty">还没有收到卡片</p>'}
<form class="composer" method="post" action="/local/message"><input type="hidden" name="_actor" value="${escapeHtml(actor)}"><input type="hidden" name="_nonce" value="${crypto.randomUUID()}"><input name="text" placeholder="给机器人发消息，例如：待办" aria-label="消息"><button type="submit">发送</button></form></main>${SUBMIT_ONCE}${poll}`));
  });

  // Writing to the bot in the simulator, as in Feishu: the answer is the help card.
  app.post('/local/message', async (c) => {
    if (!sameOrigin(c.req.header('origin'), c.req.header('host'))) return c.json({ error: 'cross-origin request refused' }, 403);
    const body = (await c.req.parseBody()) as Record<string, string>;
    const actor = typeof body._actor === 'string' ? body._actor : '';
    const nonce = typeof body._nonce === 'string' ? body._nonce : '';
    const personId = localPersonId(actor);
    if (personId === null || !nonce) return c.text('bad request', 400);
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

  app.post('/local/action', async (c) => {
    // Cards post from this origin only: a page elsewhere cannot act for a person.
    if (!sameOrigin(c.req.header('origin'), c.req.header('host'))) return c.json({ error: 'cross-origin request refused' }, 403);
    const isJson = (c.req.header('content-type') ?? '').includes('application/json');
    let parsed: LocalParse;
    if (isJson) parsed = parseLocalJsonPost(await c.req.json().catch(() => null));
    else parsed = parseLocalFormPost((await c.req.parseBody({ all: true })) as Record<string, string | string[]>);
    if (!parsed.ok) return isJson ? c.json({ error: `bad request: ${parsed.error}` }, 400) : c.html(page('请求无效', `<main><p class="empty">请求无效：${escapeHtml(parsed.error)}</p></main>`), 400);

    const { event } = parsed;
    const reply: Reply = await bot.handle(event);
    // The acted-on card is replaced in its owner's chat only: a forwarded card stays as it was.
    const actorPersonId = localPersonId(event.actorExternalId);
    if (reply.card && event.messageId !== undefined) {
      const msg = await getMessage(deps.db, event.messageId);
      if (msg && msg.platform === 'local' && msg.personId === actorPersonId) await exclusive(deps.db, () => replaceMessageCard(deps.db, msg.id, reply.card!, deps.clock()));
    }
    afterAction();
    if (isJson) return c.json(reply);
    const q = new URLSearchParams({ toast: reply.toast?.text ?? '', tone: reply.toast?.type ?? 'info' });
    return c.redirect(`/chat/${actorPersonId ?? ''}?${q}${event.messageId ? `#msg-${event.messageId}` : ''}`, 303);
  });

  return app;
}
