import { and, eq, inArray, isNull } from 'drizzle-orm';
import { identities, people, roles, units } from '../../db/schema';
import { ROLE_LABELS, type RoleName } from '../domain/roles';
import { appendAudit } from './audit.repo';
import { writeTransaction } from './serialize';
import type { Db, Executor } from './db';

export interface ImportUnit {
  code: string;
  name: string;
  groupName: string;
  supervisingDept: string;
}

/** One validated row of an import file: a person, the unit on that row (if any) and the roles it grants. */
export interface ImportRecord {
  /** Spreadsheet row number, for messages. */
  row: number;
  unit: ImportUnit | null;
  name: string;
  /** Normalised 11-digit mobile: the key that matches people across imports. */
  mobile: string;
  email: string | null;
  roles: RoleName[];
}

export interface ImportCounts {
  unitsCreated: number;
  unitsUpdated: number;
  peopleCreated: number;
  peopleUpdated: number;
  rolesAdded: number;
}

/** Roles granted for the row's unit; the others are held without a unit. */
const UNIT_ROLES: ReadonlySet<RoleName> = new Set(['filler', 'unit_head', 'dept_reviewer']);
/** Roles that say the person works in the unit (as opposed to reviewing it). */
const MEMBER_ROLES: ReadonlySet<RoleName> = new Set(['filler', 'unit_head']);

interface PlannedPerson {
  mobile: string;
  name: string;
  email: string | null;
  unitCode: string | null;
  grants: Array<{ role: RoleName; unitCode: string | null }>;
}

/**
 * Folds rows into units and people. A person's unit is the first unit they fill in for or head;
 * failing that, the unit of their rows if they all name the same one; otherwise none (a
 * 主管部门审核人 covering several units belongs to none of them).
 */
export function planImport(records: readonly ImportRecord[]): { units: ImportUnit[]; people: PlannedPerson[] } {
  const unitMap = new Map<string, ImportUnit>();
  const personMap = new Map<string, PlannedPerson & { memberUnit: string | null; anyUnits: Set<string> }>();
  for (const r of records) {
    if (r.unit && !unitMap.has(r.unit.code)) unitMap.set(r.unit.code, r.unit);
    let p = personMap.get(r.mobile);
    if (!p) {
      p = { mobile: r.mobile, name: r.name, email: r.email, unitCode: null, grants: [], memberUnit: null, anyUnits: new Set() };
      personMap.set(r.mobile, p);
    }
    if (p.email === null) p.email = r.email;
    const code = r.unit?.code ?? null;
    if (code !== null) {
      p.anyUnits.add(code);
      if (p.memberUnit === null && r.roles.some((role) => MEMBER_ROLES.has(role))) p.memberUnit = code;
    }
    for (const role of r.roles) {
      const unitCode = UNIT_ROLES.has(role) ? code : null;
      if (UNIT_ROLES.has(role) && unitCode === null) throw new Error(`第${r.row}行：角色「${ROLE_LABELS[role]}」需要所属单位`);
      if (!p.grants.some((g) => g.role === role && g.unitCode === unitCode)) p.grants.push({ role, unitCode });
    }
  }
  const planned = [...personMap.values()].map(({ memberUnit, anyUnits, ...p }) => ({
    ...p,
    unitCode: memberUnit ?? (anyUnits.size === 1 ? [...anyUnits][0]! : null),
  }));
  return { units: [...unitMap.values()], people: planned };
}

const CHUNK = 500;
function chunks<T>(xs: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK));
  return out;
}

/**
 * Upserts units (by code) and people (by mobile), adds missing standing roles (campaign null) and
 * a local identity `p<personId>` for everyone, and appends an audit entry — all in one
 * transaction. Name and unit come from the file; an empty 邮箱 keeps the stored email.
 * Roles are only added, never removed. Re-importing the same records changes nothing.
 */
