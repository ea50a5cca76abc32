import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CsvSyntaxError,
  FileReadError,
  normalizeMobile,
  parseCsv,
  readCsvBuffer,
  readSheetFile,
  readUnitsFile,
  validateRows,
  type ImportError,
  type ValidationResult,
} from './units-file';
import { UNREADABLE_XLSX } from './file-limits';

const HEADER = '单位编码,单位名称,组别,主管部门,姓名,手机号,邮箱,角色';
const dir = mkdtempSync(join(tmpdir(), 'lvzhi-units-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function validateCsv(text: string): ValidationResult {
  return validateRows(readCsvBuffer(Buffer.from(text, 'utf8')));
}
function errorsOf(text: string): ImportError[] {
  const r = validateCsv(text);
  if (r.ok) throw new Error(`expected errors, got ${r.records.length} records`);
  return r.errors;
}
function recordsOf(text: string) {
  const r = validateCsv(text);
  if (!r.ok) throw new Error(`expected success, got ${JSON.stringify(r.errors)}`);
  return r.records;
}
const csv = (...lines: string[]) => lines.join('\n') + '\n';

describe('parseCsv', () => {
  it('splits plain records with LF, CRLF and CR line ends', () => {
    expect(parseCsv('a,b\r\nc,d\ne,f\rg,h')).toEqual([['a', 'b'], ['c', 'd'], ['e', 'f'], ['g', 'h']]);
  });

  it('handles quoted commas, doubled quotes and newlines inside quotes', () => {
    expect(parseCsv('"a,1","say ""hi""","line1\nline2",x\n')).toEqual([['a,1', 'say "hi"', 'line1\nline2', 'x']]);
  });

  it('keeps empty fields, including a trailing one', () => {
    expect(parseCsv(',a,,\n')).toEqual([['', 'a', '', '']]);
  });

  it('drops a leading BOM', () => {
    expect(parseCsv('\uFEFF单位编码,姓名\n')).toEqual([['单位编码', '姓名']]);
  });

  it('reports an unterminated quote with the row it started on', () => {
    expect(() => parseCsv('a,b\nc,"oops\nmore')).toThrow(CsvSyntaxError);
    try {
      parseCsv('a,b\nc,"oops\nmore');
    } catch (e) {
      expect((e as CsvSyntaxError).row).toBe(2);
    }
  });
});

describe('normalizeMobile', () => {
  it('accepts spaces, dashes and a +86 prefix', () => {
    expect(normalizeMobile('138 0000 0001')).toBe('13800000001');
    expect(normalizeMobile('138-0000-0001')).toBe('13800000001');
    expect(normalizeMobile('+86 13800000001')).toBe('13800000001');
  });
  it('rejects other numbers', () => {
    expect(normalizeMobile('123')).toBeNull();
    expect(normalizeMobile('23800000001')).toBeNull();
    expect(normalizeMobile('138000000011')).toBeNull();
    expect(normalizeMobile('1380000000a')).toBeNull();
  });
});

describe('validateRows: good files', () => {
  it('turns rows into typed records', () => {
    const records = recordsOf(
      csv(
        HEADER,
        'HA-CDC,县疾病预防控制中心,公益一类,县卫生健康委员会,王晓燕,13800000001,wangxy@example.com,填报员',
        'HA-CDC,县疾病预防控制中心,公益一类,县卫生健康委员会,李建国,+86 138-0000-0002,,单位负责人、填报员',
        ',,,,黄淑芬,13800000013,,"评估组,领导"',
      ),
    );
    const cdc = { code: 'HA-CDC', name: '县疾病预防控制中心', groupName: '公益一类', supervisingDept: '县卫生健康委员会' };
    expect(records).toEqual([
      { row: 2, unit: cdc, name: '王晓燕', mobile: '13800000001', email: 'wangxy@example.com', roles: ['filler'] },
      { row: 3, unit: cdc, name: '李建国', mobile: '13800000002', email: null, roles: ['unit_head', 'filler'] },
      { row: 4, unit: null, name: '黄淑芬', mobile: '13800000013', email: null, roles: ['evaluator', 'leader'] },
    ]);
  });

  it('accepts columns in any order, ignores extra columns and trims cells', () => {
    const records = recordsOf(
      csv('备注,角色,手机号,姓名,邮箱,主管部门,组别,单位名称,单位编码', '随便写, 填报员 ,13800000001, 王晓燕 ,,县委办公室,公益一类,县档案馆,HA-ARC'),
    );
    expect(records).toEqual([
      {
        row: 2,
        unit: { code: 'HA-ARC', name: '县档案馆', groupName: '公益一类', supervisingDept: '县委办公室' },
        name: '王晓燕',
        mobile: '13800000001',
        email: null,
        roles: ['filler'],
      },
    ]);
  });

  it('accepts separators 、 , ， ； between roles', () => {
    const records = recordsOf(csv(HEADER, 'U1,单位,公益一类,,甲,13800000001,,"填报员；单位负责人，主管部门审核人,填报员"'));
    expect(records[0]!.roles).toEqual(['filler', 'unit_head', 'dept_reviewer']);
  });

  it('reads a UTF-8 file with a BOM', async () => {
    const path = join(dir, 'bom.csv');
    writeFileSync(path, '\uFEFF' + csv(HEADER, 'HA-LIB,县图书馆,公益一类,县文化广电和旅游局,张雅琴,13800000003,,填报员'));
    const r = await readUnitsFile(path);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.records.map((x) => [x.row, x.name, x.unit?.code])).toEqual([[2, '张雅琴', 'HA-LIB']]);
  });

  it('handles quoted fields with commas, quotes and newlines, counting a multi-line record as one row', () => {
    const text = csv(
      HEADER + ',备注',
      'U1,"某某局(一,二)","公益""一""类",,甲,13800000001,,填报员,"第一行',
      '第二行"',
      'U2,乙单位,公益二类,,乙,123,,填报员,',
    );
    const r = validateCsv(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toEqual([{ row: 3, column: '手机号', message: '手机号「123」格式不正确，应为11位手机号' }]);
    const good = recordsOf(text.replace(',123,', ',13800000002,'));
    expect(good[0]!.unit).toEqual({ code: 'U1', name: '某某局(一,二)', groupName: '公益"一"类', supervisingDept: '' });
    expect(good[1]!.row).toBe(3);
  });

  it('skips blank lines but keeps real row numbers', () => {
    const records = recordsOf(csv(HEADER, '', ',,,,,,,', 'U1,单位,公益一类,,甲,13800000001,,填报员'));
    expect(records.map((r) => r.row)).toEqual([4]);
  });

  it('allows a person to repeat on several rows (same name), e.g. a reviewer of two units', () => {
    const records = recordsOf(
      csv(HEADER, 'U1,一,公益一类,卫健委,审核人,13800000009,a@b.cn,主管部门审核人', 'U2,二,公益一类,卫健委,审核人,13800000009,,主管部门审核人'),
    );
    expect(records.map((r) => r.unit?.code)).toEqual(['U1', 'U2']);
  });

  it('accepts the sample file shipped in db/seed/samples', async () => {
    const r = await readUnitsFile(fileURLToPath(new URL('../../db/seed/samples/units.csv', import.meta.url)));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.records).toHaveLength(14);
    expect(new Set(r.records.flatMap((x) => (x.unit ? [x.unit.code] : [])))).toEqual(new Set(['HA-CDC', 'HA-LIB', 'HA-ARC', 'HA-HOSP', 'HA-VOC', 'HA-TV']));
    expect(new Set(r.records.map((x) => x.mobile)).size).toBe(14);
    expect(r.records.filter((x) => x.roles.includes('filler'))).toHaveLength(6);
    expect(r.records.filter((x) => x.roles.includes('unit_head'))).toHaveLength(6);
    expect(r.records.filter((x) => x.roles.includes('evaluator'))).toHaveLength(1);
    expect(r.records.filter((x) => x.roles.includes('leader'))).toHaveLength(1);
  });
});

