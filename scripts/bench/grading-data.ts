/** Bench fixtures for `npm run bench -- grading`: a scheme with quota grading, a veto, a downgrade and multi-year rules, and a campaign of n units with all their data. */
import type { Client } from '@libsql/client';
import { parseSchemeFile, type SchemeFile } from '../../src/domain/scheme';
import { openDatabase } from '../../src/runtime/open-db';
import { installScheme } from '../../src/store/scheme.repo';
import { createCampaign } from '../../src/store/campaign.repo';
import { refreshScoreSheets } from '../../src/store/grading.repo';
import { writeTransaction } from '../../src/store/serialize';
import { seededRandom } from '../../src/test/random';

const YEAR = 2026;
const GROUPS = ['公益一类', '公益二类', '执法类', '教育类'];
const LEVELS = [{ label: '满意', share: 1 }, { label: '基本满意', share: 0.8 }, { label: '不太满意', share: 0.4 }, { label: '不满意', share: 0 }];

/** 6 大项 × 5 小项 = 30 leaves, 100 points; 5.5 is an individual indicator with Ⅰ/Ⅱ/Ⅲ档. */
export function benchScheme(): SchemeFile {
  const aspects = [20, 20, 15, 15, 15, 15];
  const raw = {
    code: 'bench-performance',
    name: '压测绩效考核方案',
    indicators: aspects.map((points, a) => ({
      code: String(a + 1),
      title: `方面${a + 1}`,
      maxPoints: points,
      children: Array.from({ length: 5 }, (_, i) => ({
        code: `${a + 1}.${i + 1}`,
        title: `指标${a + 1}.${i + 1}`,
        maxPoints: points / 5,
        scoringGuide: '按评分细则评分',
        ...(a === 4 && i === 4
          ? { scope: 'individual', tiers: [{ code: 'I', label: 'Ⅰ档', maxPoints: 3 }, { code: 'II', label: 'Ⅱ档', maxPoints: 2.7 }, { code: 'III', label: 'Ⅲ档', maxPoints: 2.4 }] }
          : {}),
        // 社会评价: respondents pick a level (满意度调查).
        ...(a === 5 ? { kind: 'qualitative', levels: LEVELS.map((l) => ({ label: l.label, points: Math.round(100 * l.share * (points / 5)) / 100 })) } : {}),
      })),
    })),
    raterGroups: [
      { id: 'self', name: '单位自评', weight: 0.1 },
      { id: 'evaluator', name: '评估组', weight: 0.3, aggregate: 'trimmed-mean' },
      { id: 'dept', name: '主管部门', weight: 0.2, indicators: ['1', '2', '3'] },
      { id: 'functional', name: '职能部门', weight: 0.1, indicators: ['4', '5'] },
      { id: 'supervisors', name: '特约监督员', weight: 0.1, indicators: ['6'], whenMissing: 'redistribute' },
      { id: 'public', name: '社会评价', weight: 0.2, indicators: ['6'], aggregate: 'trimmed-mean', whenMissing: 'redistribute' },
    ],
    grading: {
      grades: [{ code: 'A', label: '好' }, { code: 'B', label: '较好' }, { code: 'C', label: '一般' }],
      method: { type: 'quota', within: 'group', quotas: [{ grade: 'A', maxShare: 0.3, minScore: 85 }, { grade: 'B' }, { grade: 'C', minShare: 0.05 }] },
      facts: [
        { id: 'major-accident', label: '发生重大责任事故', type: 'boolean' },
        { id: 'complaints', label: '有效投诉件数', type: 'number', unit: '件' },
      ],
      vetoes: [{ id: 'accident', name: '发生重大责任事故', when: { fact: 'major-accident', op: '==', value: true }, capAt: 'C' }],
      downgrades: [{ id: 'complaints', name: '有效投诉超过10件', when: { fact: 'complaints', op: '>', value: 10 }, levels: 1 }],
      multiYear: [
        { id: 'three-a', name: '连续三年A级', grade: 'A', consecutiveYears: 3, flag: '主要负责人同等条件下优先提拔任用' },
        { id: 'two-c', name: '连续两年C级', grade: 'C', consecutiveYears: 2, flag: '对主要负责人进行诫勉谈话' },
      ],
    },
  };
  const parsed = parseSchemeFile(raw, 'bench scheme');
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  return parsed.scheme;
}