export async function importUnitsAndPeople(
  db: Db,
  records: readonly ImportRecord[],
  now: number,
  actorId: number | null,
  source = 'import',
): Promise<ImportCounts> {
  const plan = planImport(records);
  return writeTransaction(db, async (tx) => {
    const counts: ImportCounts = { unitsCreated: 0, unitsUpdated: 0, peopleCreated: 0, peopleUpdated: 0, rolesAdded: 0 };

    const unitIds = await upsertUnits(tx, plan.units, now, counts);

    const existingPeople = new Map<string, typeof people.$inferSelect>();
    for (const part of chunks(plan.people.map((p) => p.mobile))) {
      for (const p of await tx.select().from(people).where(inArray(people.mobile, part))) existingPeople.set(p.mobile!, p);
    }
    const personIds = new Map<string, number>();
    for (const p of plan.people) {
      const unitId = p.unitCode === null ? null : unitIds.get(p.unitCode)!;
      const old = existingPeople.get(p.mobile);
      if (!old) {
        const [created] = await tx
          .insert(people)
          .values({ name: p.name, mobile: p.mobile, email: p.email, unitId, createdAt: now })
          .returning({ id: people.id });
        personIds.set(p.mobile, created!.id);
        counts.peopleCreated++;
        continue;
      }
      personIds.set(p.mobile, old.id);
      const email = p.email ?? old.email;
      if (old.name !== p.name || old.email !== email || old.unitId !== unitId) {
        await tx.update(people).set({ name: p.name, email, unitId }).where(eq(people.id, old.id));
        counts.peopleUpdated++;
      }
    }

    const ids = [...personIds.values()];
    const held = new Set<string>();
    const key = (personId: number, role: string, unitId: number | null) => `${personId}|${role}|${unitId ?? ''}`;
    for (const part of chunks(ids)) {
      const rs = await tx
        .select({ personId: roles.personId, role: roles.role, unitId: roles.unitId })
        .from(roles)
        .where(and(inArray(roles.personId, part), isNull(roles.campaignId)));
      for (const r of rs) held.add(key(r.personId, r.role, r.unitId));
    }
    for (const p of plan.people) {
      const personId = personIds.get(p.mobile)!;
      for (const g of p.grants) {
        const unitId = g.unitCode === null ? null : unitIds.get(g.unitCode)!;
        const k = key(personId, g.role, unitId);
        if (held.has(k)) continue;
        await tx.insert(roles).values({ personId, role: g.role, unitId, campaignId: null, createdAt: now });
        held.add(k);
        counts.rolesAdded++;
      }
    }

    await ensureLocalIdentities(tx, ids);

    await appendAudit(tx, { at: now, actorId, platform: 'cli', action: 'import.units', subjectType: 'import', subjectId: source, after: counts });
    return counts;
  });
}

async function upsertUnits(tx: Executor, planned: readonly ImportUnit[], now: number, counts: ImportCounts): Promise<Map<string, number>> {
  const existing = new Map<string, typeof units.$inferSelect>();
  for (const part of chunks(planned.map((u) => u.code))) {
    for (const u of await tx.select().from(units).where(inArray(units.code, part))) existing.set(u.code, u);
  }
  const ids = new Map<string, number>();
  for (const u of planned) {
    const old = existing.get(u.code);
    if (!old) {
      const [created] = await tx
        .insert(units)
        .values({ code: u.code, name: u.name, groupName: u.groupName, supervisingDept: u.supervisingDept, createdAt: now })
        .returning({ id: units.id });
      ids.set(u.code, created!.id);
      counts.unitsCreated++;
      continue;
    }
    ids.set(u.code, old.id);
    if (old.name !== u.name || old.groupName !== u.groupName || old.supervisingDept !== u.supervisingDept) {
      await tx.update(units).set({ name: u.name, groupName: u.groupName, supervisingDept: u.supervisingDept }).where(eq(units.id, old.id));
      counts.unitsUpdated++;
    }
  }
  return ids;
}

/** Gives everyone without a local identity the id `p<personId>`. */
async function ensureLocalIdentities(tx: Executor, personIds: readonly number[]): Promise<void> {
  const have = new Set<number>();
  for (const part of chunks(personIds)) {
    const rows = await tx
      .select({ personId: identities.personId })
      .from(identities)
      .where(and(eq(identities.platform, 'local'), inArray(identities.personId, part)));
    for (const r of rows) have.add(r.personId);
  }
  const missing = personIds.filter((id) => !have.has(id));
  for (const part of chunks(missing)) {
    const wanted = part.map((id) => `p${id}`);
    const taken = await tx
      .select({ externalId: identities.externalId })
      .from(identities)
      .where(and(eq(identities.platform, 'local'), inArray(identities.externalId, wanted)));
    if (taken.length > 0) throw new Error(`本地身份「${taken[0]!.externalId}」已被其他人员占用，无法为导入的人员创建本地身份`);
    await tx.insert(identities).values(part.map((personId) => ({ personId, platform: 'local' as const, externalId: `p${personId}` })));
  }
}