describe('validateRows: errors', () => {
  it('reports every field error on every row, with spreadsheet row numbers', () => {
    const long = '长'.repeat(51);
    const errors = errorsOf(
      csv(
        HEADER,
        'HA CDC,县疾控,公益一类,,王晓燕,123,not-an-email,填报员', // row 2: code, mobile, email
        `U2,${long},公益一类,,,,,`, // row 3: unit name too long, 姓名 empty, 手机号 empty, 角色 empty
        'U3,单位三,公益一类,,张三,13800000003,,校长', // row 4: unknown role
        `U4,单位四,公益一类,,${long},13800000004,,填报员`, // row 5: name too long
        `${'A'.repeat(33)},单位五,公益一类,,李四,13800000005,,填报员`, // row 6: code too long
      ),
    );
    expect(errors).toEqual([
      { row: 2, column: '单位编码', message: '单位编码「HA CDC」格式不正确，只能包含字母、数字、- 和 _，最长32位' },
      { row: 2, column: '手机号', message: '手机号「123」格式不正确，应为11位手机号' },
      { row: 2, column: '邮箱', message: '邮箱「not-an-email」格式不正确' },
      { row: 3, column: '单位名称', message: `单位名称「${long}」过长，不能超过50个字` },
      { row: 3, column: '姓名', message: '姓名不能为空' },
      { row: 3, column: '手机号', message: '手机号不能为空' },
      { row: 3, column: '角色', message: '角色不能为空，可选：填报员、单位负责人、主管部门审核人、评估组、领导' },
      { row: 4, column: '角色', message: '角色「校长」无法识别，可选：填报员、单位负责人、主管部门审核人、评估组、领导' },
      { row: 5, column: '姓名', message: `姓名「${long}」过长，不能超过50个字` },
      { row: 6, column: '单位编码', message: `单位编码「${'A'.repeat(33)}」格式不正确，只能包含字母、数字、- 和 _，最长32位` },
    ]);
  });

  it('requires a unit for 填报员/单位负责人/主管部门审核人 but not for 评估组/领导', () => {
    const errors = errorsOf(
      csv(HEADER, ',,,,甲,13800000001,,填报员', ',,,,乙,13800000002,,评估组', ',,,,丙,13800000003,,"领导、单位负责人、主管部门审核人"'),
    );
    expect(errors).toEqual([
      { row: 2, column: '单位编码', message: '角色「填报员」必须填写所属单位（单位编码、单位名称、组别）' },
      { row: 4, column: '单位编码', message: '角色「单位负责人、主管部门审核人」必须填写所属单位（单位编码、单位名称、组别）' },
    ]);
  });

  it('rejects a half-filled unit', () => {
    const errors = errorsOf(csv(HEADER, 'U1,,,,甲,13800000001,,评估组', ',单位,公益一类,,乙,13800000002,,填报员'));
    expect(errors).toEqual([
      { row: 2, column: '单位名称', message: '已填写单位信息，但单位名称为空' },
      { row: 2, column: '组别', message: '已填写单位信息，但组别为空' },
      { row: 3, column: '单位编码', message: '已填写单位信息，但单位编码为空' },
    ]);
  });

  it('flags the later row when one 单位编码 has different unit details', () => {
    const errors = errorsOf(
      csv(
        HEADER,
        'HA-CDC,县疾病预防控制中心,公益一类,县卫生健康委员会,甲,13800000001,,填报员',
        'HA-CDC,县疾控中心,公益二类,县卫生健康委员会,乙,13800000002,,单位负责人',
        'HA-CDC,县疾病预防控制中心,公益一类,县委办公室,丙,13800000003,,填报员',
      ),
    );
    expect(errors).toEqual([
      { row: 3, column: '单位名称', message: '单位编码「HA-CDC」在第2行的单位名称为「县疾病预防控制中心」，本行为「县疾控中心」，同一单位的信息必须一致' },
      { row: 3, column: '组别', message: '单位编码「HA-CDC」在第2行的组别为「公益一类」，本行为「公益二类」，同一单位的信息必须一致' },
      { row: 4, column: '主管部门', message: '单位编码「HA-CDC」在第2行的主管部门为「县卫生健康委员会」，本行为「县委办公室」，同一单位的信息必须一致' },
    ]);
  });

  it('flags the later row when one 手机号 has a different 姓名 or 邮箱', () => {
    const errors = errorsOf(
      csv(
        HEADER,
        'U1,一,公益一类,,张三,13800000001,,填报员',
        'U1,一,公益一类,,张三,138-0000-0001,z@a.cn,单位负责人',
        'U2,二,公益一类,,李四,13800000001,other@a.cn,填报员',
      ),
    );
    expect(errors).toEqual([
      { row: 4, column: '手机号', message: '手机号「13800000001」在第2行登记的姓名为「张三」，本行为「李四」，同一手机号只能对应一个人' },
      { row: 4, column: '邮箱', message: '手机号「13800000001」在第3行登记的邮箱为「z@a.cn」，本行为「other@a.cn」，同一人的邮箱必须一致' },
    ]);
  });

  it('names each missing header column as a file-level error', () => {
    const errors = errorsOf(csv('单位编码,单位名称,组别,姓名,邮箱,角色', 'U1,一,公益一类,甲,,填报员'));
    expect(errors.map((e) => [e.row, e.column])).toEqual([
      [null, '主管部门'],
      [null, '手机号'],
    ]);
    expect(errors[1]!.message).toContain('缺少必需的列「手机号」');
  });

  it('rejects a header column given twice', () => {
    expect(errorsOf(csv(HEADER + ',姓名', 'U1,一,公益一类,,甲,13800000001,,填报员,乙'))).toEqual([
      { row: null, column: '姓名', message: '列「姓名」在表头中出现了多次' },
    ]);
  });

  it('rejects an empty file and a file with only a header', () => {
    expect(errorsOf('')).toEqual([{ row: null, message: '文件为空：没有表头，也没有数据行' }]);
    expect(errorsOf('\uFEFF\n\n')).toEqual([{ row: null, message: '文件为空：没有表头，也没有数据行' }]);
    expect(errorsOf(csv(HEADER, ',,,,,,,'))).toEqual([{ row: null, message: '文件中没有数据行（表头以下为空）' }]);
  });

  it('turns unreadable files into file-level errors', async () => {
    const gbk = join(dir, 'gbk.csv');
    writeFileSync(gbk, Buffer.from([0xb5, 0xa5, 0xce, 0xbb, 0x0a])); // "单位" in GBK
    const r1 = await readUnitsFile(gbk);
    expect(r1).toEqual({ ok: false, errors: [{ row: null, message: expect.stringContaining('不是 UTF-8 编码') }] });

    const unterminated = join(dir, 'quote.csv');
    writeFileSync(unterminated, csv(HEADER, 'U1,"一,公益一类,,甲,13800000001,,填报员'));
    expect(await readUnitsFile(unterminated)).toEqual({ ok: false, errors: [{ row: 2, message: expect.stringContaining('引号没有闭合') }] });

    const txt = join(dir, 'units.txt');
    writeFileSync(txt, HEADER);
    await expect(readSheetFile(txt)).rejects.toThrow(FileReadError);
    expect(await readUnitsFile(txt)).toEqual({ ok: false, errors: [{ row: null, message: '不支持的文件类型「.txt」，请使用 .xlsx 或 .csv 文件' }] });

    const fake = join(dir, 'fake.xlsx');
    writeFileSync(fake, 'not a zip');
    expect(await readUnitsFile(fake)).toEqual({ ok: false, errors: [{ row: null, message: UNREADABLE_XLSX }] });
  });
});

