/**
 * What the callback bench sends and how it judges the answers: signed, encrypted Feishu
 * callbacks (card.action.trigger) and events (im.message.receive_v1), as Feishu builds them.
 */
import { openDatabase } from '../../src/runtime/open-db';
import { encryptFeishu, feishuSignature } from '../../src/platforms/feishu/verify';

export const ENCRYPT_KEY = 'bench-encrypt-key';
export const TOKEN = 'bench-token';
export const APP_ID = 'cli_bench';

export interface Target { evaluationId: number; openId: string }
export interface SignedRequest { body: string; headers: Record<string, string> }

const unique = () => Math.random().toString(36).slice(2);

function header(eventType: string) {
  return { event_id: `bench-${unique()}${unique()}`, token: TOKEN, create_time: String(Date.now() * 1000), event_type: eventType, tenant_key: 'tk', app_id: APP_ID };
}

/** Encrypts the envelope and signs the body exactly as sent (X-Lark-Signature). */
async function signed(envelope: unknown): Promise<SignedRequest> {
  const body = JSON.stringify({ encrypt: await encryptFeishu(ENCRYPT_KEY, JSON.stringify(envelope)) });
  const ts = String(Math.floor(Date.now() / 1000));
  const nonce = unique();
  return { body, headers: { 'content-type': 'application/json', 'x-lark-request-timestamp': ts, 'x-lark-request-nonce': nonce, 'x-lark-signature': await feishuSignature(ts, nonce, ENCRYPT_KEY, body) } };
}

/** A click on the 自评 card's 保存草稿 or 提交签发, carrying the card's revision and form. */
export function cardClick(t: Target, action: 'self-eval.save' | 'self-eval.submit', rev: number, form: Record<string, string>, callbackToken = 'c-bench'): Promise<SignedRequest> {
  return signed({
    schema: '2.0',
    header: header('card.action.trigger'),
    event: {
      operator: { open_id: t.openId },
      token: callbackToken,
      action: { tag: 'button', name: 'btn_1', value: { a: action, v: { evaluationId: t.evaluationId, version: 1, rev } }, form_value: form },
      context: { open_message_id: `om_${t.evaluationId}` },
    },
  });
}

/** A direct text message to the bot (any text gets 我的待办 back); message_id is Feishu's own. */
export function directMessage(openId: string, messageId: string, text: string): Promise<SignedRequest> {
  return signed({
    schema: '2.0',
    header: header('im.message.receive_v1'),
    event: {
      sender: { sender_id: { open_id: openId }, sender_type: 'user', tenant_key: 'tk' },
      message: { message_id: messageId, chat_id: `oc_${openId}`, chat_type: 'p2p', message_type: 'text', content: JSON.stringify({ text }), create_time: String(Date.now()) },
    },
  });
}

/** The callback answer: its toast text and, if a 自评 card came back, the save button's revision. */
export function readAnswer(text: string): { toast: string | null; toastType: string | null; rev: number | null; empty: boolean } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { toast: null, toastType: null, rev: null, empty: false };
  }
  const answer = (parsed ?? {}) as { toast?: { content?: unknown; type?: unknown } };
  const m = /"a":"self-eval\.save","v":\{[^}]*"rev":(\d+)/.exec(text);
  return {
    toast: typeof answer.toast?.content === 'string' ? answer.toast.content : null,
    toastType: typeof answer.toast?.type === 'string' ? answer.toast.type : null,
    rev: m ? Number(m[1]) : null,
    empty: typeof parsed === 'object' && parsed !== null && Object.keys(parsed).length === 0,
  };
}

/**
 * The scheme's scored (leaf) indicators, read before the server starts: the first one's score
 * field for draft saves, and a complete, valid form for submits.
 */
export async function formFields(url: string) {
  const { db, close } = await openDatabase({ DATABASE_URL: url });
  const all = await db.query.indicators.findMany({ columns: { id: true, code: true, parentCode: true, maxPoints: true } });
  close();
  const parents = new Set(all.map((i) => i.parentCode));
  const leaves = all.filter((i) => !parents.has(i.code)).sort((a, b) => a.id - b.id);
  if (leaves.length === 0) throw new Error('the bench scheme has no scored indicators');
  const submit: Record<string, string> = { report: '本单位严格按照核准的宗旨和业务范围开展工作，机构编制和法人登记管理规范，存在的问题已制定整改措施。' };
  for (const ind of leaves) {
    submit[`score_${ind.id}`] = String(Math.floor(ind.maxPoints * 0.8));
    submit[`expl_${ind.id}`] = '对照评分细则逐项自查，相关工作均已落实。';
    submit[`evid_${ind.id}`] = 'https://oa.example.gov.cn/files/evidence-1.pdf';
  }
  return { scoreField: `score_${leaves[0]!.id}`, submit };
}
