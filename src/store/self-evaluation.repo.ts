import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { campaignStages, campaigns, reviewDecisions, selfEvaluationItems, selfEvaluationVersions, selfEvaluations, units } from '../../db/schema';
import type { Decision, EvaluationState, Indicator, ItemInput } from '../domain/self-evaluation';
import { indicatorsOf } from './campaign.repo';
import type { Executor } from './db';
import { prepared } from './prepared';

export interface VersionView {
  id: number;
  version: number;
  status: 'draft' | 'submitted' | 'signed' | 'accepted' | 'returned';
  report: string;
  submittedAt: number | null;
  signedAt: number | null;
  items: ItemInput[];
}

export interface ReviewView {
  stage: 'head' | 'evaluator';
  decision: 'sign' | 'accept' | 'return';
  comment: string;
  itemComments: Record<string, string>;
  decidedAt: number;
  reviewerId: number;
}

export interface LoadedEvaluation {
  state: EvaluationState;
  campaign: { id: number; name: string; year: number };
  unit: { id: number; name: string; groupName: string };
  dueAt: number | null;
  indicators: Indicator[];
  current: VersionView;
  /** The decision that returned the previous version, shown to the filler on the new one. */
  lastReturn: (ReviewView & { version: number }) | null;
}

export async function loadEvaluation(db: Executor, evaluationId: number): Promise<LoadedEvaluation | null> {
  // One round trip for the evaluation, its campaign, unit, 自评 stage and current version:
  // this runs on every click.
  const query = prepared(db, 'loadEvaluation', (d) =>
    d
      .select({
        ev: selfEvaluations,
        campaign: { id: campaigns.id, name: campaigns.name, year: campaigns.year, schemeId: campaigns.schemeId },
        unit: { id: units.id, name: units.name, groupName: units.groupName },
        stageStatus: campaignStages.status,
        version: selfEvaluationVersions,
      })
      .from(selfEvaluations)
      .innerJoin(campaigns, eq(campaigns.id, selfEvaluations.campaignId))
      .innerJoin(units, eq(units.id, selfEvaluations.unitId))
      .innerJoin(selfEvaluationVersions, and(eq(selfEvaluationVersions.evaluationId, selfEvaluations.id), eq(selfEvaluationVersions.version, selfEvaluations.currentVersion)))
      .leftJoin(campaignStages, and(eq(campaignStages.campaignId, selfEvaluations.campaignId), eq(campaignStages.stage, 'self_evaluation')))
      .where(eq(selfEvaluations.id, sql.placeholder('id')))
      .limit(1)
      .prepare(),
  );
  const rows = await query.all({ id: evaluationId });
  const row = rows[0];
  if (!row) return null;
  const current = { ...versionView(row.version), items: await itemsOf(db, row.version.id) };
  let lastReturn: LoadedEvaluation['lastReturn'] = null;
  if (row.ev.currentVersion > 1) {
    const prev = await db
      .select({ d: reviewDecisions, version: selfEvaluationVersions.version })
      .from(reviewDecisions)
      .innerJoin(selfEvaluationVersions, eq(selfEvaluationVersions.id, reviewDecisions.versionId))
      .where(and(eq(selfEvaluationVersions.evaluationId, evaluationId), eq(selfEvaluationVersions.version, row.ev.currentVersion - 1), eq(reviewDecisions.decision, 'return')))
      .orderBy(desc(reviewDecisions.id))
      .limit(1);
    if (prev[0]) lastReturn = { ...toReview(prev[0].d), version: prev[0].version };
  }
  return {
    state: {
      id: row.ev.id, campaignId: row.ev.campaignId, unitId: row.ev.unitId, status: row.ev.status,
      currentVersion: row.ev.currentVersion, revision: row.ev.revision, stageOpen: row.stageStatus === 'open',
    },
    campaign: { id: row.campaign.id, name: row.campaign.name, year: row.campaign.year },
    unit: row.unit,
    dueAt: row.ev.dueAt,
    indicators: await indicatorsOf(db, row.campaign.schemeId),
    current,
    lastReturn,
  };
}

function toReview(d: typeof reviewDecisions.$inferSelect): ReviewView {
  return { stage: d.stage, decision: d.decision, comment: d.comment, itemComments: d.itemComments, decidedAt: d.decidedAt, reviewerId: d.reviewerId };
}

export async function loadVersion(db: Executor, evaluationId: number, version: number): Promise<VersionView | null> {
  const vs = await db
    .select()
    .from(selfEvaluationVersions)
    .where(and(eq(selfEvaluationVersions.evaluationId, evaluationId), eq(selfEvaluationVersions.version, version)))
    .limit(1);
  const v = vs[0];
  if (!v) return null;
  return { ...versionView(v), items: await itemsOf(db, v.id) };
}

function versionView(v: typeof selfEvaluationVersions.$inferSelect): Omit<VersionView, 'items'> {
  return { id: v.id, version: v.version, status: v.status, report: v.report, submittedAt: v.submittedAt, signedAt: v.signedAt };
}