describe('xlsx', () => {
  it('reads the first worksheet of a workbook written by exceljs', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('单位与人员');
    ws.addRow(['姓名', '手机号', '角色', '单位编码', '单位名称', '组别', '主管部门', '邮箱', '备注']);
    ws.addRow(['王晓燕', 13800000001, '填报员', 'HA-CDC', '县疾病预防控制中心', '公益一类', '县卫生健康委员会', { text: 'wangxy@example.com', hyperlink: 'mailto:wangxy@example.com' }, '']);
    ws.addRow([]);
    ws.addRow(['黄淑芬', '138 0000 0013', '评估组、领导', null, null, null, null, null, '说明']);
    wb.addWorksheet('其他').addRow(['不读这一页']);
    const path = join(dir, 'units.xlsx');
    await wb.xlsx.writeFile(path);

    const r = await readUnitsFile(path);
    expect(r).toEqual({
      ok: true,
      records: [
        {
          row: 2,
          unit: { code: 'HA-CDC', name: '县疾病预防控制中心', groupName: '公益一类', supervisingDept: '县卫生健康委员会' },
          name: '王晓燕',
          mobile: '13800000001',
          email: 'wangxy@example.com',
          roles: ['filler'],
        },
        { row: 4, unit: null, name: '黄淑芬', mobile: '13800000013', email: null, roles: ['evaluator', 'leader'] },
      ],
    });
  });

  it('reports row errors from an xlsx file with its row numbers', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('Sheet1');
    ws.addRow(HEADER.split(','));
    ws.addRow(['U1', '一', '公益一类', '', '甲', 13800000001, '', '填报员']);
    ws.addRow(['U1', '一', '公益一类', '', '乙', 1380000, '', '填报员']);
    const path = join(dir, 'bad.xlsx');
    await wb.xlsx.writeFile(path);
    expect(await readUnitsFile(path)).toEqual({
      ok: false,
      errors: [{ row: 3, column: '手机号', message: '手机号「1380000」格式不正确，应为11位手机号' }],
    });
  });
});
