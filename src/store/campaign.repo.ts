import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { campaignStages, campaignUnits, campaigns, indicators, schemes, selfEvaluations, selfEvaluationVersions, units } from '../../db/schema';
import type { StageState } from '../domain/campaign';
import type { Indicator } from '../domain/self-evaluation';
import type { Executor } from './db';

export interface CampaignSummary {
  id: number;
  name: string;
  year: number;
  status: 'draft' | 'running' | 'closed';
  schemeId: number;
  schemeName: string;
  stages: StageState[];
}

export async function listCampaigns(db: Executor): Promise<CampaignSummary[]> {
  const cs = await db
    .select({ id: campaigns.id, name: campaigns.name, year: campaigns.year, status: campaigns.status, schemeId: campaigns.schemeId, schemeName: schemes.name })
    .from(campaigns)
    .innerJoin(schemes, eq(schemes.id, campaigns.schemeId))
    .orderBy(asc(campaigns.id));
  if (cs.length === 0) return [];
  const st = await db
    .select()
    .from(campaignStages)
    .where(inArray(campaignStages.campaignId, cs.map((c) => c.id)))
    .orderBy(asc(campaignStages.ordinal));
  return cs.map((c) => ({
    ...c,
    stages: st.filter((s) => s.campaignId === c.id).map((s) => ({ stage: s.stage, status: s.status, dueAt: s.dueAt })),
  }));
}

/** One campaign with its stages: one statement (the stages as a JSON column). */
export async function getCampaign(db: Executor, id: number): Promise<CampaignSummary | null> {
  const rows = await db
    .select({
      id: campaigns.id, name: campaigns.name, year: campaigns.year, status: campaigns.status, schemeId: campaigns.schemeId, schemeName: schemes.name,
      stages: sql<string>`(SELECT json_group_array(json_array(s.stage, s.status, s.due_at)) FROM (
        SELECT stage, status, due_at FROM campaign_stages WHERE campaign_id = ${campaigns.id} ORDER BY ordinal) s)`,
    })
    .from(campaigns)
    .innerJoin(schemes, eq(schemes.id, campaigns.schemeId))
    .where(eq(campaigns.id, id));
  const c = rows[0];
  if (!c) return null;
  const stages = (JSON.parse(c.stages) as Array<[StageState['stage'], StageState['status'], number | null]>).map(([stage, status, dueAt]) => ({ stage, status, dueAt }));
  return { ...c, stages };
}

export async function campaignUnitList(db: Executor, campaignId: number) {
  return db
    .select({ id: units.id, name: units.name, groupName: units.groupName, supervisingDept: units.supervisingDept })
    .from(campaignUnits)
    .innerJoin(units, eq(units.id, campaignUnits.unitId))
    .where(eq(campaignUnits.campaignId, campaignId))
    .orderBy(asc(units.id));
}

/**
 * A stored scheme never changes (a change is a new version), so its indicators are read once
 * per database handle. Keyed by the handle, so two databases in one process never mix.
 */
const indicatorCache = new WeakMap<object, Map<number, Indicator[]>>();

export async function indicatorsOf(db: Executor, schemeId: number): Promise<Indicator[]> {
  let perDb = indicatorCache.get(db);
  if (!perDb) indicatorCache.set(db, (perDb = new Map()));
  const hit = perDb.get(schemeId);
  if (hit) return hit;
  const rows = await readIndicators(db, schemeId);
  if (rows.length > 0) perDb.set(schemeId, rows);
  return rows;
}

async function readIndicators(db: Executor, schemeId: number): Promise<Indicator[]> {
  return db
    .select({
      id: indicators.id, code: indicators.code, parentCode: indicators.parentCode, level: indicators.level, title: indicators.title,
      maxPoints: indicators.maxPoints, scoringGuide: indicators.scoringGuide, evidence: indicators.evidence,
      evidenceRequired: indicators.evidenceRequired, explanationRequired: indicators.explanationRequired,
    })
    .from(indicators)
    .where(eq(indicators.schemeId, schemeId))
    .orderBy(asc(indicators.ordinal));
}

