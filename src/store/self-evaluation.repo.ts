import { and, asc, eq, sql, type Placeholder, type SQL } from 'drizzle-orm';
import { campaignStages, campaigns, reviewDecisions, selfEvaluationItems, selfEvaluationVersions, selfEvaluations, units } from '../../db/schema';
import type { Decision, EvaluationState, Indicator, ItemInput } from '../domain/self-evaluation';
import { indicatorsOf } from './campaign.repo';
import { bind, errorMatches, runStatements, type Statement } from './batch';
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

/** Who is around an evaluation's unit: its fillers and heads, and the campaign's evaluators. */
export interface PeopleAround {
  fillers: Array<{ id: number; name: string }>;
  heads: Array<{ id: number; name: string }>;
  evaluators: Array<{ id: number; name: string }>;
}

/** An evaluation as a click needs it: with the people its cards go to. */
export type EvaluationForAction = LoadedEvaluation & { around: PeopleAround };

// The version's items, and the decision that returned the previous version, as JSON columns of
// the evaluation's row: the whole evaluation is one statement (one round trip), on every click.
const itemsJson = sql<string>`(SELECT json_group_array(json_array(i.indicator_id, i.claimed_score, i.explanation, json(i.evidence_links)))
  FROM self_evaluation_items i WHERE i.version_id = ${selfEvaluationVersions.id})`;
const lastReturnJson = sql<string | null>`(SELECT json_array(d.stage, d.decision, d.comment, json(d.item_comments), d.decided_at, d.reviewer_id, pv.version)
  FROM review_decisions d JOIN self_evaluation_versions pv ON pv.id = d.version_id
  WHERE pv.evaluation_id = ${selfEvaluations.id} AND pv.version = ${selfEvaluations.currentVersion} - 1 AND d.decision = 'return'
  ORDER BY d.id DESC LIMIT 1)`;
// The unit's fillers and heads and the campaign's evaluators (a grant without a campaign counts in every one).
const aroundJson = sql<string>`(SELECT json_group_array(json_array(a.id, a.name, a.role, a.unit_id)) FROM (
  SELECT DISTINCT p.id, p.name, r.role, r.unit_id FROM roles r JOIN people p ON p.id = r.person_id
  WHERE ((r.role IN ('filler', 'unit_head') AND r.unit_id = ${selfEvaluations.unitId}) OR r.role = 'evaluator')
    AND (r.campaign_id IS NULL OR r.campaign_id = ${selfEvaluations.campaignId})
  ORDER BY p.id) a)`;

function evaluationQuery(d: Executor, withPeople: boolean, id: number | Placeholder) {
  return d
    .select({
      ev: selfEvaluations,
      campaign: { id: campaigns.id, name: campaigns.name, year: campaigns.year, schemeId: campaigns.schemeId },
      unit: { id: units.id, name: units.name, groupName: units.groupName },
      stageStatus: campaignStages.status,
      version: selfEvaluationVersions,
      items: itemsJson,
      lastReturn: lastReturnJson,
      around: withPeople ? aroundJson : sql<string>`'[]'`,
    })
    .from(selfEvaluations)
    .innerJoin(campaigns, eq(campaigns.id, selfEvaluations.campaignId))
    .innerJoin(units, eq(units.id, selfEvaluations.unitId))
    .innerJoin(selfEvaluationVersions, and(eq(selfEvaluationVersions.evaluationId, selfEvaluations.id), eq(selfEvaluationVersions.version, selfEvaluations.currentVersion)))
    .leftJoin(campaignStages, and(eq(campaignStages.campaignId, selfEvaluations.campaignId), eq(campaignStages.stage, 'self_evaluation')))
    .where(eq(selfEvaluations.id, id))
    .limit(1);
}

type EvaluationRow = Awaited<ReturnType<typeof evaluationQuery>>[number];

type ItemJson = [number, number | null, string, string[]];
type ReturnJson = [ReviewView['stage'], ReviewView['decision'], string, Record<string, string>, number, number, number];

async function toLoaded(db: Executor, row: EvaluationRow): Promise<LoadedEvaluation> {
  const items = (JSON.parse(row.items) as ItemJson[])
    .map(([indicatorId, claimedScore, explanation, evidenceLinks]) => ({ indicatorId, claimedScore, explanation, evidenceLinks }))
    .sort((a, b) => a.indicatorId - b.indicatorId);
  const r = row.lastReturn ? (JSON.parse(row.lastReturn) as ReturnJson) : null;
  return {
    state: {
      id: row.ev.id, campaignId: row.ev.campaignId, unitId: row.ev.unitId, status: row.ev.status,
      currentVersion: row.ev.currentVersion, revision: row.ev.revision, stageOpen: row.stageStatus === 'open',
    },
    campaign: { id: row.campaign.id, name: row.campaign.name, year: row.campaign.year },
    unit: row.unit,
    dueAt: row.ev.dueAt,
    indicators: await indicatorsOf(db, row.campaign.schemeId),
    current: { ...versionView(row.version), items },
    lastReturn: r ? { stage: r[0], decision: r[1], comment: r[2], itemComments: r[3], decidedAt: r[4], reviewerId: r[5], version: r[6] } : null,
  };
}

