/** Who may do what: a person's roles, checked against the unit and campaign of the subject. */
export type RoleName = 'filler' | 'unit_head' | 'dept_reviewer' | 'evaluator' | 'leader';

export interface RoleGrant {
  readonly role: RoleName;
  readonly unitId: number | null;
  readonly campaignId: number | null;
}

export interface Actor {
  readonly personId: number;
  readonly name: string;
  readonly roles: readonly RoleGrant[];
}

/** A grant with no campaign applies to every campaign; one with no unit applies to no unit in particular. */
export function holds(actor: Actor, role: RoleName, scope: { campaignId: number; unitId?: number }): boolean {
  return actor.roles.some(
    (g) =>
      g.role === role &&
      (g.campaignId === null || g.campaignId === scope.campaignId) &&
      (scope.unitId === undefined || g.unitId === scope.unitId),
  );
}

export const ROLE_LABELS: Record<RoleName, string> = {
  filler: '填报员',
  unit_head: '单位负责人',
  dept_reviewer: '主管部门审核人',
  evaluator: '评估组',
  leader: '领导',
};
