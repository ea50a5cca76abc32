/**
 * What the reminder job and the 催办 button read: every open campaign stage with a deadline, as
 * one target per unit (who must act, who heads the unit, whether it is done), and the leaders.
 * A few set-based queries, whatever the number of units.
 */
import { and, asc, eq, inArray, isNotNull, isNull, or } from 'drizzle-orm';
import { campaignStages, campaignUnits, campaigns, people, roles, selfEvaluations, units } from '../../db/schema';
import { shanghaiDate } from '../domain/time';
import type { Db, Executor } from './db';
import { appendAudit } from './audit.repo';
import { writeTransaction } from './serialize';

export interface StageTarget {
  readonly key: string;
  readonly campaignId: number;
  readonly stage: 'self_evaluation';
  readonly title: string;
  readonly unitId: number;
  readonly unitName: string;
  readonly group: string;
  readonly dueDate: string;
  readonly done: boolean;
  readonly assignees: number[];
  readonly heads: number[];
  /** The unit's 自评, which the reminder's button opens. */
  readonly evaluationId: number | null;
  /** Reminder policy overrides: the campaign's, then the stage's (src/domain/reminders.ts). */
  readonly policyOverrides: unknown[];
}

/** A 自评 counts as done for the filler once it is submitted (the head's 签发 follows on its own card). */
const DONE = new Set(['submitted', 'signed', 'accepted']);

export const stageTargetKey = (campaignId: number, stage: string, unitId: number) => `stage:${campaignId}:${stage}:unit:${unitId}`;

/** Units and the people around them for the open 自评 stages with a deadline (one campaign, or all running ones). */
export async function stageTargets(db: Executor, opts: { campaignId?: number } = {}): Promise<StageTarget[]> {
  const stages = await db
    .select({ campaignId: campaigns.id, name: campaigns.name, dueAt: campaignStages.dueAt, campaignPolicy: campaigns.reminderPolicy, stagePolicy: campaignStages.reminderPolicy })
    .from(campaignStages)
    .innerJoin(campaigns, eq(campaigns.id, campaignStages.campaignId))
    .where(and(
      eq(campaignStages.stage, 'self_evaluation'), eq(campaignStages.status, 'open'), isNotNull(campaignStages.dueAt), eq(campaigns.status, 'running'),
      ...(opts.campaignId !== undefined ? [eq(campaigns.id, opts.campaignId)] : []),
    ));
  if (stages.length === 0) return [];
  const campaignIds = stages.map((s) => s.campaignId);
  const unitRows = await db
    .select({ campaignId: campaignUnits.campaignId, unitId: units.id, unitName: units.name, group: units.groupName, evaluationId: selfEvaluations.id, status: selfEvaluations.status })
    .from(campaignUnits)
    .innerJoin(units, eq(units.id, campaignUnits.unitId))
    .leftJoin(selfEvaluations, and(eq(selfEvaluations.campaignId, campaignUnits.campaignId), eq(selfEvaluations.unitId, campaignUnits.unitId)))
    .where(inArray(campaignUnits.campaignId, campaignIds))
    .orderBy(asc(units.id));
  const roleRows = await db
    .select({ personId: roles.personId, role: roles.role, unitId: roles.unitId, campaignId: roles.campaignId })
    .from(roles)
    .where(and(inArray(roles.role, ['filler', 'unit_head']), isNotNull(roles.unitId), or(isNull(roles.campaignId), inArray(roles.campaignId, campaignIds))));
  const byUnit = new Map<number, Array<(typeof roleRows)[number]>>();
  for (const r of roleRows) byUnit.set(r.unitId!, [...(byUnit.get(r.unitId!) ?? []), r]);
  const stageOf = new Map(stages.map((s) => [s.campaignId, s]));
  return unitRows.map((u) => {
    const s = stageOf.get(u.campaignId)!;
    const around = (byUnit.get(u.unitId) ?? []).filter((r) => r.campaignId === null || r.campaignId === u.campaignId);
    const ids = (role: string) => [...new Set(around.filter((r) => r.role === role).map((r) => r.personId))].sort((a, b) => a - b);
    return {
      key: stageTargetKey(u.campaignId, 'self_evaluation', u.unitId),
      campaignId: u.campaignId,
      stage: 'self_evaluation' as const,
      title: `${s.name} · 单位自评`,
      unitId: u.unitId,
      unitName: u.unitName,
      group: u.group,
      dueDate: shanghaiDate(s.dueAt!),
      done: u.status !== null && DONE.has(u.status),
      assignees: ids('filler'),
      heads: ids('unit_head'),
      evaluationId: u.evaluationId,
      policyOverrides: [s.campaignPolicy, s.stagePolicy].filter((p) => p !== null && p !== undefined),
    };
  });
}

/** People with the role (leader, evaluator) for a campaign, or in every campaign. */
export async function campaignPeople(db: Executor, role: 'leader' | 'evaluator', campaignId: number | null): Promise<Array<{ id: number; name: string }>> {
  return db
    .selectDistinct({ id: people.id, name: people.name })
    .from(roles)
    .innerJoin(people, eq(people.id, roles.personId))
    .where(and(eq(roles.role, role), campaignId === null ? isNull(roles.campaignId) : or(isNull(roles.campaignId), eq(roles.campaignId, campaignId))))
    .orderBy(asc(people.id));
}

/** The stored overrides of a campaign (and of one of its stages); null = none. */
export async function reminderPolicyOverrides(db: Executor, campaignId: number, stage?: StageName): Promise<{ campaign: unknown; stage: unknown } | null> {
  const [c] = await db.select({ policy: campaigns.reminderPolicy }).from(campaigns).where(eq(campaigns.id, campaignId));
  if (!c) return null;
  if (!stage) return { campaign: c.policy, stage: null };
  const [s] = await db.select({ policy: campaignStages.reminderPolicy }).from(campaignStages).where(and(eq(campaignStages.campaignId, campaignId), eq(campaignStages.stage, stage)));
  return { campaign: c.policy, stage: s ? s.policy : null };
}

type StageName = (typeof campaignStages.$inferSelect)['stage'];

/** Sets (or, with null, clears) a campaign's or a stage's reminder policy overrides, audited. The caller validates. */
export async function setReminderPolicy(db: Db, s: { campaignId: number; stage?: StageName; policy: unknown; actorId: number | null; now: number }): Promise<boolean> {
  return writeTransaction(db, async (tx) => {
    const before = await reminderPolicyOverrides(tx, s.campaignId, s.stage);
    if (!before) return false;
    if (s.stage) {
      const r = await tx.update(campaignStages).set({ reminderPolicy: s.policy }).where(and(eq(campaignStages.campaignId, s.campaignId), eq(campaignStages.stage, s.stage))).returning({ id: campaignStages.id });
      if (r.length === 0) return false;
    } else {
      await tx.update(campaigns).set({ reminderPolicy: s.policy }).where(eq(campaigns.id, s.campaignId));
    }
    await appendAudit(tx, { at: s.now, actorId: s.actorId, platform: 'cli', action: 'campaign.reminder_policy', subjectType: 'campaign', subjectId: s.campaignId, before: { stage: s.stage ?? null, policy: s.stage ? before.stage : before.campaign }, after: { stage: s.stage ?? null, policy: s.policy } });
    return true;
  });
}
