/**
 * The callback bench's open loop: requests leave on a fixed schedule (every 1000/rate ms)
 * whether or not earlier ones were answered, and each latency counts from its SCHEDULED send
 * time, so a stall of the server (or of this generator) shows in p99 instead of quietly
 * slowing the offered load (coordinated omission).
 *
 * The mix, per 20 requests: 16 自评 draft saves, 1 submit, 3 我的待办 direct messages.
 * - Saves go round-robin over units enough for each unit's next click to come REVISIT_S
 *   seconds after its previous one, beyond the 2.5 s answer budget; each unit carries the
 *   revision from its last answer card, as a person's card would. Should two clicks of one
 *   unit still be in flight together (a slow answer), both carry the same revision and only
 *   one can be saved, whichever the server reaches first (not always the earlier one): the
 *   stale-card warning is then the correct answer for either, counted as `stale_answers`, not
 *   as an error. So it is for a unit once one of its clicks got no card back (a late 已受理
 *   answer, itself an error): its outcome is unknown to the client from then on. Any other
 *   answer than 草稿已保存 with a card is an error.
 * - Submits go to units reserved for them, each submitted once with a complete form; the
 *   answer must be the success toast 已提交….
 * - Messages (im.message.receive_v1, a unique message_id each) must be answered `{}`; the
 *   我的待办 card goes through the outbox to the mock Feishu and is counted there, once per
 *   message: a missing or duplicated card is an error.
 */
import { REFUSAL_TEXT } from '../../cards/messages';
import type { MockFeishu } from '../../src/platforms/feishu/mock-server';
import { cardClick, directMessage, readAnswer, type SignedRequest, type Target } from './callback-requests';
import { percentile } from './setup';

type Kind = 'save' | 'submit' | 'message';
const S = 'save', U = 'submit', M = 'message';
const MIX: readonly Kind[] = [S, S, S, M, S, S, S, U, S, S, M, S, S, S, S, S, S, M, S, S];
/** Seconds between two clicks on one unit's card. */
const REVISIT_S = 3;
/** A request not answered by then is an error (Feishu itself gives up after 3 s). */
const TIMEOUT_MS = 10_000;
/** How long the 我的待办 cards may take to reach the mock after the last request. */
const DRAIN_MS = 30_000;

const kindAt = (i: number): Kind => MIX[i % MIX.length]!;

/** How many units the open loop needs for saves and for submits at this rate and duration. */
export function openLoopUnits(rate: number, seconds: number): { saveUnits: number; submitUnits: number } {
  const n = Math.round(rate * seconds);
  let saves = 0, submits = 0;
  for (let i = 0; i < n; i++) {
    if (kindAt(i) === 'save') saves++;
    if (kindAt(i) === 'submit') submits++;
  }
  const saveRate = (rate * MIX.filter((k) => k === 'save').length) / MIX.length;
  return { saveUnits: Math.min(saves, Math.ceil(saveRate * REVISIT_S)), submitUnits: submits };
}

export interface OpenLoopPlan {
  url: string;
  rate: number;
  seconds: number;
  saveUnits: readonly Target[];
  submitUnits: readonly Target[];
  scoreField: string;
  submitForm: Record<string, string>;
  /** Its clock must be performance.now(): card arrival is compared with scheduled times. */
  mock: MockFeishu;
}

