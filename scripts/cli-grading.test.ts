/** The grading commands of the CLI, run through main() against temporary libSQL files. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { people, scoreSheets, scores, units } from '../db/schema';
import { seedDemoIfEmpty } from '../db/seed/demo';
import type { GradingResult } from '../src/domain/grading-types';
import { scoringRules } from '../src/domain/score-entry';
import type { SchemeFile } from '../src/domain/scheme';
import { openDatabase } from '../src/runtime/open-db';
import type { Db } from '../src/store/db';
import { createGradingFixture, MOBILES, T0, type GradingFixture } from '../src/store/grading.fixtures';
import { loadCampaignScheme, upsertScores, type ScoreEntry } from '../src/store/grading.repo';
import { main } from './cli';

async function cli(url: string, ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { DATABASE_URL: url }, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

/** What the scheme's thresholds give a score: a small oracle, so the test follows the shipped scheme's numbers. */
function expectedLabel(scheme: SchemeFile, score: number): string {
  const g = scheme.grading;
  if (!g) return '—';
  if (g.method.type !== 'thresholds') throw new Error('the demo scheme is expected to grade by thresholds');
  const code = g.method.thresholds.find((t) => t.min <= score)?.grade ?? g.method.otherwise;
  return g.grades.find((x) => x.code === code)!.label;
}

