import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, describe, expect, it } from 'vitest';
import { readScoresFile, validateScoreRows } from './scores-file';

const dir = mkdtempSync(join(tmpdir(), 'lvzhi-scores-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sheet = (...rows: string[][]) => rows.map((cells, i) => ({ row: i + 1, cells }));

describe('validateScoreRows', () => {
  it('reads named raters by mobile and anonymous ones by label, in any column order', () => {
    const r = validateScoreRows(sheet(
      ['分值', '评分人', '指标编码', '评估主体', '单位编码', '备注'],
      ['8.5', '+86 138-0000-0013', '1.1', '评估组', 'HA-CDC', '现场'],
      ['10', '问卷7', '1.3', '服务对象满意度调查', 'HA-CDC', ''],
    ));
    expect(r).toEqual({
      errors: [],
      rows: [
        { row: 2, unitCode: 'HA-CDC', group: '评估组', indicatorCode: '1.1', rater: { mobile: '13800000013' }, score: 8.5 },
        { row: 3, unitCode: 'HA-CDC', group: '服务对象满意度调查', indicatorCode: '1.3', rater: { label: '问卷7' }, score: 10 },
      ],
    });
  });

  it('reports each bad cell with its row and column, keeping the good rows', () => {
    const r = validateScoreRows(sheet(
      ['单位编码', '评估主体', '指标编码', '评分人', '分值'],
      ['', '评估组', '1.1', '问卷1', '-1'],
      ['HA-CDC', '评估组', '1.1', '1380000', '8'],
      ['HA-CDC', '评估组', '1.1', '', '八'],
      ['HA-CDC', '评估组', '1.2', '问卷2', '6'],
    ));
    expect(r.errors).toEqual([
      { row: 2, column: '单位编码', message: '单位编码不能为空' },
      { row: 2, column: '分值', message: '分值「-1」不是有效的数字（应为不小于0的数，如 8 或 8.5）' },
      { row: 3, column: '评分人', message: '评分人「1380000」不是有效的11位手机号' },
      { row: 4, column: '分值', message: '分值「八」不是有效的数字（应为不小于0的数，如 8 或 8.5）' },
      { row: 4, column: '评分人', message: '评分人不能为空（实名评分填写评分人手机号；匿名问卷填写答卷编号，如“问卷12”）' },
    ]);
    expect(r.rows.map((x) => x.row)).toEqual([5]);
  });

  it('names missing columns and refuses a file without data', () => {
    expect(validateScoreRows(sheet(['单位编码', '评估主体', '指标编码', '分值'])).errors).toEqual([
      { row: 0, column: '评分人', message: '缺少必需的列「评分人」（第1行应为表头：单位编码、评估主体、指标编码、评分人、分值）' },
    ]);
    expect(validateScoreRows(sheet(['单位编码', '评估主体', '指标编码', '评分人', '分值'])).errors).toEqual([{ row: 0, message: '文件中没有数据行（表头以下为空）' }]);
  });
});

describe('readScoresFile', () => {
  it('reads .xlsx with numbers typed as numbers (a mobile, a decimal score)', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('评分');
    ws.addRow(['单位编码', '评估主体', '指标编码', '评分人', '分值']);
    ws.addRow(['HA-CDC', 'evaluator', '2.1', 13800000013, 7.5]);
    const file = join(dir, 'scores.xlsx');
    await wb.xlsx.writeFile(file);
    expect(await readScoresFile(file)).toEqual({ errors: [], rows: [{ row: 2, unitCode: 'HA-CDC', group: 'evaluator', indicatorCode: '2.1', rater: { mobile: '13800000013' }, score: 7.5 }] });
  });

  it('turns an unreadable file into one error', async () => {
    expect(await readScoresFile(join(dir, 'scores.xls'))).toEqual({ rows: [], errors: [{ row: 0, message: '不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV UTF-8 后再导入' }] });
  });
});
