/**
 * The shipped scheme templates (db/seed/schemes/*.json): each parses, each keeps the structure
 * the seed describes, and the demo seed installs all of them.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { asc, eq } from 'drizzle-orm';
import { campaigns, indicators as indicatorRows, schemes } from '../schema';
import { leafIndicators, parseSchemeFile, type Condition, type IndicatorNode, type SchemeFile } from '../../src/domain/scheme';
import { openDatabase } from '../../src/runtime/open-db';
import { seedDemoIfEmpty } from './demo';

const dir = fileURLToPath(new URL('./schemes/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
const rawOf = (file: string): unknown => JSON.parse(readFileSync(join(dir, file), 'utf8'));

function load(code: string): SchemeFile {
  const r = parseSchemeFile(rawOf(`${code}.json`), `${code}.json`);
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.scheme;
}

const sum = (nodes: { maxPoints: number }[]) => nodes.reduce((a, n) => a + n.maxPoints, 0);
const find = (nodes: IndicatorNode[], code: string): IndicatorNode => {
  for (const n of nodes) {
    if (n.code === code) return n;
    const inner = n.children ? findOrNull(n.children, code) : null;
    if (inner) return inner;
  }
  throw new Error(`no indicator ${code}`);
};
const findOrNull = (nodes: IndicatorNode[], code: string): IndicatorNode | null => { try { return find(nodes, code); } catch { return null; } };
const leavesUnder = (n: IndicatorNode) => leafIndicators({ indicators: [n] });
const gradeLabel = (s: SchemeFile, code: string) => s.grading?.grades.find((g) => g.code === code)?.label;
/** Every fact a condition reads, including scaled references. */
const factsOf = (c: Condition): string[] =>
  'all' in c ? c.all.flatMap(factsOf) : 'any' in c ? c.any.flatMap(factsOf) : 'not' in c ? factsOf(c.not) : [c.fact, ...(typeof c.value === 'object' ? [c.value.fact] : [])];

const EXPECTED = [
  'binzhou-establishment', 'county-education-supervision', 'dongying-duty-inspection', 'haian-legal-person',
  'laiwu-performance', 'safety-duty-assessment', 'safety-standardization', 'weifang-credit',
];

describe('every shipped template', () => {
  it('ships the eight schemes of the seed', () => {
    expect(files.map((f) => f.replace(/\.json$/, ''))).toEqual(EXPECTED);
  });

  it.each(files)('%s parses, is named after its file and is fully documented', (file) => {
    const r = parseSchemeFile(rawOf(file), file);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const s = r.scheme;
    expect(s.code).toBe(file.replace(/\.json$/, ''));
    expect(s.source, 'source says where it comes from').toMatch(/第\d+(–\d+)?篇/);
    expect(s.source).toContain('假设');
    expect(s.description).not.toBe('');
    expect(s.grading, 'every template grades').toBeDefined();
    for (const leaf of leafIndicators(s)) {
      expect(leaf.scoringGuide, `${leaf.code} scoring guide`).toBeTruthy();
      expect(leaf.evidence, `${leaf.code} evidence`).toBeTruthy();
      if (leaf.kind === 'quantitative') expect(leaf.unit, `${leaf.code} unit`).toBeTruthy();
    }
    // Every rule names a grade of the scheme and reads declared facts (the parser checks it too).
    const facts = new Set(s.grading?.facts.map((f) => f.id));
    for (const rule of [...(s.grading?.vetoes ?? []), ...(s.grading?.downgrades ?? [])]) {
      for (const f of factsOf(rule.when)) expect(facts.has(f), `${rule.id} reads ${f}`).toBe(true);
    }
  });
});