async function post(url: string, req: SignedRequest): Promise<{ status: number; text: string } | null> {
  try {
    const res = await fetch(url, { method: 'POST', body: req.body, headers: req.headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
    return { status: res.status, text: await res.text() };
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function openLoop(p: OpenLoopPlan) {
  const n = Math.round(p.rate * p.seconds);
  const interval = 1000 / p.rate;
  /** Per save unit: the revision its card shows, its clicks in flight, whether an outcome is unknown. */
  const units = p.saveUnits.map((t) => ({ t, rev: 0, inFlight: new Set<{ overlapped: boolean }>(), tainted: false }));
  const latencies: number[] = [];
  /** Errors by what they were: kind, HTTP status, toast. */
  const errorKinds = new Map<string, number>();
  let errors = 0, stale = 0, submitted = 0, maxLag = 0, saveNo = 0, submitNo = 0, messageNo = 0;
  const fail = (kind: Kind, res: { status: number; text: string } | null) => {
    errors++;
    const what = res ? `${kind}: HTTP ${res.status} ${readAnswer(res.text).toast ?? res.text.slice(0, 80)}` : `${kind}: no answer within ${TIMEOUT_MS} ms`;
    errorKinds.set(what, (errorKinds.get(what) ?? 0) + 1);
  };
  // A real callback token each, so a late answer's card can go out as a delayed update.
  const token = () => p.mock.state.issueCallbackToken();
  /** open_id → scheduled times of the messages it sent, in order. */
  const messagesBy = new Map<string, number[]>();

  async function fire(i: number, at: number): Promise<void> {
    const kind = kindAt(i);
    if (kind === 'save') {
      const u = units[saveNo++ % units.length]!;
      // Two clicks of one card in flight together race: either may find the other's save done first.
      const click = { overlapped: u.inFlight.size > 0 || u.tainted };
      for (const other of u.inFlight) other.overlapped = true;
      u.inFlight.add(click);
      const res = await post(p.url, await cardClick(u.t, 'self-eval.save', u.rev, { [p.scoreField]: String(i % 10), report: `第${i}次保存` }, token()));
      latencies.push(performance.now() - at);
      u.inFlight.delete(click);
      const a = res ? readAnswer(res.text) : null;
      if (a?.rev != null) u.rev = Math.max(u.rev, a.rev);
      // An answer without the card (late, failed) leaves its outcome unknown to the client from then on.
      else u.tainted = true;
      if (res?.status === 200 && a?.toastType === 'success' && a.toast === '草稿已保存' && a.rev !== null) return;
      if (res?.status === 200 && click.overlapped && (a?.toast === REFUSAL_TEXT.stale_version || a?.toast === REFUSAL_TEXT.conflict)) {
        stale++;
        return;
      }
      return fail(kind, res);
    }
    if (kind === 'submit') {
      const t = p.submitUnits[submitNo++]!;
      const res = await post(p.url, await cardClick(t, 'self-eval.submit', 0, p.submitForm, token()));
      latencies.push(performance.now() - at);
      const a = res ? readAnswer(res.text) : null;
      if (res?.status === 200 && a?.toastType === 'success' && a.toast?.startsWith('已提交')) {
        submitted++;
        return;
      }
      return fail(kind, res);
    }
    const t = p.saveUnits[messageNo % p.saveUnits.length]!;
    if (!messagesBy.has(t.openId)) messagesBy.set(t.openId, []);
    messagesBy.get(t.openId)!.push(at);
    const res = await post(p.url, await directMessage(t.openId, `om_bench_${messageNo++}`, '待办'));
    latencies.push(performance.now() - at);
    if (res?.status !== 200 || !readAnswer(res.text).empty) fail(kind, res);
  }

  const pending: Promise<void>[] = [];
  const start = performance.now() + 50;
  for (let i = 0; i < n; i++) {
    const at = start + i * interval;
    const wait = at - performance.now();
    if (wait >= 1) await sleep(wait);
    maxLag = Math.max(maxLag, performance.now() - at);
    pending.push(fire(i, at));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;

  // 我的待办 cards as the receiving side saw them, matched in order to each sender's messages.
  const messages = [...messagesBy.values()].reduce((s, x) => s + x.length, 0);
  const helpCards = () => p.mock.state.messages.filter((m) => messagesBy.has(m.receive_id) && JSON.stringify(m.card).includes('我的待办'));
  const deadline = performance.now() + DRAIN_MS;
  while (helpCards().length < messages && performance.now() < deadline) await sleep(200);
  const cardLatencies: number[] = [];
  let missing = 0, duplicated = 0;
  const arrived = new Map<string, number[]>();
  for (const m of helpCards()) arrived.set(m.receive_id, [...(arrived.get(m.receive_id) ?? []), m.created]);
  for (const [openId, times] of messagesBy) {
    const cards = (arrived.get(openId) ?? []).sort((a, b) => a - b);
    times.forEach((at, k) => (k < cards.length ? cardLatencies.push(cards[k]! - at) : missing++));
    duplicated += Math.max(0, cards.length - times.length);
  }
  errors += missing + duplicated;
  if (missing > 0) errorKinds.set('我的待办 card missing at the mock', missing);
  if (duplicated > 0) errorKinds.set('我的待办 card duplicated at the mock', duplicated);

  latencies.sort((a, b) => a - b);
  cardLatencies.sort((a, b) => a - b);
  return {
    sent: n,
    answered_rps: n / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? 0,
    maxSendLag: maxLag,
    saves: saveNo,
    saveUnits: units.length,
    stale,
    submitted,
    submits: submitNo,
    messages,
    cards: messages - missing,
    cardP99: percentile(cardLatencies, 99),
    missing,
    duplicated,
    errors,
    errorKinds,
  };
}