/**
 * Opens the 自评 stage and creates every unit's evaluation with an empty version 1, in the
 * caller's transaction. Returns false when another request opened it first.
 */
export async function openSelfEvaluationStage(db: Executor, campaignId: number, dueAt: number, now: number): Promise<{ opened: boolean; evaluationIds: number[] }> {
  const updated = await db
    .update(campaignStages)
    .set({ status: 'open', openedAt: now, dueAt })
    .where(and(eq(campaignStages.campaignId, campaignId), eq(campaignStages.stage, 'self_evaluation'), eq(campaignStages.status, 'pending')))
    .returning({ id: campaignStages.id });
  if (updated.length === 0) return { opened: false, evaluationIds: [] };
  await db
    .update(campaignStages)
    .set({ status: 'closed', closedAt: now })
    .where(and(eq(campaignStages.campaignId, campaignId), eq(campaignStages.stage, 'notice'), eq(campaignStages.status, 'open')));
  const us = await campaignUnitList(db, campaignId);
  const evaluationIds: number[] = [];
  for (const u of us) {
    const [ev] = await db
      .insert(selfEvaluations)
      .values({ campaignId, unitId: u.id, status: 'draft', currentVersion: 1, revision: 0, dueAt, updatedAt: now })
      .onConflictDoNothing()
      .returning({ id: selfEvaluations.id });
    if (!ev) continue;
    await db.insert(selfEvaluationVersions).values({ evaluationId: ev.id, version: 1, status: 'draft', createdAt: now, updatedAt: now });
    evaluationIds.push(ev.id);
  }
  return { opened: true, evaluationIds };
}

export interface ProgressRow {
  unitId: number;
  unitName: string;
  groupName: string;
  evaluationId: number | null;
  status: 'draft' | 'submitted' | 'signed' | 'accepted' | null;
  version: number | null;
  updatedAt: number | null;
}

/** Each unit of the campaign with its 自评's state, if it has one: one statement. */
export async function selfEvaluationProgress(db: Executor, campaignId: number): Promise<ProgressRow[]> {
  const rows = await db
    .select({
      unitId: units.id, unitName: units.name, groupName: units.groupName,
      evaluationId: selfEvaluations.id, status: selfEvaluations.status, version: selfEvaluations.currentVersion, updatedAt: selfEvaluations.updatedAt,
    })
    .from(campaignUnits)
    .innerJoin(units, eq(units.id, campaignUnits.unitId))
    .leftJoin(selfEvaluations, and(eq(selfEvaluations.campaignId, campaignUnits.campaignId), eq(selfEvaluations.unitId, campaignUnits.unitId)))
    .where(eq(campaignUnits.campaignId, campaignId))
    .orderBy(asc(units.id));
  return rows;
}

export const STAGE_ORDER = ['notice', 'self_evaluation', 'on_site', 'rating', 'report', 'rectification', 'grading'] as const;

/** A new campaign over the given units, in its first stage (宣传发动). */
export async function createCampaign(db: Executor, c: { schemeId: number; name: string; year: number; unitIds: readonly number[] }, now: number): Promise<number> {
  const [row] = await db.insert(campaigns).values({ schemeId: c.schemeId, name: c.name, year: c.year, status: 'running', createdAt: now }).returning({ id: campaigns.id });
  if (!row) throw new Error('campaign not stored');
  await db.insert(campaignStages).values(STAGE_ORDER.map((stage, ordinal) => ({ campaignId: row.id, stage, ordinal, status: ordinal === 0 ? ('open' as const) : ('pending' as const), openedAt: ordinal === 0 ? now : null })));
  if (c.unitIds.length > 0) await db.insert(campaignUnits).values(c.unitIds.map((unitId) => ({ campaignId: row.id, unitId })));
  return row.id;
}

export async function countCampaigns(db: Executor): Promise<number> {
  return (await db.select({ id: campaigns.id }).from(campaigns)).length;
}

export async function allUnitIds(db: Executor): Promise<number[]> {
  return (await db.select({ id: units.id }).from(units).orderBy(asc(units.id))).map((u) => u.id);
}