describe('haian-legal-person (第1–2篇)', () => {
  const s = load('haian-legal-person');

  it('keeps its three 大项 of nine 小项 worth 100 points', () => {
    expect(s.indicators.map((i) => [i.code, i.maxPoints])).toEqual([['1', 40], ['2', 30], ['3', 30]]);
    expect(leafIndicators(s).map((l) => `${l.code}:${l.maxPoints}`)).toEqual(['1.1:15', '1.2:15', '1.3:10', '2.1:10', '2.2:10', '2.3:10', '3.1:10', '3.2:10', '3.3:10']);
    expect(find(s.indicators, '1.3').title).toBe('公共服务水平和服务对象满意度');
  });

  it('rates satisfaction by questionnaire alone, with a trimmed mean', () => {
    const raters = s.raterGroups.filter((g) => !g.indicators || g.indicators.includes('1.3') || g.indicators.includes('1'));
    expect(raters.map((g) => g.id)).toEqual(['questionnaire']);
    expect(raters[0]?.aggregate).toBe('trimmed-mean');
    expect(s.raterGroups.find((g) => g.id === 'self')?.weight).toBeLessThan(s.raterGroups.find((g) => g.id === 'evaluator')!.weight);
  });

  it('grades 优秀/合格/不合格 by thresholds', () => {
    expect(s.grading?.grades.map((g) => g.label)).toEqual(['优秀', '合格', '不合格']);
    expect(s.grading?.method.type).toBe('thresholds');
  });
});

describe('binzhou-establishment (第3篇)', () => {
  const s = load('binzhou-establishment');
  const common = s.indicators.filter((i) => i.scope !== 'individual');
  const individual = s.indicators.filter((i) => i.scope === 'individual');

  it('has 7 common 大项 with 30 common 小项, plus individual indicators', () => {
    expect(common).toHaveLength(7);
    expect(common.flatMap(leavesUnder)).toHaveLength(30);
    expect(common.flatMap(leavesUnder).every((l) => l.scope === 'common')).toBe(true);
    expect(individual.flatMap(leavesUnder).length).toBeGreaterThan(0);
    expect(individual.flatMap(leavesUnder).every((l) => l.scope === 'individual')).toBe(true);
    expect(sum(s.indicators)).toBe(100);
  });

  it('lets the 机构编制监督员 rate as a social-evaluation group', () => {
    const supervisors = s.raterGroups.find((g) => g.name.includes('监督员'));
    expect(supervisors?.indicators?.length).toBeGreaterThan(0);
    expect(supervisors?.aggregate).toBe('trimmed-mean');
  });
});

describe('laiwu-performance (第4篇)', () => {
  const s = load('laiwu-performance');
  const [registration, establishment] = s.indicators;

  it('keeps the two ledgers: 6 aspects of 20 items and 3 aspects of 12 items', () => {
    expect(registration?.children?.map((c) => c.title)).toEqual(['法人登记', '年度报告公示', '履行宗旨和开展业务', '信息公开', '材料提报', '群众投诉举报']);
    expect(leavesUnder(registration!)).toHaveLength(20);
    expect(establishment?.children?.map((c) => c.title)).toEqual(['实名制数据库维护', '用编进人计划核准', '进出编业务办理']);
    expect(leavesUnder(establishment!)).toHaveLength(12);
    expect(sum(s.indicators)).toBe(100);
  });

  it('tiers every individual indicator Ⅰ/Ⅱ/Ⅲ with set point differences', () => {
    const individual = leafIndicators(s).filter((l) => l.scope === 'individual');
    expect(individual.length).toBeGreaterThan(0);
    for (const l of individual) {
      expect(l.tiers?.map((t) => t.label), l.code).toEqual(['Ⅰ档', 'Ⅱ档', 'Ⅲ档']);
      const points = l.tiers!.map((t) => t.maxPoints);
      expect(points[0]).toBe(l.maxPoints);
      expect(points[0]! > points[1]! && points[1]! > points[2]!, l.code).toBe(true);
    }
  });

  it('runs the social evaluation twice a year on the five aspects', () => {
    const social = s.raterGroups.filter((g) => g.name.includes('社会评价'));
    expect(social).toHaveLength(2);
    const aspects = leavesUnder(find(s.indicators, social[0]!.indicators![0]!)).map((l) => l.title);
    expect(aspects).toEqual(['履职效能', '廉洁自律', '工作效率', '工作实效', '服务态度']);
  });

  it('grades A/B/C by quota within the group, with the multi-year cadre rules', () => {
    const g = s.grading!;
    expect(g.method).toMatchObject({ type: 'quota', within: 'group', quotas: [{ grade: 'A', maxShare: 0.3 }, { grade: 'B' }, { grade: 'C', minShare: 0.05 }] });
    expect(g.multiYear.map((m) => [m.grade, m.consecutiveYears])).toEqual([['A', 3], ['C', 2]]);
    expect(g.multiYear[0]?.flag).toContain('优先提拔任用');
    expect(g.multiYear[1]?.flag).toContain('降免职或解聘');
  });
});