/** Multi-row INSERTs of literal values (generated numbers and plain strings only) in one write transaction. */
async function insertRows(client: Client, table: string, columns: string[], rows: Iterable<Array<string | number | null>>) {
  const tx = await client.transaction('write');
  try {
    const head = `INSERT INTO ${table} (${columns.join(',')}) VALUES `;
    let batch: string[] = [];
    const lit = (v: string | number | null) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${v.replace(/'/g, "''")}'`);
    for (const r of rows) {
      batch.push(`(${r.map(lit).join(',')})`);
      if (batch.length === 5000) {
        await tx.execute(head + batch.join(','));
        batch = [];
      }
    }
    if (batch.length > 0) await tx.execute(head + batch.join(','));
    await tx.commit();
  } finally {
    tx.close();
  }
}

/** Builds a campaign of `n` units with all their scores, facts, history and plans. */
export async function createGradingBenchDatabase(url: string, n: number, seed = 1): Promise<{ campaignId: number }> {
  const { db, client, close } = await openDatabase({ DATABASE_URL: url });
  try {
    const now = Date.UTC(YEAR, 11, 1);
    const scheme = benchScheme();
    const rnd = seededRandom(seed);
    await insertRows(client, 'people', ['name', 'mobile', 'created_at'], [['主管部门审核人', '13900000001', now], ['评估员', '13900000002', now]]);
    await insertRows(client, 'units', ['code', 'name', 'group_name', 'supervising_dept', 'created_at'], (function* () {
      for (let i = 1; i <= n; i++) yield [`B${i}`, `压测单位${i}`, GROUPS[i % GROUPS.length]!, '主管部门', now];
    })());
    const campaignId = await writeTransaction(db, async (tx) => {
      const { id: schemeId } = await installScheme(tx, scheme, now);
      return createCampaign(tx, { schemeId, name: '压测考核', year: YEAR, unitIds: [] }, now);
    });
    const unitIds = (await client.execute('SELECT id FROM units ORDER BY id')).rows.map((r) => Number(r[0]));
    await insertRows(client, 'campaign_units', ['campaign_id', 'unit_id'], unitIds.map((u) => [campaignId, u]));

    // Each unit has a quality q; raters score around q × maxPoints.
    const quality = new Map(unitIds.map((u) => [u, 0.55 + 0.4 * rnd()]));
    const groupLeaves = (ids: string[] | undefined) => {
      const leaves = scheme.indicators.flatMap((a) => (a.children ?? []).map((c) => ({ code: c.code, max: c.maxPoints, aspect: a.code })));
      return ids ? leaves.filter((l) => ids.includes(l.aspect)) : leaves;
    };
    const raters: Record<string, number> = { self: 1, evaluator: 3, dept: 1, functional: 1, supervisors: 3, public: 50 };
    await insertRows(client, 'scores', ['campaign_id', 'unit_id', 'rater_group', 'indicator_code', 'rater_key', 'score', 'entered_by', 'at'], (function* () {
      for (const u of unitIds) {
        const q = quality.get(u)!;
        for (const g of scheme.raterGroups) {
          const leaves = groupLeaves(g.indicators);
          for (let k = 0; k < raters[g.id]!; k++) {
            const key = g.id === 'public' ? `r${u.toString(36)}x${k.toString(36)}${Math.floor(rnd() * 1e9).toString(36)}` : `p${k + 1}`;
            for (const l of leaves) {
              // Named raters score in half points; respondents pick a level, better units get more 满意.
              const x = rnd();
              const s = g.id === 'public'
                ? Math.round(100 * l.max * LEVELS[x < q ? 0 : x < q + (1 - q) * 0.6 ? 1 : x < q + (1 - q) * 0.9 ? 2 : 3]!.share) / 100
                : Math.round(2 * Math.min(l.max, Math.max(0, l.max * (q + (x - 0.5) * 0.2)))) / 2;
              yield [campaignId, u, g.id, l.code, key, s, null, now];
            }
          }
        }
      }
    })());
    await insertRows(client, 'unit_facts', ['campaign_id', 'unit_id', 'fact', 'value', 'at'], (function* () {
      for (const u of unitIds) {
        yield [campaignId, u, 'major-accident', rnd() < 0.01 ? 'true' : 'false', now];
        yield [campaignId, u, 'complaints', String(Math.floor(rnd() * 13)), now];
      }
    })());
    await insertRows(client, 'grade_history', ['unit_id', 'scheme_code', 'year', 'grade', 'source', 'recorded_at'], (function* () {
      for (const u of unitIds) for (const y of [YEAR - 2, YEAR - 1]) yield [u, scheme.code, y, rnd() < 0.3 ? 'A' : rnd() < 0.9 ? 'B' : 'C', 'import', now];
    })());
    const items = JSON.stringify([{ code: '5.5.1', title: '个性指标', maxPoints: 3, scoringGuide: '按方案评分', evidence: '' }]);
    await insertRows(client, 'individual_indicator_plans', ['campaign_id', 'unit_id', 'slot_code', 'version', 'status', 'items', 'tier', 'drafted_by', 'decided_by', 'comment', 'created_at', 'decided_at'], unitIds.map((u) => [campaignId, u, '5.5', 1, 'approved', items, ['I', 'II', 'III'][u % 3]!, 1, 2, '', now, now]));
    await writeTransaction(db, (tx) => refreshScoreSheets(tx, campaignId, 'all', now));
    await client.execute('ANALYZE');
    return { campaignId };
  } finally {
    close();
  }
}
