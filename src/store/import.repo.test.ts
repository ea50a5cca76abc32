import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from '@libsql/client';
import { asc, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../db/client';
import { applyMigrations } from '../../db/migrate';
import { auditLog, identities, people, roles, units } from '../../db/schema';
import { importUnitsAndPeople, planImport, type ImportRecord } from './import.repo';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

let dir: string;
let dbPath: string;
let client: Client;
let db: Db;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lvzhi-import-'));
  dbPath = join(dir, 'app.db');
  client = createClient({ url: 'file:' + dbPath });
  db = createDb(client);
  await applyMigrations(db);
});

afterEach(() => {
  client.close();
  rmSync(dir, { recursive: true, force: true });
});

const CDC = { code: 'HA-CDC', name: '县疾病预防控制中心', groupName: '公益一类', supervisingDept: '县卫生健康委员会' };
const HOSP = { code: 'HA-HOSP', name: '县人民医院', groupName: '公益二类', supervisingDept: '县卫生健康委员会' };

const RECORDS: ImportRecord[] = [
  { row: 2, unit: CDC, name: '王晓燕', mobile: '13800000001', email: 'wangxy@example.com', roles: ['filler'] },
  { row: 3, unit: CDC, name: '李建国', mobile: '13800000002', email: null, roles: ['unit_head'] },
  { row: 4, unit: HOSP, name: '孙丽华', mobile: '13800000007', email: null, roles: ['filler', 'unit_head'] },
  { row: 5, unit: CDC, name: '钱卫', mobile: '13800000020', email: null, roles: ['dept_reviewer'] },
  { row: 6, unit: HOSP, name: '钱卫', mobile: '13800000020', email: 'qianw@example.com', roles: ['dept_reviewer'] },
  { row: 7, unit: null, name: '黄淑芬', mobile: '13800000013', email: null, roles: ['evaluator', 'leader'] },
];

async function personByMobile(mobile: string) {
  const [p] = await db.select().from(people).where(eq(people.mobile, mobile));
  if (!p) throw new Error(`no person ${mobile}`);
  return p;
}
async function unitId(code: string) {
  const [u] = await db.select({ id: units.id }).from(units).where(eq(units.code, code));
  if (!u) throw new Error(`no unit ${code}`);
  return u.id;
}

describe('planImport', () => {
  it('gives a reviewer of several units no unit, and a member their unit', () => {
    const plan = planImport(RECORDS);
    expect(plan.units.map((u) => u.code)).toEqual(['HA-CDC', 'HA-HOSP']);
    const byMobile = new Map(plan.people.map((p) => [p.mobile, p]));
    expect(byMobile.get('13800000020')).toMatchObject({ unitCode: null, email: 'qianw@example.com' });
    expect(byMobile.get('13800000020')!.grants).toEqual([
      { role: 'dept_reviewer', unitCode: 'HA-CDC' },
      { role: 'dept_reviewer', unitCode: 'HA-HOSP' },
    ]);
    expect(byMobile.get('13800000007')).toMatchObject({ unitCode: 'HA-HOSP' });
    expect(byMobile.get('13800000013')!.grants).toEqual([
      { role: 'evaluator', unitCode: null },
      { role: 'leader', unitCode: null },
    ]);
  });
});