describe('dongying-duty-inspection (第5篇)', () => {
  const s = load('dongying-duty-inspection');

  it('lists the documents to show for every self-check item and checks 越位/缺位/错位', () => {
    const selfCheck = s.raterGroups.find((g) => g.id === 'self')!.indicators!.flatMap((c) => leavesUnder(find(s.indicators, c)));
    expect(selfCheck.length).toBeGreaterThan(0);
    for (const item of selfCheck) expect(item.evidenceRequired && item.evidence, item.code).toBeTruthy();
    expect(s.grading?.facts.map((f) => f.label).join()).toMatch(/越位.*缺位.*错位/);
    expect(s.grading?.downgrades).toHaveLength(1);
    expect(sum(s.indicators)).toBe(100);
  });
});

describe('weifang-credit (第6篇)', () => {
  const s = load('weifang-credit');

  it('rates 25 indicators into credit levels A and B (and below)', () => {
    expect(leafIndicators(s)).toHaveLength(25);
    expect(sum(s.indicators)).toBe(100);
    expect(s.grading?.grades.slice(0, 2).map((g) => g.code)).toEqual(['A', 'B']);
    const titles = leafIndicators(s).map((l) => l.title).join();
    for (const named of ['信息公开', '法人证书使用', '合同履行', '依法纳税']) expect(titles).toContain(named);
  });

  it('flags A-level units for 诚实守信明星单位', () => {
    expect(s.grading?.multiYear.find((m) => m.grade === 'A')?.flag).toContain('诚实守信明星单位');
  });
});

describe('safety-standardization (第7篇)', () => {
  const s = load('safety-standardization');

  it('has the 14 elements the enterprise scores itself', () => {
    expect(s.indicators).toHaveLength(14);
    expect(s.indicators[0]?.title).toBe('安全生产方针和目标');
    expect(s.indicators[13]?.title).toBe('绩效测量与评价');
    expect(sum(s.indicators)).toBe(100);
    expect(s.raterGroups.map((g) => g.id)).toEqual(['self']);
  });

  it('self-determines 一级/二级/三级 and routes the application by level', () => {
    expect(s.grading?.grades.slice(0, 3).map((g) => g.label)).toEqual(['一级', '二级', '三级']);
    for (const authority of ['国家安全生产监督管理总局', '省安监局', '市级安监局']) expect(s.description).toContain(authority);
  });
});

describe('safety-duty-assessment (第9篇)', () => {
  const s = load('safety-duty-assessment');
  const g = s.grading!;

  it('totals 1000 points graded 900/800/700', () => {
    expect(sum(s.indicators)).toBe(1000);
    expect(g.method).toMatchObject({ type: 'thresholds', thresholds: [{ min: 900 }, { min: 800 }, { min: 700 }] });
    expect(g.grades.map((x) => x.label)).toEqual(['优秀', '良好', '合格', '不合格']);
  });

  it('has four vetoes to 不合格 and a downgrade when fatalities exceed the target', () => {
    expect(g.vetoes.length).toBeGreaterThanOrEqual(4);
    for (const v of g.vetoes) expect(gradeLabel(s, v.capAt), v.id).toBe('不合格');
    const overTarget = g.vetoes.find((v) => JSON.stringify(v.when).includes('"times":1.2'));
    expect(overTarget, 'a veto at 120 % of the target').toBeDefined();
    expect(g.downgrades).toEqual([expect.objectContaining({ levels: 1, when: { fact: 'fatalities', op: '>', value: { fact: 'fatality-target' } } })]);
  });
});