describe('npm run cli -- grade / scores import / facts set on the demo campaign', () => {
  let dir: string;
  let url: string;
  let db: Db;
  let close: () => void;
  let scheme: SchemeFile;
  const campaignId = 1;
  const SEEDED = Date.UTC(2026, 10, 30);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lvzhi-cli-grading-'));
    url = `file:${join(dir, 'app.db')}`;
    ({ db, close } = await openDatabase({ DATABASE_URL: url }));
    expect(await seedDemoIfEmpty(db, SEEDED)).toBe(campaignId);
    scheme = (await loadCampaignScheme(db, campaignId))!.scheme;
  });
  afterAll(() => {
    close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    // Straight to the tables, so the derived sheets go too.
    await db.delete(scores);
    await db.delete(scoreSheets);
  });

  /** Every group gives every leaf it rates `share` of its points (three raters each), so the composite is share × 100 whatever the weights. */
  async function scoreUnits(shares: Record<string, number>) {
    const rules = scoringRules(scheme);
    const entries: ScoreEntry[] = [];
    for (const [code, share] of Object.entries(shares)) {
      const [u] = await db.select({ id: units.id }).from(units).where(eq(units.code, code));
      for (const { group, leafCodes } of rules.groups.values()) {
        for (const leafCode of leafCodes) {
          const points = rules.leaves.get(leafCode)!.maxPoints * share;
          for (let k = 1; k <= 3; k++) entries.push({ unitId: u!.id, raterGroup: group.id, indicatorCode: leafCode, score: points, rater: { responseId: `${code}x${group.id}x${k}` } });
        }
      }
    }
    const r = await upsertScores(db, campaignId, entries, { now: SEEDED + 3_600_000, actorId: null });
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  }

  it('prints the ranking per group with scores, grades and reasons, and 待补充 for a unit without scores', async () => {
    await scoreUnits({ 'HA-CDC': 1, 'HA-LIB': 0.6, 'HA-ARC': 0, 'HA-HOSP': 0.6, 'HA-VOC': 1 });
    const r = await cli(url, 'grade', String(campaignId));
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const text = r.out.join('\n');
    const line = (name: string) => r.out.find((l) => l.includes(` | ${name} | `)) ?? '';
    expect(text).toContain('【公益一类】共3个单位');
    expect(text).toContain('【公益二类】共3个单位');
    expect(line('县疾病预防控制中心')).toMatch(new RegExp(`^1 \\| 县疾病预防控制中心 \\| 100\\.00 \\| ${expectedLabel(scheme, 100)} \\| 综合得分 100\\.00`));
    expect(line('县图书馆')).toMatch(new RegExp(`^2 \\| 县图书馆 \\| 60\\.00 \\| ${expectedLabel(scheme, 60)} \\| `));
    expect(line('县档案馆')).toMatch(new RegExp(`^3 \\| 县档案馆 \\| 0\\.00 \\| ${expectedLabel(scheme, 0)} \\| `));
    expect(line('县职业教育中心')).toMatch(/^1 \| 县职业教育中心 \| 100\.00 \| /);
    expect(line('县人民医院')).toMatch(/^2 \| 县人民医院 \| 60\.00 \| /);
    expect(line('县融媒体中心')).toMatch(/^— \| 县融媒体中心 \| — \| 待补充 \| .*缺少/);
    expect(line('县图书馆')).toContain('第2名/共3个单位');
    // Groups in the order of the units, each ranked best first.
    expect(r.out.indexOf(line('县疾病预防控制中心'))).toBeLessThan(r.out.indexOf(line('县图书馆')));
    expect(r.out.indexOf(line('县档案馆'))).toBeLessThan(r.out.indexOf(line('县职业教育中心')));
  });

  it('prints the GradingResult as JSON with --json', async () => {
    await scoreUnits({ 'HA-CDC': 1, 'HA-LIB': 0.6 });
    const r = await cli(url, 'grade', String(campaignId), '--json');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out.join('\n')) as GradingResult;
    expect(result.units).toHaveLength(6);
    const byName = new Map(result.units.map((u) => [u.name, u]));
    expect(byName.get('县疾病预防控制中心')).toMatchObject({ status: 'graded', score: 100, rank: 1, rankOf: 2 });
    expect(byName.get('县图书馆')).toMatchObject({ status: 'graded', score: 60, rank: 2 });
    expect(byName.get('县档案馆')).toMatchObject({ status: 'incomplete', score: null, rank: null });
  });

  it('says clearly when the campaign id is bad or unknown (exit 1)', async () => {
    expect(await cli(url, 'grade', 'abc')).toEqual({ code: 1, out: [], err: ['评估编号「abc」无效：应为正整数（评估的编号）'] });
    expect(await cli(url, 'grade', '99')).toEqual({ code: 1, out: [], err: ['评估（编号 99）不存在'] });
    expect((await cli(url, 'grade')).code).toBe(2);
  });

  it('reports every bad row of a score file and imports nothing', async () => {
    const file = join(dir, 'bad-scores.csv');
    writeFileSync(file, [
      '单位编码,评估主体,指标编码,评分人,分值',
      'HA-CDC,评估组,1.1,13800000013,14',
      'HA-XXX,评估组,1.1,13800000013,10',
      'HA-CDC,领导,1.1,13800000013,10',
      'HA-CDC,评估组,1.1,13800000001,16',
      'HA-CDC,评估组,1.2,13800000013,abc',
      'HA-CDC,评估组,1.1,13899999999,10',
      'HA-CDC,评估组,1.1,13800000013,12',
    ].join('\n'));
    const r = await cli(url, 'scores', 'import', String(campaignId), file);
    expect(r.code).toBe(1);
    expect(r.out).toEqual([]);
    expect(r.err.map((l) => l.slice(0, l.indexOf('：') + 1))).toEqual(['第3行 单位编码：', '第4行 评估主体：', '第5行 分值：', '第6行 分值：', '第7行 评分人：', '第8行：', '']);
    expect(r.err[0]).toBe('第3行 单位编码：单位编码「HA-XXX」不存在');
    expect(r.err[5]).toContain('与第2行重复');
    expect(r.err[6]).toBe('共 6 处错误，未导入任何数据。');
    expect(await db.select().from(scores)).toEqual([]);
  });

  it('imports a good file: named raters by their mobile, in any column order', async () => {
    const file = join(dir, 'scores.csv');
    writeFileSync(file, [
      '姓名,单位编码,评估主体,指标编码,评分人,分值',
      '黄淑芬,HA-CDC,evaluator,1.1,13800000013,14',
      ',HA-CDC,评估组,1.2,138 0000 0013,12.5',
    ].join('\n'));
    const r = await cli(url, 'scores', 'import', String(campaignId), file);
    expect(r).toEqual({ code: 0, out: ['导入完成：共 2 行。实名评分新增 2 条、修改 0 条、未变 0 条；匿名问卷 0 份。'], err: [] });
    const [huang] = await db.select({ id: people.id }).from(people).where(eq(people.mobile, '13800000013'));
    const rows = await db.select({ key: scores.raterKey, score: scores.score, by: scores.enteredBy }).from(scores);
    expect(rows).toEqual([{ key: `p${huang!.id}`, score: 14, by: huang!.id }, { key: `p${huang!.id}`, score: 12.5, by: huang!.id }]);
  });

  it('refuses facts the scheme does not define and unknown unit codes', async () => {
    const none = await cli(url, 'facts', 'set', String(campaignId), 'HA-CDC', 'accident=是');
    expect(none.code).toBe(1);
    expect(none.err.join('\n')).toMatch(/accident/);
    expect(await cli(url, 'facts', 'set', String(campaignId), 'NOPE', 'x=1')).toEqual({ code: 1, out: [], err: ['单位编码「NOPE」不存在'] });
  });
});