describe('importUnitsAndPeople', () => {
  it('creates units, people, roles and local identities, then changes nothing on re-import', async () => {
    const first = await importUnitsAndPeople(db, RECORDS, 1_000, null, 'units.csv');
    expect(first).toEqual({ unitsCreated: 2, unitsUpdated: 0, peopleCreated: 5, peopleUpdated: 0, rolesAdded: 8 });

    const us = await db.select().from(units).orderBy(asc(units.id));
    expect(us.map((u) => ({ code: u.code, name: u.name, groupName: u.groupName, supervisingDept: u.supervisingDept, createdAt: u.createdAt }))).toEqual([
      { ...CDC, createdAt: 1_000 },
      { ...HOSP, createdAt: 1_000 },
    ]);

    const cdc = await unitId('HA-CDC');
    const hosp = await unitId('HA-HOSP');
    const wang = await personByMobile('13800000001');
    const qian = await personByMobile('13800000020');
    const huang = await personByMobile('13800000013');
    expect(wang).toMatchObject({ name: '王晓燕', email: 'wangxy@example.com', unitId: cdc });
    expect(qian).toMatchObject({ name: '钱卫', email: 'qianw@example.com', unitId: null });
    expect(huang).toMatchObject({ unitId: null });

    const rs = await db.select().from(roles);
    const grants = (personId: number) =>
      rs
        .filter((r) => r.personId === personId)
        .map((r) => [r.role, r.unitId, r.campaignId])
        .sort();
    expect(grants(wang.id)).toEqual([['filler', cdc, null]]);
    expect(grants((await personByMobile('13800000007')).id)).toEqual([
      ['filler', hosp, null],
      ['unit_head', hosp, null],
    ]);
    expect(grants(qian.id)).toEqual([
      ['dept_reviewer', cdc, null],
      ['dept_reviewer', hosp, null],
    ]);
    expect(grants(huang.id)).toEqual([
      ['evaluator', null, null],
      ['leader', null, null],
    ]);

    const ids = await db.select().from(identities);
    const ps = await db.select().from(people);
    expect(ids).toHaveLength(5);
    for (const p of ps) expect(ids).toContainEqual({ id: expect.any(Number), personId: p.id, platform: 'local', externalId: `p${p.id}` });

    const second = await importUnitsAndPeople(db, RECORDS, 2_000, null, 'units.csv');
    expect(second).toEqual({ unitsCreated: 0, unitsUpdated: 0, peopleCreated: 0, peopleUpdated: 0, rolesAdded: 0 });
    expect(await db.select().from(units)).toHaveLength(2);
    expect(await db.select().from(people)).toHaveLength(5);
    expect(await db.select().from(roles)).toHaveLength(8);
    expect(await db.select().from(identities)).toHaveLength(5);

    const audit = await db.select().from(auditLog).orderBy(asc(auditLog.id));
    expect(audit.map((a) => ({ at: a.at, actorId: a.actorId, action: a.action, subjectType: a.subjectType, subjectId: a.subjectId, after: a.after }))).toEqual([
      { at: 1_000, actorId: null, action: 'import.units', subjectType: 'import', subjectId: 'units.csv', after: first },
      { at: 2_000, actorId: null, action: 'import.units', subjectType: 'import', subjectId: 'units.csv', after: second },
    ]);
  });

  it('updates changed units and people, keeps a stored email when the file leaves it empty, and only adds roles', async () => {
    await importUnitsAndPeople(db, RECORDS, 1_000, null, 'v1.csv');
    const wangBefore = await personByMobile('13800000001');
    const changed: ImportRecord[] = [
      { row: 2, unit: { ...CDC, name: '县疾控中心' }, name: '王晓燕', mobile: '13800000001', email: null, roles: ['filler'] },
      { row: 3, unit: HOSP, name: '李建国（新）', mobile: '13800000002', email: 'lijg@example.com', roles: ['filler'] },
    ];
    const counts = await importUnitsAndPeople(db, changed, 2_000, wangBefore.id, 'v2.csv');
    expect(counts).toEqual({ unitsCreated: 0, unitsUpdated: 1, peopleCreated: 0, peopleUpdated: 1, rolesAdded: 1 });

    const [cdc] = await db.select().from(units).where(eq(units.code, 'HA-CDC'));
    expect(cdc).toMatchObject({ name: '县疾控中心', createdAt: 1_000 });
    expect(await personByMobile('13800000001')).toMatchObject({ name: '王晓燕', email: 'wangxy@example.com', unitId: cdc!.id });
    const li = await personByMobile('13800000002');
    expect(li).toMatchObject({ name: '李建国（新）', email: 'lijg@example.com', unitId: await unitId('HA-HOSP') });
    const liRoles = await db.select({ role: roles.role, unitId: roles.unitId }).from(roles).where(eq(roles.personId, li.id));
    expect(liRoles).toHaveLength(2); // the old 单位负责人 role stays; 填报员 for the hospital is added
    expect(liRoles).toContainEqual({ role: 'unit_head', unitId: cdc!.id });
    expect(liRoles).toContainEqual({ role: 'filler', unitId: await unitId('HA-HOSP') });

    const [last] = await db.select().from(auditLog).where(eq(auditLog.subjectId, 'v2.csv'));
    expect(last).toMatchObject({ actorId: wangBefore.id, after: counts });
  });

  it('keeps an existing local identity instead of adding a second one', async () => {
    const [p] = await db.insert(people).values({ name: '王晓燕', mobile: '13800000001', createdAt: 1 }).returning({ id: people.id });
    await db.insert(identities).values({ personId: p!.id, platform: 'local', externalId: 'demo-filler' });
    const counts = await importUnitsAndPeople(db, RECORDS.slice(0, 1), 1_000, null, 'units.csv');
    expect(counts).toMatchObject({ peopleCreated: 0, peopleUpdated: 1 });
    expect(await db.select({ externalId: identities.externalId }).from(identities).where(eq(identities.personId, p!.id))).toEqual([
      { externalId: 'demo-filler' },
    ]);
  });

  it('writes nothing when any step fails', async () => {
    // Person 1 already holds the local id "p2", which the first imported person would get.
    const [p] = await db.insert(people).values({ name: '占位', mobile: '13900000000', createdAt: 1 }).returning({ id: people.id });
    await db.insert(identities).values({ personId: p!.id, platform: 'local', externalId: `p${p!.id + 1}` });
    await expect(importUnitsAndPeople(db, RECORDS, 1_000, null, 'units.csv')).rejects.toThrow(/已被其他人员占用/);
    expect(await db.select().from(units)).toHaveLength(0);
    expect(await db.select().from(people)).toHaveLength(1);
    expect(await db.select().from(roles)).toHaveLength(0);
    expect(await db.select().from(auditLog)).toHaveLength(0);
  });
});

