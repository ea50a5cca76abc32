import { and, asc, eq, inArray } from 'drizzle-orm';
import { campaignStages, campaigns, selfEvaluations, units } from '../../db/schema';
import type { Actor } from '../domain/roles';
import type { Executor } from './db';

export type Task =
  | { kind: 'fill' | 'sign' | 'review'; evaluationId: number; campaignId: number; campaignName: string; unitName: string; dueAt: number | null; version: number }
  | { kind: 'start' | 'progress'; campaignId: number; campaignName: string; dueAt: number | null };

/** What a person has to do now, from their roles: the answer to "what is on my plate?". */
export async function openTasks(db: Executor, actor: Actor): Promise<Task[]> {
  const running = await db
    .select({ id: campaigns.id, name: campaigns.name })
    .from(campaigns)
    .where(eq(campaigns.status, 'running'))
    .orderBy(asc(campaigns.id));
  if (running.length === 0) return [];
  const stages = await db
    .select()
    .from(campaignStages)
    .where(and(inArray(campaignStages.campaignId, running.map((c) => c.id)), eq(campaignStages.stage, 'self_evaluation')));
  const inScope = (campaignId: number, grant: { campaignId: number | null }) => grant.campaignId === null || grant.campaignId === campaignId;
  const evs = await db
    .select({ ev: selfEvaluations, unitName: units.name })
    .from(selfEvaluations)
    .innerJoin(units, eq(units.id, selfEvaluations.unitId))
    .where(inArray(selfEvaluations.campaignId, running.map((c) => c.id)))
    .orderBy(asc(selfEvaluations.id));

  const tasks: Task[] = [];
  for (const c of running) {
    const stage = stages.find((s) => s.campaignId === c.id);
    const grants = (role: string) => actor.roles.filter((g) => g.role === role && inScope(c.id, g));
    const evaluator = grants('evaluator').length > 0;
    if (evaluator && stage?.status === 'pending') tasks.push({ kind: 'start', campaignId: c.id, campaignName: c.name, dueAt: null });
    for (const { ev, unitName } of evs.filter((e) => e.ev.campaignId === c.id)) {
      const base = { evaluationId: ev.id, campaignId: c.id, campaignName: c.name, unitName, dueAt: ev.dueAt, version: ev.currentVersion };
      const ofUnit = (role: string) => grants(role).some((g) => g.unitId === ev.unitId);
      if (ev.status === 'draft' && stage?.status === 'open' && ofUnit('filler')) tasks.push({ kind: 'fill', ...base });
      if (ev.status === 'submitted' && ofUnit('unit_head')) tasks.push({ kind: 'sign', ...base });
      if (ev.status === 'signed' && evaluator) tasks.push({ kind: 'review', ...base });
    }
    if (evaluator || grants('leader').length > 0) tasks.push({ kind: 'progress', campaignId: c.id, campaignName: c.name, dueAt: stage?.dueAt ?? null });
  }
  return tasks;
}
