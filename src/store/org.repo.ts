import { and, eq, inArray, isNull, or, asc, type Placeholder } from 'drizzle-orm';
import { identities, people, roles, units } from '../../db/schema';
import type { Actor, RoleGrant, RoleName } from '../domain/roles';
import type { Executor } from './db';

export type Platform = 'local' | 'feishu' | 'dingtalk';

/** The person behind an identity, with each of their roles as a row (toActor folds them). */
export function actorQuery(db: Executor, platform: Platform | Placeholder, externalId: string | Placeholder) {
  return db
    .select({ personId: people.id, name: people.name, role: roles.role, unitId: roles.unitId, campaignId: roles.campaignId })
    .from(identities)
    .innerJoin(people, eq(people.id, identities.personId))
    .leftJoin(roles, eq(roles.personId, people.id))
    .where(and(eq(identities.platform, platform), eq(identities.externalId, externalId)));
}

export function toActor(rows: ReadonlyArray<{ personId: number; name: string; role: RoleName | null; unitId: number | null; campaignId: number | null }>): Actor | null {
  const first = rows[0];
  if (!first) return null;
  const grants = rows.flatMap((r) => (r.role ? [{ role: r.role, unitId: r.unitId, campaignId: r.campaignId }] : []));
  return { personId: first.personId, name: first.name, roles: grants };
}

export async function rolesOf(db: Executor, personId: number): Promise<RoleGrant[]> {
  return db.select({ role: roles.role, unitId: roles.unitId, campaignId: roles.campaignId }).from(roles).where(eq(roles.personId, personId));
}

/** People holding a role for a unit (or, with no unit, for the campaign), in this campaign or all. */
export async function peopleWithRole(
  db: Executor,
  role: RoleName,
  scope: { campaignId: number; unitId?: number },
): Promise<Array<{ id: number; name: string }>> {
  const conds = [eq(roles.role, role), or(isNull(roles.campaignId), eq(roles.campaignId, scope.campaignId))];
  if (scope.unitId !== undefined) conds.push(eq(roles.unitId, scope.unitId));
  const rows = await db
    .selectDistinct({ id: people.id, name: people.name })
    .from(roles)
    .innerJoin(people, eq(people.id, roles.personId))
    .where(and(...conds))
    .orderBy(asc(people.id));
  return rows;
}

/** People holding any of these roles in a campaign (or in all), with the role: one statement for several audiences. */
export async function peopleWithRoles(db: Executor, roleNames: readonly RoleName[], campaignId: number): Promise<Array<{ id: number; name: string; role: RoleName }>> {
  return db
    .selectDistinct({ id: people.id, name: people.name, role: roles.role })
    .from(roles)
    .innerJoin(people, eq(people.id, roles.personId))
    .where(and(inArray(roles.role, [...roleNames]), or(isNull(roles.campaignId), eq(roles.campaignId, campaignId))))
    .orderBy(asc(people.id));
}

export interface PersonListing {
  id: number;
  name: string;
  unitName: string | null;
  roles: Array<{ role: RoleName; unitName: string | null }>;
  localId: string | null;
}

/** Everyone, with their roles, for the simulator's front page. */
export async function listPeople(db: Executor): Promise<PersonListing[]> {
  const ps = await db
    .select({ id: people.id, name: people.name, unitName: units.name })
    .from(people)
    .leftJoin(units, eq(units.id, people.unitId))
    .orderBy(asc(people.id));
  if (ps.length === 0) return [];
  const ids = ps.map((p) => p.id);
  const rs = await db
    .select({ personId: roles.personId, role: roles.role, unitName: units.name })
    .from(roles)
    .leftJoin(units, eq(units.id, roles.unitId))
    .where(inArray(roles.personId, ids));
  const locals = await db
    .select({ personId: identities.personId, externalId: identities.externalId })
    .from(identities)
    .where(and(eq(identities.platform, 'local'), inArray(identities.personId, ids)));
  return ps.map((p) => ({
    ...p,
    roles: rs.filter((r) => r.personId === p.id).map((r) => ({ role: r.role, unitName: r.unitName })),
    localId: locals.find((l) => l.personId === p.id)?.externalId ?? null,
  }));
}

export async function getPerson(db: Executor, id: number) {
  const rows = await db.select().from(people).where(eq(people.id, id)).limit(1);
  return rows[0] ?? null;
}

export async function countUnits(db: Executor): Promise<number> {
  const rows = await db.select({ id: units.id }).from(units).limit(1);
  return rows.length;
}

/** The person's id on a platform (simulator id, Feishu open_id, DingTalk userId), if bound. */
export async function identityOf(db: Executor, personId: number, platform: Platform): Promise<string | null> {
  const rows = await db
    .select({ externalId: identities.externalId })
    .from(identities)
    .where(and(eq(identities.platform, platform), eq(identities.personId, personId)))
    .limit(1);
  return rows[0]?.externalId ?? null;
}

/** People with no identity on a platform yet, with what they can be matched by. */
export async function peopleWithoutIdentity(db: Executor, platform: Platform): Promise<Array<{ id: number; name: string; mobile: string | null; email: string | null }>> {
  const all = await db.select({ id: people.id, name: people.name, mobile: people.mobile, email: people.email }).from(people).orderBy(asc(people.id));
  const linked = new Set((await db.select({ personId: identities.personId }).from(identities).where(eq(identities.platform, platform))).map((r) => r.personId));
  return all.filter((p) => !linked.has(p.id));
}

/** Links people to platform accounts; an account already linked to someone else is reported, not moved. */
export async function linkIdentities(db: Executor, platform: Platform, links: ReadonlyArray<{ personId: number; externalId: string }>): Promise<{ linked: number; taken: Array<{ personId: number; externalId: string }> }> {
  let linked = 0;
  const taken: Array<{ personId: number; externalId: string }> = [];
  for (const l of links) {
    const rows = await db.insert(identities).values({ personId: l.personId, platform, externalId: l.externalId }).onConflictDoNothing().returning({ id: identities.id });
    if (rows.length > 0) linked++;
    else taken.push(l);
  }
  return { linked, taken };
}