/** The evaluation with its campaign, unit, 自评 stage, current version and last return: one statement. */
export async function loadEvaluation(db: Executor, evaluationId: number): Promise<LoadedEvaluation | null> {
  const rows = await prepared(db, 'loadEvaluation', (d) => evaluationQuery(d, false, sql.placeholder('id')).prepare()).all({ id: evaluationId });
  return rows[0] ? toLoaded(db, rows[0]) : null;
}

/** As loadEvaluation, with the people around the unit, still one statement: what a click on it reads. */
export async function loadEvaluationForAction(db: Executor, evaluationId: number): Promise<EvaluationForAction | null> {
  const rows = await prepared(db, 'loadEvaluationForAction', (d) => evaluationQuery(d, true, sql.placeholder('id')).prepare()).all({ id: evaluationId });
  return evaluationForAction(db, rows);
}

/** loadEvaluationForAction's statement, for a batch (the click's claim: see ActionHandler.preload). */
export function evaluationForActionQuery(db: Executor, evaluationId: number): Statement {
  return bind(prepared(db, 'loadEvaluationForAction', (d) => evaluationQuery(d, true, sql.placeholder('id')).prepare()), { id: evaluationId });
}

/** The evaluation from what evaluationForActionQuery returned. */
export async function evaluationForAction(db: Executor, result: unknown): Promise<EvaluationForAction | null> {
  const row = (result as EvaluationRow[])[0];
  if (!row) return null;
  const people = (JSON.parse(row.around) as Array<[number, string, string, number | null]>).sort((a, b) => a[0] - b[0]);
  const pick = (role: string, ofUnit: boolean) => {
    const seen = new Set<number>();
    return people.filter(([id, , r, unitId]) => r === role && (!ofUnit || unitId === row.ev.unitId) && !seen.has(id) && seen.add(id)).map(([id, name]) => ({ id, name }));
  };
  return { ...(await toLoaded(db, row)), around: { fillers: pick('filler', true), heads: pick('unit_head', true), evaluators: pick('evaluator', false) } };
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

export interface TransitionArgs {
  loaded: LoadedEvaluation;
  decision: Decision;
  actorId: number;
  now: number;
  content?: { report: string; items: readonly ItemInput[] };
  review?: { stage: 'head' | 'evaluator'; decision: 'sign' | 'accept' | 'return'; comment: string; itemComments: Record<string, string> };
}

/**
 * A decided transition as statements to run in one transaction (a batch), and the evaluation as
 * it will be once they ran, built from what is written rather than read back.
 *
 * The first statement checks the revision the decision was made on: when a concurrent click
 * moved it on, it sets the revision to NULL, which the column refuses, so the transaction
 * stops there and nothing is written (isStaleRevision tells that error from others). A batch
 * cannot branch on an UPDATE's row count, so this is how it refuses to go on.
 * When the transition opens the next version, `finish` takes the batch's results and fills in
 * the new version's id.
 */
export function transitionStatements(db: Executor, args: TransitionArgs): { statements: Statement[]; after: LoadedEvaluation; finish: (results: readonly unknown[]) => LoadedEvaluation } {
  const { loaded, decision, actorId, now } = args;
  const ev = loaded.state;
  const check = prepared(db, 'transition', (d) =>
    d
      .update(selfEvaluations)
      .set({
        status: sql`${sql.placeholder('status')}`, currentVersion: sql`${sql.placeholder('version')}`, updatedAt: sql`${sql.placeholder('now')}`,
        revision: sql`CASE WHEN ${selfEvaluations.revision} = ${sql.placeholder('revision')} THEN ${sql.placeholder('next')} END`,
      })
      .where(eq(selfEvaluations.id, sql.placeholder('id')))
      .prepare(),
  );
  const statements: Statement[] = [bind(check, { status: decision.status, version: decision.currentVersion, now, revision: ev.revision, next: ev.revision + 1, id: ev.id })];

  const versionId = loaded.current.id;
  const versionPatch: Record<string, unknown> = { status: decision.versionStatus, updatedAt: now };
  if (args.content) {
    versionPatch.report = args.content.report;
    statements.push(...itemStatements(db, versionId, args.content.items, true));
  }
  if (decision.versionStatus === 'submitted') Object.assign(versionPatch, { submittedBy: actorId, submittedAt: now });
  if (decision.versionStatus === 'signed') Object.assign(versionPatch, { signedBy: actorId, signedAt: now });
  statements.push(versionUpdate(db, versionId, versionPatch));

  if (args.review) {
    statements.push(db.insert(reviewDecisions).values({ versionId, reviewerId: actorId, stage: args.review.stage, decision: args.review.decision, comment: args.review.comment, itemComments: args.review.itemComments, decidedAt: now }));
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
  if (!decision.opensNextVersion) {
    const after = { ...loaded, state, current: acted };
    return { statements, after, finish: () => after };
  }

  // The next version starts as a copy, so the filler edits only what was questioned. Its id is
  // known only once inserted: the items find it by (evaluation, version).
  const nextAt = statements.length;
  statements.push(
    db
      .insert(selfEvaluationVersions)
      .values({ evaluationId: ev.id, version: decision.currentVersion, status: 'draft', report: acted.report, createdAt: now, updatedAt: now })
      .returning({ id: selfEvaluationVersions.id }),
  );
  const nextId = sql<number>`(SELECT id FROM self_evaluation_versions WHERE evaluation_id = ${ev.id} AND version = ${decision.currentVersion})`;
  statements.push(...itemStatements(db, nextId, acted.items, false));
  const returned = args.review;
  const after: LoadedEvaluation = {
    ...loaded,
    state,
    current: { id: 0, version: decision.currentVersion, status: 'draft', report: acted.report, submittedAt: null, signedAt: null, items: acted.items },
    lastReturn: returned ? { ...returned, decision: 'return', decidedAt: now, reviewerId: actorId, version: acted.version } : loaded.lastReturn,
  };
  const finish = (results: readonly unknown[]) => {
    const [next] = results[nextAt] as Array<{ id: number }>;
    if (!next) throw new Error('next version not created');
    return { ...after, current: { ...after.current, id: next.id } };
  };
  return { statements, after, finish };
}

/** The error a transition's first statement raises when the evaluation's revision moved on. */
export function isStaleRevision(error: unknown): boolean {
  return errorMatches(error, /NOT NULL constraint failed: self_evaluations\.revision/);
}

/**
 * Applies a decided transition in the caller's transaction: statement by statement, for when
 * more work must follow in the same transaction (an acceptance records the scores). Returns
 * null, having written nothing, when the revision moved on.
 */
export async function applyTransition(db: Executor, args: TransitionArgs): Promise<LoadedEvaluation | null> {
  const { statements, finish } = transitionStatements(db, args);
  const [check = null, ...rest] = statements;
  try {
    await runStatements([check]);
  } catch (error) {
    // The revision check failed as a statement: nothing was written, the transaction goes on.
    if (isStaleRevision(error)) return null;
    throw error;
  }
  return finish([undefined, ...(await runStatements(rest))]);
}

function itemStatements(db: Executor, versionId: number | SQL<number>, items: readonly ItemInput[], replace: boolean): Statement[] {
  const out: Statement[] = [];
  if (typeof versionId === 'number') {
    // A draft save writes these on every click: prepared once per handle (and per number of items).
    if (replace) out.push(bind(prepared(db, 'deleteItems', (d) => d.delete(selfEvaluationItems).where(eq(selfEvaluationItems.versionId, sql.placeholder('versionId'))).prepare()), { versionId }));
    if (items.length === 0) return out;
    const insert = prepared(db, `insertItems:${items.length}`, (d) =>
      d.insert(selfEvaluationItems).values(items.map((_, n) => ({
        versionId: sql.placeholder('versionId'), indicatorId: sql.placeholder(`i${n}`), claimedScore: sql.placeholder(`s${n}`),
        explanation: sql.placeholder(`e${n}`), evidenceLinks: sql.placeholder(`l${n}`),
      }))).prepare(),
    );
    const values: Record<string, unknown> = { versionId };
    items.forEach((i, n) => Object.assign(values, { [`i${n}`]: i.indicatorId, [`s${n}`]: i.claimedScore, [`e${n}`]: i.explanation, [`l${n}`]: [...i.evidenceLinks] }));
    out.push(bind(insert, values));
    return out;
  }
  if (replace) out.push(db.delete(selfEvaluationItems).where(eq(selfEvaluationItems.versionId, versionId)));
  if (items.length > 0) {
    out.push(db.insert(selfEvaluationItems).values(
      items.map((i) => ({ versionId, indicatorId: i.indicatorId, claimedScore: i.claimedScore, explanation: i.explanation, evidenceLinks: [...i.evidenceLinks] })),
    ));
  }
  return out;
}

/** The acted-on version's update; its columns depend on the transition, so it is prepared per set of columns. */
function versionUpdate(db: Executor, versionId: number, patch: Record<string, unknown>): Statement {
  const columns = Object.keys(patch).sort();
  const update = prepared(db, `versionUpdate:${columns.join(',')}`, (d) =>
    d.update(selfEvaluationVersions).set(Object.fromEntries(columns.map((c) => [c, sql`${sql.placeholder(c)}`]))).where(eq(selfEvaluationVersions.id, sql.placeholder('versionId'))).prepare(),
  );
  return bind(update, { ...patch, versionId });
}
