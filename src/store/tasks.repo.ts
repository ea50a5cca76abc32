import { and, asc, eq, sql } from 'drizzle-orm';
import { campaignStages, campaigns } from '../../db/schema';
import type { Actor } from '../domain/roles';
import { bind, runStatements, type Statement } from './batch';
import type { Executor } from './db';
import { prepared } from './prepared';

export type Task =
  | { kind: 'fill' | 'sign' | 'review'; evaluationId: number; campaignId: number; campaignName: string; unitName: string; dueAt: number | null; version: number }
  | { kind: 'start' | 'progress'; campaignId: number; campaignName: string; dueAt: number | null };

/**
 * What a person has to do now, from their roles: the answer to "what is on my plate?". One
 * statement: the running campaigns with their 自评 stage and, as a JSON column, the evaluations
 * that can still ask something of someone (an accepted one asks nothing).
 */
export async function openTasks(db: Executor, actor: Actor): Promise<Task[]> {
  const [rows] = await runStatements([openTasksQuery(db)]);
  return tasksFor(actor, rows);
}

function campaignsWithEvaluations(d: Executor) {
  return d
    .select({
      id: campaigns.id, name: campaigns.name, stageStatus: campaignStages.status, stageDueAt: campaignStages.dueAt,
      evaluations: sql<string>`(SELECT json_group_array(json_array(e.id, e.unit_id, e.status, e.due_at, e.current_version, e.unit_name)) FROM (
        SELECT se.id, se.unit_id, se.status, se.due_at, se.current_version, u.name AS unit_name FROM self_evaluations se JOIN units u ON u.id = se.unit_id
        WHERE se.campaign_id = ${campaigns.id} AND se.status IN ('draft', 'submitted', 'signed') ORDER BY se.id) e)`,
    })
    .from(campaigns)
    .leftJoin(campaignStages, and(eq(campaignStages.campaignId, campaigns.id), eq(campaignStages.stage, 'self_evaluation')))
    .where(eq(campaigns.status, 'running'))
    .orderBy(asc(campaigns.id));
}

/** openTasks' statement: the same for everyone (the roles pick from it), so it can run in the click's first batch. */
export function openTasksQuery(db: Executor): Statement {
  return bind(prepared(db, 'openTasks', (d) => campaignsWithEvaluations(d).prepare()));
}

type EvaluationJson = [number, number, 'draft' | 'submitted' | 'signed', number | null, number, string];

/** A person's tasks from what openTasksQuery returned. */
export function tasksFor(actor: Actor, result: unknown): Task[] {
  const rows = result as Awaited<ReturnType<typeof campaignsWithEvaluations>>;
  const inScope = (campaignId: number, grant: { campaignId: number | null }) => grant.campaignId === null || grant.campaignId === campaignId;

  const tasks: Task[] = [];
  for (const c of rows) {
    const stage = c.stageStatus === null ? undefined : { status: c.stageStatus, dueAt: c.stageDueAt };
    const grants = (role: string) => actor.roles.filter((g) => g.role === role && inScope(c.id, g));
    const evaluator = grants('evaluator').length > 0;
    if (evaluator && stage?.status === 'pending') tasks.push({ kind: 'start', campaignId: c.id, campaignName: c.name, dueAt: null });
    for (const [id, unitId, status, dueAt, version, unitName] of JSON.parse(c.evaluations) as EvaluationJson[]) {
      const base = { evaluationId: id, campaignId: c.id, campaignName: c.name, unitName, dueAt, version };
      const ofUnit = (role: string) => grants(role).some((g) => g.unitId === unitId);
      if (status === 'draft' && stage?.status === 'open' && ofUnit('filler')) tasks.push({ kind: 'fill', ...base });
      if (status === 'submitted' && ofUnit('unit_head')) tasks.push({ kind: 'sign', ...base });
      if (status === 'signed' && evaluator) tasks.push({ kind: 'review', ...base });
    }
    if (evaluator || grants('leader').length > 0) tasks.push({ kind: 'progress', campaignId: c.id, campaignName: c.name, dueAt: stage?.dueAt ?? null });
  }
  return tasks;
}