describe('npm run cli -- import units (end to end)', () => {
  function runCli(...args: string[]) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/cli.ts', ...args], {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: 'file:' + dbPath, SEED_DEMO: 'false' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, output: r.stdout + r.stderr };
  }

  it('exits 1 with every row error and imports nothing from a bad file', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(
      bad,
      [
        '单位编码,单位名称,组别,主管部门,姓名,手机号,邮箱,角色',
        'HA-CDC,县疾病预防控制中心,公益一类,县卫生健康委员会,王晓燕,13800000001,,填报员',
        'HA-CDC,县疾病预防控制中心,公益一类,县卫生健康委员会,李建国,123,,单位负责人',
        ',,,,黄淑芬,13800000013,,校长',
      ].join('\n'),
    );
    const r = runCli('import', 'units', bad);
    expect(r.status).toBe(1);
    expect(r.output).toContain('第3行 手机号：手机号「123」格式不正确，应为11位手机号');
    expect(r.output).toContain('第4行 角色：角色「校长」无法识别');
    expect(r.output).toContain('共 2 处错误，未导入任何数据。');
    expect(await db.select().from(units)).toHaveLength(0);
    expect(await db.select().from(people)).toHaveLength(0);
  });

  it('imports the sample file, and a second run creates nothing', async () => {
    const sample = join(repoRoot, 'db/seed/samples/units.csv');
    const first = runCli('import', 'units', sample);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('导入完成：新增单位 6 个，更新 0 个；新增人员 14 人，更新 0 人；新增角色 14 个。');
    const second = runCli('import', 'units', sample);
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('导入完成：新增单位 0 个，更新 0 个；新增人员 0 人，更新 0 人；新增角色 0 个。');
    expect(await db.select().from(units)).toHaveLength(6);
    expect(await db.select().from(identities)).toHaveLength(14);
  });

  it('validates only with --dry-run, and prints usage with exit 2 for an unknown command', async () => {
    const dry = runCli('import', 'units', join(repoRoot, 'db/seed/samples/units.csv'), '--dry-run');
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain('校验通过：共 14 行');
    expect(await db.select().from(units)).toHaveLength(0);

    const unknown = runCli('export', 'everything');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('未知命令：export everything');
    expect(unknown.stderr).toContain('用法：');
  });
});