describe('npm run cli -- indicators / facts set / grade on a scheme with an individual slot', () => {
  let f: GradingFixture;
  beforeAll(async () => {
    f = await createGradingFixture();
  });
  afterAll(() => f.close());

  it('drafts, submits, approves and shows a plan acting as named people, then grades with the tier and facts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvzhi-cli-plan-'));
    try {
      const items = join(dir, 'items.json');
      writeFileSync(items, JSON.stringify([
        { code: '2.1', title: '传染病疫情报告', maxPoints: 6, scoringGuide: '及时报告得6分，每迟报一次扣1分', evidence: '疫情报告系统截图' },
        { code: '2.2', title: '预防接种', maxPoints: 4, scoringGuide: '接种率达标得4分', evidence: '' },
      ]));
      const id = String(f.campaignId);
      expect(await cli(f.url, 'indicators', 'draft', id, 'U1', '2', items, '--tier', 'B', '--as', MOBILES.evaluator)).toEqual({ code: 1, out: [], err: ['无权限：只有该单位的主管部门审核人可以起草或提交个性指标方案'] });
      expect(await cli(f.url, 'indicators', 'draft', id, 'U1', '2', items, '--tier=B', '--as', MOBILES.reviewerU1)).toEqual({ code: 0, out: ['县疾控中心 指标 2 个性指标方案第1版已保存草稿（钱主管）'], err: [] });
      expect((await cli(f.url, 'indicators', 'submit', id, 'U1', '2', '--as', MOBILES.reviewerU1)).code).toBe(0);
      expect((await cli(f.url, 'indicators', 'submit', id, 'U1', '2')).code).toBe(2);
      expect(await cli(f.url, 'indicators', 'approve', id, 'U1', '2', '--comment', '同意', '--as', MOBILES.evaluator)).toEqual({ code: 0, out: ['县疾控中心 指标 2 个性指标方案第1版已审核通过（黄评估）'], err: [] });
      const shown = await cli(f.url, 'indicators', 'show', id, 'U1');
      expect(shown.out).toEqual([
        '县疾控中心 指标 2 第1版：已通过，档次 B，起草人 钱主管，审核人 黄评估，意见：同意',
        '  2.1 传染病疫情报告（6分）评分细则：及时报告得6分，每迟报一次扣1分；佐证材料：疫情报告系统截图',
        '  2.2 预防接种（4分）评分细则：接种率达标得4分',
      ]);
      const answers = join(dir, 'answers.csv');
      writeFileSync(answers, ['单位编码,评估主体,指标编码,评分人,分值', 'U1,社会评价,1.2,问卷1,10', 'U2,社会评价,1.2,问卷1,10', 'U2,社会评价,1.2,问卷2,6'].join('\n'));
      expect(await cli(f.url, 'scores', 'import', id, answers)).toEqual({ code: 0, out: ['导入完成：共 3 行。实名评分新增 0 条、修改 0 条、未变 0 条；匿名问卷 3 份。'], err: [] });
      expect(await cli(f.url, 'facts', 'set', id, 'U1', 'accident=否', 'complaints=2')).toEqual({ code: 0, out: ['已设置 县疾控中心：发生重大事故=否，有效投诉=2'], err: [] });
      expect((await cli(f.url, 'facts', 'set', id, 'U2', 'accident=是', 'complaints=0')).code).toBe(0);
      expect(await cli(f.url, 'facts', 'set', id, 'U1', 'complaints=很多')).toEqual({ code: 1, out: [], err: ['「有效投诉」（complaints）应为数字'] });

      const [u1, u2] = [f.units.u1, f.units.u2];
      const entries: ScoreEntry[] = [
        ...[u1, u2].flatMap((unitId) => [
          { unitId, raterGroup: 'evaluator', indicatorCode: '1.1', score: 10, rater: { personId: f.people.evaluator } },
          { unitId, raterGroup: 'evaluator', indicatorCode: '1.2', score: 10, rater: { personId: f.people.evaluator } },
        ]),
        { unitId: u1, raterGroup: 'evaluator', indicatorCode: '2', score: 10, rater: { personId: f.people.evaluator } },
      ];
      expect((await upsertScores(f.db, f.campaignId, entries, { now: T0 + 3_600_000, actorId: null })).ok).toBe(true);
      const graded = await cli(f.url, 'grade', id);
      expect(graded.code).toBe(0);
      // U1: 10 + 10 (评估组 10, 问卷 10) + 10 scaled to tier B (8) = 28 → 优秀; U2 has no approved plan, so its tier is missing.
      expect(graded.out).toContainEqual(expect.stringMatching(/^1 \| 县疾控中心 \| 28\.00 \| 优秀 \| /));
      expect(graded.out).toContainEqual(expect.stringMatching(/^— \| 县图书馆 \| — \| 待补充 \| .*未确定个性指标档次/));
      expect(graded.out.at(-1)).toBe('等次分布：优秀 1 个，合格 0 个，不合格 0 个，待补充 1 个');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
