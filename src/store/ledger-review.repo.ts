/**
 * What the evaluation office (评估组) reads on 我的待办: ledger entries submitted recently, which
 * it may open and return. Only an evaluator's grants count, scoped like `ledgerAccess`
 * (src/domain/ledger.ts): a grant without a campaign sees every entry, one with a campaign only
 * the entries of that campaign's assignments, so every row listed also opens.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Actor } from '../domain/roles';
import type { Executor } from './db';
import { jsonRows } from './ledger.repo';

export interface LedgerReview {
  entryId: number;
  definitionName: string;
  period: string;
  unitName: string;
  /** Instant (ms) of the submission. */
  submittedAt: number;
}

/**
 * Entries submitted at or after `since` and still submitted (a returned one waits for the unit),
 * newest first, at most `limit`, with how many there are in all: one query, whatever the
 * number of units (the count is a window over the same rows, taken before the LIMIT).
 */
export async function ledgerReviewsOf(db: Executor, actor: Actor, args: { since: number; limit: number }): Promise<{ rows: LedgerReview[]; total: number }> {
  const grants = actor.roles.filter((g) => g.role === 'evaluator');
  if (grants.length === 0) return { rows: [], total: 0 };
  const campaignIds = [...new Set(grants.map((g) => g.campaignId))];
  const scope: SQL = campaignIds.includes(null)
    ? sql``
    : sql` AND a.campaign_id IN (${sql.join(campaignIds.map((c) => sql`${c}`), sql`, `)})`;
  const rows = await jsonRows<[number, string, string, string, number, number]>(db, sql`
    SELECT json_array(e.id, d.name, e.period, u.name, e.submitted_at, count(*) OVER ()) AS r
    FROM ledger_entries e
    JOIN ledger_assignments a ON a.id = e.assignment_id
    JOIN ledger_definitions d ON d.id = e.definition_id
    JOIN units u ON u.id = e.unit_id
    WHERE e.status = 'submitted' AND e.submitted_at >= ${args.since}${scope}
    ORDER BY e.submitted_at DESC, e.id DESC
    LIMIT ${args.limit}`);
  return {
    rows: rows.map(([entryId, definitionName, period, unitName, submittedAt]) => ({ entryId, definitionName, period, unitName, submittedAt })),
    total: rows[0]?.[5] ?? 0,
  };
}
