import type { LedgerEntryView } from '../../../cards/ledger.card';
import { isPeriodOpen } from '../../domain/ledger';
import { shanghaiDate } from '../../domain/time';
import type { LoadedLedgerEntry } from '../../store/ledger.repo';

export function toLedgerView(l: LoadedLedgerEntry, now: number): LedgerEntryView {
  const today = shanghaiDate(now);
  return {
    entryId: l.state.id,
    rev: l.state.revision,
    status: l.state.status,
    definitionName: l.definition.name,
    description: l.definition.description,
    unitName: l.unit.name,
    period: l.state.period,
    dueDate: l.dueDate,
    today,
    open: isPeriodOpen(l.state.period, today),
    aspects: l.definition.aspects,
    values: l.values,
    submittedAt: l.submittedAt,
    submittedByName: l.submittedBy?.name ?? null,
    returnComment: l.returnComment,
  };
}

/** The subject of every card about one entry: an update refreshes them all. */
export const ledgerSubject = (entryId: number) => `ledger:${entryId}`;
