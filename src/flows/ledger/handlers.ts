/**
 * Ledger (台账) handlers: a person opens a unit's entry (its filler to fill it in, its head to
 * read it, an evaluator to read it and return it); the filler submits it, an evaluator returns a
 * submitted one with a reason. Load → decide (pure) → persist the entry and its audit row and
 * queue the refreshed cards in one transaction → answer with a toast and the card re-rendered.
 * A refused form stores nothing and comes back with the answers as typed.
 */
import { buildLedgerEntryCard } from '../../../cards/ledger.card';
import { ledgerFieldErrorText, REFUSAL_TEXT } from '../../../cards/messages';
import { decideLedgerReturn, decideLedgerSubmit, ledgerAccess, ledgerChecks, ledgerFields } from '../../domain/ledger';
import { parseLedgerForm, parseLedgerReturnForm } from '../../domain/ledger-form';
import { shanghaiDate } from '../../domain/time';
import { toast, type Reply } from '../../bot/inbound';
import type { ActionContext } from '../../bot/router';
import { ledgerPeople, loadLedgerEntry, returnLedgerEntry, submitLedgerEntry, type LoadedLedgerEntry } from '../../store/ledger.repo';
import { enqueue, type OutboundMessage } from '../../store/outbox.repo';
import { writeTransaction } from '../../store/serialize';
import { ledgerSubject, toLedgerView } from './view';

export async function handleOpenLedger(ctx: ActionContext<'ledger.open'>): Promise<Reply> {
  const { deps, actor, value, now } = ctx;
  const loaded = await loadLedgerEntry(deps.db, value.entryId);
  if (!loaded) return toast('error', REFUSAL_TEXT.not_found);
  const access = ledgerAccess(actor, loaded.state);
  if (!access) return toast('error', REFUSAL_TEXT.forbidden);
  return toast('info', '已打开台账', buildLedgerEntryCard(toLedgerView(loaded, now), MODE[access]));
}

const MODE = { filler: 'fill', head: 'view', evaluator: 'review' } as const;

export async function handleSubmitLedger(ctx: ActionContext<'ledger.submit'>): Promise<Reply> {
  const { deps, actor, value, form, now } = ctx;
  const loaded = await loadLedgerEntry(deps.db, value.entryId);
  if (!loaded) return toast('error', REFUSAL_TEXT.not_found);
  const fillCard = (l: LoadedLedgerEntry) => buildLedgerEntryCard(toLedgerView(l, now), 'fill');

  const decided = decideLedgerSubmit(loaded.state, actor, { rev: value.rev }, shanghaiDate(now));
  // A forwarded card shows nothing to someone without the right: no card in the answer.
  if (!decided.ok) return decided.refusal === 'forbidden' ? toast('error', REFUSAL_TEXT.forbidden) : toast('warning', REFUSAL_TEXT[decided.refusal], fillCard(loaded));

  const { aspects } = loaded.definition;
  const parsed = parseLedgerForm(ledgerFields(aspects), form, ledgerChecks(aspects));
  if (!parsed.ok) {
    return toast('error', `有 ${parsed.errors.length} 处需要修改，未报送`, buildLedgerEntryCard(toLedgerView(loaded, now), 'fill', { errors: parsed.errors, values: parsed.values }));
  }

  // Who else holds a card of this entry is read before the write lock.
  const around = await ledgerPeople(deps.db, loaded.state);
  const applied = await writeTransaction(deps.db, async (tx) => {
    const after = await submitLedgerEntry(tx, { loaded, values: parsed.values, actor: { id: actor.personId, name: actor.name }, platform: ctx.event.platform, now });
    if (!after) return null;
    await enqueue(tx, refreshes(after, around, now), now);
    return after;
  });
  if (!applied) {
    const fresh = await loadLedgerEntry(deps.db, loaded.state.id);
    return toast('warning', REFUSAL_TEXT.conflict, fresh ? fillCard(fresh) : undefined);
  }
  return toast('success', '台账已报送', fillCard(applied));
}

/** An evaluator sends a submitted entry back to the unit, with the reason the filler will read. */
export async function handleReturnLedger(ctx: ActionContext<'ledger.return'>): Promise<Reply> {
  const { deps, actor, value, form, now } = ctx;
  const loaded = await loadLedgerEntry(deps.db, value.entryId);
  if (!loaded) return toast('error', REFUSAL_TEXT.not_found);
  const reviewCard = (l: LoadedLedgerEntry, feedback?: Parameters<typeof buildLedgerEntryCard>[2]) => buildLedgerEntryCard(toLedgerView(l, now), 'review', feedback);

  const decided = decideLedgerReturn(loaded.state, actor, { rev: value.rev });
  if (!decided.ok) return decided.refusal === 'forbidden' ? toast('error', REFUSAL_TEXT.forbidden) : toast('warning', REFUSAL_TEXT[decided.refusal], reviewCard(loaded));

  const parsed = parseLedgerReturnForm(form);
  if (!parsed.ok) return toast('error', ledgerFieldErrorText(parsed.error), reviewCard(loaded, { errors: [parsed.error], values: form }));

  const around = await ledgerPeople(deps.db, loaded.state);
  const applied = await writeTransaction(deps.db, async (tx) => {
    const after = await returnLedgerEntry(tx, { loaded, comment: parsed.reason, actorId: actor.personId, platform: ctx.event.platform, now });
    if (!after) return null;
    await enqueue(tx, returned(after, around, now), now);
    return after;
  });
  if (!applied) {
    const fresh = await loadLedgerEntry(deps.db, loaded.state.id);
    return toast('warning', REFUSAL_TEXT.conflict, fresh ? reviewCard(fresh) : undefined);
  }
  return toast('success', '已退回单位修改', reviewCard(applied));
}

/** The fillers get the entry back as a new card (the reason on top, the answers kept); the heads' cards show it returned. */
function returned(after: LoadedLedgerEntry, around: Awaited<ReturnType<typeof ledgerPeople>>, now: number): OutboundMessage[] {
  const view = toLedgerView(after, now);
  const subject = ledgerSubject(after.state.id);
  const r = after.state.revision;
  return [
    ...around.fillers.map((p): OutboundMessage => ({ dedupeKey: `${subject}:returned:r${r}:${p.id}`, kind: 'send', personId: p.id, subject, card: buildLedgerEntryCard(view, 'fill') })),
    ...around.heads.map((p): OutboundMessage => ({ dedupeKey: `${subject}:update:r${r}:${p.id}`, kind: 'update', personId: p.id, subject, card: buildLedgerEntryCard(view, 'view') })),
  ];
}

/** Every earlier card of the entry (the actor's own copies included) shows it submitted. */
function refreshes(after: LoadedLedgerEntry, around: Awaited<ReturnType<typeof ledgerPeople>>, now: number): OutboundMessage[] {
  const view = toLedgerView(after, now);
  const subject = ledgerSubject(after.state.id);
  const update = (personId: number, mode: 'fill' | 'view'): OutboundMessage => ({
    dedupeKey: `${subject}:update:r${after.state.revision}:${personId}`, kind: 'update', personId, subject, card: buildLedgerEntryCard(view, mode),
  });
  return [...around.fillers.map((p) => update(p.id, 'fill')), ...around.heads.map((p) => update(p.id, 'view'))];
}