describe('county-education-supervision (第10篇)', () => {
  const s = load('county-education-supervision');
  const g = s.grading!;

  it('is a 100-point standard where 91.5 reaches 先进', () => {
    expect(sum(s.indicators)).toBe(100);
    const method = g.method;
    if (method.type !== 'thresholds') throw new Error('thresholds expected');
    expect(gradeLabel(s, method.thresholds.find((t) => 91.5 >= t.min)!.grade)).toBe('教育工作先进县');
  });

  it('caps a county with D-level dangerous buildings above 3 % at 合格', () => {
    const veto = g.vetoes.find((v) => factsOf(v.when).includes('d-level-building-share'));
    expect(veto?.when).toEqual({ fact: 'd-level-building-share', op: '>', value: 3 });
    expect(gradeLabel(s, veto!.capAt)).toBe('教育工作合格县');
  });
});

describe('a broken copy is rejected with the path of the fault', () => {
  const copy = (code: string) => JSON.parse(readFileSync(join(dir, `${code}.json`), 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const errorsOf = (raw: unknown) => {
    const r = parseSchemeFile(raw, 'broken.json');
    if (r.ok) throw new Error('expected the copy to be rejected');
    return r.errors;
  };

  it('names a veto that reads an unknown fact', () => {
    const raw = copy('safety-duty-assessment');
    raw.grading.vetoes[1].when = { fact: 'deaths', op: '>=', value: 1 };
    expect(errorsOf(raw)).toContainEqual(expect.stringMatching(/^broken\.json: grading\.vetoes\.1\.when\.fact: unknown fact deaths/));
  });

  it('names a scaled reference to an unknown fact', () => {
    const raw = copy('safety-duty-assessment');
    raw.grading.vetoes[0].when.all[1].value.fact = 'target';
    expect(errorsOf(raw)).toContainEqual(expect.stringContaining('grading.vetoes.0.when.all.1.value.fact: unknown fact target'));
  });

  it('names a 大项 whose 小项 do not add up', () => {
    const raw = copy('laiwu-performance');
    raw.indicators[1].children[2].children[0].maxPoints = 3;
    expect(errorsOf(raw)).toContainEqual(expect.stringContaining('indicators.1.children.2.maxPoints: 2.3 has maxPoints 5 but its children add up to 6.5'));
  });

  it('names a veto capping at a grade the scheme does not have', () => {
    const raw = copy('county-education-supervision');
    raw.grading.vetoes[0].capAt = '合格';
    expect(errorsOf(raw)).toContainEqual(expect.stringContaining('grading.vetoes.0.capAt: unknown grade 合格'));
  });
});

describe('the demo seed', () => {
  it('installs every template and keeps the demo campaign on the 法人履职评估 scheme', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'lvzhi-schemes-'));
    const { db, close } = await openDatabase({ DATABASE_URL: `file:${join(tmp, 'test.db')}` });
    try {
      const now = Date.UTC(2026, 0, 5, 1, 0, 0);
      const campaignId = await seedDemoIfEmpty(db, now);
      expect(campaignId).not.toBeNull();
      const rows = await db.select({ id: schemes.id, code: schemes.code }).from(schemes).orderBy(asc(schemes.code));
      expect(rows.map((r) => r.code)).toEqual(EXPECTED);
      const [campaign] = await db.select({ schemeId: campaigns.schemeId }).from(campaigns).where(eq(campaigns.id, campaignId!));
      expect(rows.find((r) => r.id === campaign?.schemeId)?.code).toBe('haian-legal-person');
      const laiwu = rows.find((r) => r.code === 'laiwu-performance')!;
      const laiwuRows = await db.select({ code: indicatorRows.code }).from(indicatorRows).where(eq(indicatorRows.schemeId, laiwu.id));
      expect(laiwuRows.length).toBe(4 + 9 + 3 + 32 + 5);
      expect(await seedDemoIfEmpty(db, now)).toBeNull();
      expect(await db.select({ id: schemes.id }).from(schemes)).toHaveLength(EXPECTED.length);
    } finally {
      close();
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
