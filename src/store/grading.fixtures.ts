/** Test fixtures for the grading store: a small scheme with every feature, a campaign of two units (a third outside it) and the people around them. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { people, units } from '../../db/schema';
import { parseSchemeFile, type SchemeFile } from '../domain/scheme';
import { openDatabase } from '../runtime/open-db';
import { createCampaign } from './campaign.repo';
import { importUnitsAndPeople, type ImportRecord } from './import.repo';
import { installScheme } from './scheme.repo';
import { writeTransaction } from './serialize';

export const T0 = Date.UTC(2026, 11, 1, 2, 0, 0);
export const YEAR = 2026;

/**
 * 30 points: 1 (20) → 1.1 (10, 评估组 only), 1.2 (10, 定性 10/6/0, 评估组 and 社会评价); 2 (10) a
 * tiered individual indicator (A 10 / B 8). 优秀 ≥ 25, 合格 ≥ 15; a veto on a major accident; two
 * years of 优秀 in a row raise a flag.
 */
export function testScheme(): SchemeFile {
  const parsed = parseSchemeFile({
    code: 'grading-test',
    name: '评分测试方案',
    indicators: [
      {
        code: '1', title: '履职情况', maxPoints: 20, children: [
          { code: '1.1', title: '重点任务', maxPoints: 10, scoringGuide: '完成得10分' },
          { code: '1.2', title: '满意度', maxPoints: 10, kind: 'qualitative', levels: [{ label: '满意', points: 10 }, { label: '基本满意', points: 6 }, { label: '不满意', points: 0 }] },
        ],
      },
      { code: '2', title: '个性指标', maxPoints: 10, scope: 'individual', tiers: [{ code: 'A', label: 'Ⅰ档', maxPoints: 10 }, { code: 'B', label: 'Ⅱ档', maxPoints: 8 }] },
    ],
    raterGroups: [
      { id: 'evaluator', name: '评估组', weight: 0.6 },
      { id: 'public', name: '社会评价', weight: 0.4, indicators: ['1.2'], aggregate: 'trimmed-mean' },
    ],
    grading: {
      grades: [{ code: 'excellent', label: '优秀' }, { code: 'pass', label: '合格' }, { code: 'fail', label: '不合格' }],
      method: { type: 'thresholds', thresholds: [{ grade: 'excellent', min: 25 }, { grade: 'pass', min: 15 }], otherwise: 'fail' },
      facts: [
        { id: 'accident', label: '发生重大事故', type: 'boolean' },
        { id: 'complaints', label: '有效投诉', type: 'number', unit: '件' },
      ],
      vetoes: [{ id: 'accident', name: '发生重大事故', when: { fact: 'accident', op: '==', value: true }, capAt: 'fail' }],
      multiYear: [{ id: 'two-excellent', name: '连续两年优秀', grade: 'excellent', consecutiveYears: 2, flag: '通报表彰' }],
    },
  }, 'test scheme');
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  return parsed.scheme;
}

export const MOBILES = {
  evaluator: '13900000001',
  reviewerU1: '13900000002',
  reviewerU2: '13900000003',
  fillerU1: '13900000004',
  rater2: '13900000005',
} as const;

const U1 = { code: 'U1', name: '县疾控中心', groupName: '公益一类', supervisingDept: '县卫健委' };
const U2 = { code: 'U2', name: '县图书馆', groupName: '公益一类', supervisingDept: '县文旅局' };
const U3 = { code: 'U3', name: '县档案馆', groupName: '公益二类', supervisingDept: '县委办' };

const RECORDS: ImportRecord[] = [
  { row: 2, unit: null, name: '黄评估', mobile: MOBILES.evaluator, email: null, roles: ['evaluator'] },
  { row: 3, unit: U1, name: '钱主管', mobile: MOBILES.reviewerU1, email: null, roles: ['dept_reviewer'] },
  { row: 4, unit: U2, name: '孙主管', mobile: MOBILES.reviewerU2, email: null, roles: ['dept_reviewer'] },
  { row: 5, unit: U1, name: '王填报', mobile: MOBILES.fillerU1, email: null, roles: ['filler'] },
  { row: 6, unit: U3, name: '赵测评', mobile: MOBILES.rater2, email: null, roles: ['filler'] },
];

export async function createGradingFixture(scheme: SchemeFile = testScheme()) {
  const dir = mkdtempSync(join(tmpdir(), 'lvzhi-grading-'));
  const url = `file:${join(dir, 'test.db')}`;
  const { db, close } = await openDatabase({ DATABASE_URL: url });
  await importUnitsAndPeople(db, RECORDS, T0, null, 'fixture');
  const unitId = async (code: string) => (await db.select({ id: units.id }).from(units).where(eq(units.code, code)))[0]!.id;
  const personId = async (mobile: string) => (await db.select({ id: people.id }).from(people).where(eq(people.mobile, mobile)))[0]!.id;
  const u1 = await unitId('U1');
  const u2 = await unitId('U2');
  const u3 = await unitId('U3');
  const campaignId = await writeTransaction(db, async (tx) => {
    const { id: schemeId } = await installScheme(tx, scheme, T0);
    return createCampaign(tx, { schemeId, name: `${YEAR}年度评分测试`, year: YEAR, unitIds: [u1, u2] }, T0);
  });
  return {
    db, url, scheme, campaignId, units: { u1, u2, u3 },
    people: {
      evaluator: await personId(MOBILES.evaluator),
      reviewerU1: await personId(MOBILES.reviewerU1),
      reviewerU2: await personId(MOBILES.reviewerU2),
      fillerU1: await personId(MOBILES.fillerU1),
      rater2: await personId(MOBILES.rater2),
    },
    close() {
      close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type GradingFixture = Awaited<ReturnType<typeof createGradingFixture>>;
