/**
 * 个性指标方案 in the database: every version kept, each state change written with its audit
 * entry in one transaction. The rules live in src/domain/individual-plan.ts.
 */
import { and, asc, desc, eq } from 'drizzle-orm';
import { campaignUnits, individualIndicatorPlans, people, roles } from '../../db/schema';
import { decidePlan, planRefusalText, type PlanCommand, type PlanItem, type PlanStatus } from '../domain/individual-plan';
import type { Actor } from '../domain/roles';
import type { IndicatorNode } from '../domain/scheme';
import { appendAudit } from './audit.repo';
import type { Db, Executor } from './db';
import { loadCampaignScheme } from './grading.repo';
import { writeTransaction } from './serialize';

export interface PlanRow {
  id: number;
  campaignId: number;
  unitId: number;
  slotCode: string;
  version: number;
  status: PlanStatus;
  items: PlanItem[];
  tier: string | null;
  draftedBy: number;
  decidedBy: number | null;
  comment: string;
  createdAt: number;
  decidedAt: number | null;
}

/** A person found by mobile, with their roles: who the CLI acts as (--as). */
export async function actorByMobile(db: Executor, mobile: string): Promise<Actor | null> {
  const ps = await db.select({ id: people.id, name: people.name }).from(people).where(eq(people.mobile, mobile)).limit(1);
  const p = ps[0];
  if (!p) return null;
  const grants = await db.select({ role: roles.role, unitId: roles.unitId, campaignId: roles.campaignId }).from(roles).where(eq(roles.personId, p.id));
  return { personId: p.id, name: p.name, roles: grants };
}

/** Every version of a unit's plans in a campaign (one slot, or all), oldest first. */
export async function listPlans(db: Executor, scope: { campaignId: number; unitId: number; slotCode?: string }): Promise<PlanRow[]> {
  const conds = [eq(individualIndicatorPlans.campaignId, scope.campaignId), eq(individualIndicatorPlans.unitId, scope.unitId)];
  if (scope.slotCode !== undefined) conds.push(eq(individualIndicatorPlans.slotCode, scope.slotCode));
  return db.select().from(individualIndicatorPlans).where(and(...conds)).orderBy(asc(individualIndicatorPlans.slotCode), asc(individualIndicatorPlans.version));
}

async function latestPlan(db: Executor, scope: { campaignId: number; unitId: number; slotCode: string }): Promise<PlanRow | null> {
  const rows = await db
    .select()
    .from(individualIndicatorPlans)
    .where(and(eq(individualIndicatorPlans.campaignId, scope.campaignId), eq(individualIndicatorPlans.unitId, scope.unitId), eq(individualIndicatorPlans.slotCode, scope.slotCode)))
    .orderBy(desc(individualIndicatorPlans.version))
    .limit(1);
  return rows[0] ?? null;
}

function findNode(nodes: readonly IndicatorNode[], code: string): IndicatorNode | null {
  for (const n of nodes) {
    if (n.code === code) return n;
    const hit = n.children ? findNode(n.children, code) : null;
    if (hit) return hit;
  }
  return null;
}

const ACTIONS = { draft: 'individual_plan.draft', submit: 'individual_plan.submit', approve: 'individual_plan.approve', return: 'individual_plan.return' } as const;

/**
 * Applies a command (draft, submit, approve, return) to a unit's plan for one scheme slot. The
 * latest version is read inside the write transaction, so two people acting at once are
 * decided one after the other. Returns the version as written, or the refusal in Chinese.
 */
export async function actOnPlan(
  db: Db,
  scope: { campaignId: number; unitId: number; slotCode: string },
  actor: Actor,
  cmd: PlanCommand,
  now: number,
): Promise<{ ok: true; plan: PlanRow } | { ok: false; message: string }> {
  const loaded = await loadCampaignScheme(db, scope.campaignId);
  if (!loaded) return { ok: false, message: `评估（id ${scope.campaignId}）不存在` };
  const slot = findNode(loaded.scheme.indicators, scope.slotCode);
  if (!slot) return { ok: false, message: `指标「${scope.slotCode}」不在评估方案中` };
  const member = await db
    .select({ unitId: campaignUnits.unitId })
    .from(campaignUnits)
    .where(and(eq(campaignUnits.campaignId, scope.campaignId), eq(campaignUnits.unitId, scope.unitId)))
    .limit(1);
  if (member.length === 0) return { ok: false, message: `单位（id ${scope.unitId}）不在本次评估中` };
  return writeTransaction(db, async (tx) => {
    const latest = await latestPlan(tx, scope);
    const d = decidePlan(scope, slot, latest, actor, cmd);
    if (!d.ok) return { ok: false as const, message: planRefusalText(d.refusal) };
    const decision = d.decision;
    let row: PlanRow | undefined;
    if (decision.op === 'insert') {
      if (cmd.kind !== 'draft') throw new Error(`a ${cmd.kind} never creates a version`);
      [row] = await tx
        .insert(individualIndicatorPlans)
        .values({ ...scope, version: decision.version, status: 'draft', items: [...cmd.items], tier: cmd.tier, draftedBy: actor.personId, createdAt: now })
        .returning();
    } else {
      const set = cmd.kind === 'draft'
        ? { items: [...cmd.items], tier: cmd.tier, draftedBy: actor.personId }
        : cmd.kind === 'submit'
          ? { status: decision.status }
          : { status: decision.status, decidedBy: actor.personId, decidedAt: now, comment: cmd.comment.trim() };
      [row] = await tx
        .update(individualIndicatorPlans)
        .set(set)
        .where(and(
          eq(individualIndicatorPlans.campaignId, scope.campaignId), eq(individualIndicatorPlans.unitId, scope.unitId),
          eq(individualIndicatorPlans.slotCode, scope.slotCode), eq(individualIndicatorPlans.version, decision.version),
          eq(individualIndicatorPlans.status, decision.from),
        ))
        .returning();
    }
    if (!row) throw new Error('individual plan changed while it was being written');
    await appendAudit(tx, {
      at: now, actorId: actor.personId, platform: 'cli', action: ACTIONS[cmd.kind], subjectType: 'individual_indicator_plan', subjectId: row.id,
      before: latest && latest.version === row.version ? { version: latest.version, status: latest.status, items: latest.items, tier: latest.tier } : null,
      after: { campaignId: row.campaignId, unitId: row.unitId, slotCode: row.slotCode, version: row.version, status: row.status, items: row.items, tier: row.tier, comment: row.comment },
    });
    return { ok: true as const, plan: row };
  });
}