async function itemsOf(db: Executor, versionId: number): Promise<ItemInput[]> {
  const query = prepared(db, 'itemsOf', (d) =>
    d
      .select({ indicatorId: selfEvaluationItems.indicatorId, claimedScore: selfEvaluationItems.claimedScore, explanation: selfEvaluationItems.explanation, evidenceLinks: selfEvaluationItems.evidenceLinks })
      .from(selfEvaluationItems)
      .where(eq(selfEvaluationItems.versionId, sql.placeholder('versionId')))
      .orderBy(asc(selfEvaluationItems.indicatorId))
      .prepare(),
  );
  return query.all({ versionId });
}

export async function listVersions(db: Executor, evaluationId: number): Promise<VersionView[]> {
  const vs = await db.select({ version: selfEvaluationVersions.version }).from(selfEvaluationVersions).where(eq(selfEvaluationVersions.evaluationId, evaluationId)).orderBy(asc(selfEvaluationVersions.version));
  const out: VersionView[] = [];
  for (const v of vs) {
    const loaded = await loadVersion(db, evaluationId, v.version);
    if (loaded) out.push(loaded);
  }
  return out;
}

export async function decisionsOf(db: Executor, evaluationId: number) {
  return db
    .select({ version: selfEvaluationVersions.version, d: reviewDecisions })
    .from(reviewDecisions)
    .innerJoin(selfEvaluationVersions, eq(selfEvaluationVersions.id, reviewDecisions.versionId))
    .where(eq(selfEvaluationVersions.evaluationId, evaluationId))
    .orderBy(asc(reviewDecisions.id));
}

/**
 * Applies a decided transition in the caller's transaction. The evaluation row is updated
 * only if it is still at the revision the decision was made on; otherwise nothing is written
 * and null is returned (a concurrent click won). On success it returns the evaluation as it
 * now is, built from what was written rather than read back.
 */
export async function applyTransition(
  db: Executor,
  args: {
    loaded: LoadedEvaluation;
    decision: Decision;
    actorId: number;
    now: number;
    content?: { report: string; items: readonly ItemInput[] };
    review?: { stage: 'head' | 'evaluator'; decision: 'sign' | 'accept' | 'return'; comment: string; itemComments: Record<string, string> };
  },
): Promise<LoadedEvaluation | null> {
  const { loaded, decision, actorId, now } = args;
  const ev = loaded.state;
  const updated = await db
    .update(selfEvaluations)
    .set({ status: decision.status, currentVersion: decision.currentVersion, revision: ev.revision + 1, updatedAt: now })
    .where(and(eq(selfEvaluations.id, ev.id), eq(selfEvaluations.revision, ev.revision)))
    .returning({ id: selfEvaluations.id });
  if (updated.length === 0) return null;

  const versionId = loaded.current.id;
  const versionPatch: Partial<typeof selfEvaluationVersions.$inferInsert> = { status: decision.versionStatus, updatedAt: now };
  if (args.content) {
    versionPatch.report = args.content.report;
    await writeItems(db, versionId, args.content.items);
  }
  if (decision.versionStatus === 'submitted') Object.assign(versionPatch, { submittedBy: actorId, submittedAt: now });
  if (decision.versionStatus === 'signed') Object.assign(versionPatch, { signedBy: actorId, signedAt: now });
  await db.update(selfEvaluationVersions).set(versionPatch).where(eq(selfEvaluationVersions.id, versionId));

  if (args.review) {
    await db.insert(reviewDecisions).values({ versionId, reviewerId: actorId, stage: args.review.stage, decision: args.review.decision, comment: args.review.comment, itemComments: args.review.itemComments, decidedAt: now });
  }
  const state = { ...ev, status: decision.status, currentVersion: decision.currentVersion, revision: ev.revision + 1 };
  const acted: VersionView = {
    ...loaded.current,
    status: decision.versionStatus,
    report: args.content?.report ?? loaded.current.report,
    items: args.content ? [...args.content.items] : loaded.current.items,
    submittedAt: decision.versionStatus === 'submitted' ? now : loaded.current.submittedAt,
    signedAt: decision.versionStatus === 'signed' ? now : loaded.current.signedAt,
  };
  if (!decision.opensNextVersion) return { ...loaded, state, current: acted };

  // The next version starts as a copy, so the filler edits only what was questioned.
  const [next] = await db
    .insert(selfEvaluationVersions)
    .values({ evaluationId: ev.id, version: decision.currentVersion, status: 'draft', report: acted.report, createdAt: now, updatedAt: now })
    .returning({ id: selfEvaluationVersions.id });
  if (!next) throw new Error('next version not created');
  await writeItems(db, next.id, acted.items);
  const returned = args.review;
  return {
    ...loaded,
    state,
    current: { id: next.id, version: decision.currentVersion, status: 'draft', report: acted.report, submittedAt: null, signedAt: null, items: acted.items },
    lastReturn: returned ? { ...returned, decision: 'return', decidedAt: now, reviewerId: actorId, version: acted.version } : loaded.lastReturn,
  };
}

async function writeItems(db: Executor, versionId: number, items: readonly ItemInput[]): Promise<void> {
  await db.delete(selfEvaluationItems).where(eq(selfEvaluationItems.versionId, versionId));
  if (items.length === 0) return;
  await db.insert(selfEvaluationItems).values(
    items.map((i) => ({ versionId, indicatorId: i.indicatorId, claimedScore: i.claimedScore, explanation: i.explanation, evidenceLinks: [...i.evidenceLinks] })),
  );
}
