/**
 * Import files are refused before parsing when they are over a limit or corrupt. Limits are
 * lowered per test so that a "bomb" is a few MB and the suite stays fast and light.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, describe, expect, it } from 'vitest';
import { checkXlsx, DEFAULT_LIMITS, FileReadError, UNREADABLE_XLSX, type ImportLimits } from './file-limits';
import { readScoresFile, SCORE_LIMITS } from './scores-file';
import { readCsvBuffer, readUnitsFile } from './units-file';

const dir = mkdtempSync(join(tmpdir(), 'lvzhi-file-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MB = 1024 * 1024;
const LOW: ImportLimits = { maxFileBytes: MB, maxUnzippedBytes: MB, maxEntries: 100, maxRatio: 200, maxRows: 50, maxCells: 500 };
const HEADER = ['单位编码', '单位名称', '组别', '主管部门', '姓名', '手机号', '邮箱', '角色'];
const person = (i: number) => ['U1', '一', '公益一类', '', `人${i}`, `138${String(i).padStart(8, '0')}`, '', '填报员'];

async function xlsx(rows: unknown[][]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Sheet1');
  for (const r of rows) ws.addRow(r);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

function save(name: string, data: Buffer | string): string {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
}

/** What checkXlsx throws, as its message ('' when it accepts the file). */
function refusal(buf: Buffer, limits: ImportLimits): string {
  try {
    checkXlsx(buf, limits);
    return '';
  } catch (e) {
    if (!(e instanceof FileReadError)) throw e;
    return e.message;
  }
}

/** Central directory records (offset, name) of a zip. */
function centralRecords(buf: Buffer): Array<{ at: number; name: string }> {
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const out: Array<{ at: number; name: string }> = [];
  let p = buf.readUInt32LE(eocd + 16);
  for (let i = buf.readUInt16LE(eocd + 10); i > 0; i--) {
    const n = buf.readUInt16LE(p + 28);
    out.push({ at: p, name: buf.toString('utf8', p + 46, p + 46 + n) });
    p += 46 + n + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
  }
  return out;
}

/** A copy whose central directory declares `size` bytes for the named entry: a lying bomb. */
function withDeclaredSize(buf: Buffer, name: string, size: number): Buffer {
  const copy = Buffer.from(buf);
  const rec = centralRecords(copy).find((r) => r.name === name);
  if (!rec) throw new Error(`no entry ${name}`);
  copy.writeUInt32LE(size, rec.at + 24);
  return copy;
}

/** 2 MB of one letter in one cell: deflates to a few KB, a small zip bomb. */
const bombRows = () => [HEADER, ['U1', 'A'.repeat(2 * MB), '公益一类', '', '甲', '13800000001', '', '填报员']];

describe('xlsx limits, checked before exceljs parses anything', () => {
  it('accepts an ordinary workbook under the limits, exactly at the row and cell limits too', async () => {
    const rows = [HEADER, ...Array.from({ length: 49 }, (_, i) => person(i + 1))].map((r) => r.slice(0, 8));
    const atLimit = await xlsx(rows); // 50 rows, 400 cells
    expect(refusal(atLimit, LOW)).toBe('');
    expect(refusal(atLimit, { ...LOW, maxCells: 400 })).toBe('');
    const r = await readUnitsFile(save('ok.xlsx', atLimit), LOW);
    expect(r.ok && r.records.length).toBe(49);
  });

  it('refuses a compression bomb by the sizes its directory declares', async () => {
    const buf = await xlsx(bombRows());
    expect(buf.length).toBeLessThan(50 * 1024);
    const message = refusal(buf, LOW);
    expect(message).toMatch(/^文件解压后过大（可能是压缩炸弹）：解压后有 2 MB，上限为 1 MB。/);
    expect(await readUnitsFile(save('bomb.xlsx', buf), LOW)).toEqual({ ok: false, errors: [{ row: null, message }] });
  });

  it('refuses a bomb whose directory lies about its size, by capping the real inflation', async () => {
    const buf = withDeclaredSize(await xlsx(bombRows()), 'xl/sharedStrings.xml', 100);
    const message = refusal(buf, LOW);
    expect(message).toMatch(/^文件解压后过大（可能是压缩炸弹）：解压后超过 1 MB，上限为 1 MB。/);
    expect(await readUnitsFile(save('lying-bomb.xlsx', buf), LOW)).toEqual({ ok: false, errors: [{ row: null, message }] });
  });

  it('refuses an entry with an absurd compression ratio even under the size limit', async () => {
    const message = refusal(await xlsx(bombRows()), { ...DEFAULT_LIMITS });
    expect(message).toMatch(/^文件解压后过大（可能是压缩炸弹）：其中「xl\/sharedStrings\.xml」的压缩比异常（\d+ 倍）/);
  });

  it('refuses an archive with too many entries', async () => {
    const buf = await xlsx([HEADER]);
    const entries = centralRecords(buf).length;
    expect(refusal(buf, { ...LOW, maxEntries: entries - 1 })).toBe(`无法读取该 Excel 文件：压缩包中的条目过多（${entries} 个，上限 ${entries - 1} 个），不像是正常的 .xlsx 文件`);
  });

  it('refuses more rows than the limit, counted in the sheet XML (header and blank rows included)', async () => {
    const buf = await xlsx([HEADER, ...Array.from({ length: 50 }, (_, i) => person(i + 1))]);
    const message = '行数超过上限：每个文件最多 50 行（含表头和空行），本文件超过此数。请拆分成多个文件分批导入';
    expect(refusal(buf, LOW)).toBe(message);
    expect(await readUnitsFile(save('rows.xlsx', buf), LOW)).toEqual({ ok: false, errors: [{ row: null, message }] });
    expect(await readScoresFile(save('rows-scores.xlsx', buf), LOW)).toEqual({ rows: [], errors: [{ row: 0, message }] });
  });

  it('refuses more cells than the limit', async () => {
    const buf = await xlsx(Array.from({ length: 10 }, () => Array.from({ length: 60 }, (_, j) => j)));
    expect(refusal(buf, LOW)).toMatch(/^单元格数超过上限：每个文件最多 500 个单元格（所有工作表合计）/);
  });

  it('refuses a file larger than the limit before reading it', async () => {
    const path = save('big.xlsx', await xlsx([HEADER, person(1)]));
    expect(await readUnitsFile(path, { ...LOW, maxFileBytes: 1000 })).toEqual({
      ok: false,
      errors: [{ row: null, message: expect.stringMatching(/^文件过大：文件有 \d+ KB，上限为 1 KB。/) }],
    });
  });

  it('says in Chinese that a folder cannot be read', async () => {
    const folder = join(dir, 'folder.xlsx');
    mkdirSync(folder);
    expect(await readUnitsFile(folder, LOW)).toEqual({ ok: false, errors: [{ row: null, message: '无法读取文件：请确认它是一个可读的文件，而不是文件夹（EISDIR）' }] });
  });

  it('says in Chinese that a corrupt or non-xlsx file cannot be read, never an English internal error', async () => {
    const good = await xlsx([HEADER, person(1)]);
    const local = good.readUInt32LE(centralRecords(good).find((r) => r.name === 'xl/worksheets/sheet1.xml')!.at + 42);
    const dataAt = local + 30 + good.readUInt16LE(local + 26) + good.readUInt16LE(local + 28);
    const garbled = Buffer.from(good);
    garbled.fill(0xff, dataAt, dataAt + 40); // sheet1's deflate stream
    const cases: Record<string, Buffer> = {
      'not-a-zip.xlsx': Buffer.from('not a zip'),
      'truncated.xlsx': good.subarray(0, Math.floor(good.length / 2)),
      'no-tail.xlsx': good.subarray(0, good.length - 10),
      'garbled.xlsx': garbled,
      // A directory that is right, but XML that is not a workbook: exceljs itself fails.
      'wrong-xml.xlsx': await zipOf({ 'xl/workbook.xml': '<workbook><sheets><sheet' }),
    };
    expect(refusal(cases['wrong-xml.xlsx']!, LOW)).toBe(''); // only exceljs can tell this one
    for (const [name, buf] of Object.entries(cases)) {
      expect(await readUnitsFile(save(name, buf), LOW), name).toEqual({ ok: false, errors: [{ row: null, message: UNREADABLE_XLSX }] });
    }
  });
});

describe('csv limits', () => {
  const lines = (n: number) => [HEADER.join(','), ...Array.from({ length: n - 1 }, (_, i) => person(i + 1).join(','))].join('\n') + '\n';

  it('refuses more records than the limit while parsing, blank lines counted', () => {
    expect(readCsvBuffer(Buffer.from(lines(50)), LOW)).toHaveLength(50);
    expect(() => readCsvBuffer(Buffer.from(lines(51)), LOW)).toThrow('行数超过上限：每个文件最多 50 行');
    expect(() => readCsvBuffer(Buffer.from(lines(51).trimEnd()), LOW)).toThrow('行数超过上限'); // no final line break
    expect(() => readCsvBuffer(Buffer.from(lines(50) + '\n'.repeat(10)), LOW)).toThrow('行数超过上限');
  });

  it('refuses a file larger than the limit, and gives score files a higher row limit than unit files', async () => {
    const path = save('big.csv', lines(50));
    expect(await readUnitsFile(path, { ...LOW, maxFileBytes: 1000 })).toEqual({ ok: false, errors: [{ row: null, message: expect.stringMatching(/^文件过大：/) }] });
    expect(SCORE_LIMITS.maxRows).toBeGreaterThan(DEFAULT_LIMITS.maxRows);
    const many = save('many.csv', `单位编码,评估主体,指标编码,评分人,分值\n${'U1,评估组,1.1,问卷1,8\n'.repeat(DEFAULT_LIMITS.maxRows)}`);
    expect((await readUnitsFile(many)).ok).toBe(false);
    expect(await readScoresFile(many)).toMatchObject({ errors: [] });
  });
});

/** A zip of stored (uncompressed) entries, for a workbook that is a valid zip but not valid xlsx. */
async function zipOf(files: Record<string, string>): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.addWorksheet('S');
  const base = Buffer.from(await wb.xlsx.writeBuffer());
  const local: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  const parts = { ...Object.fromEntries(centralRecords(base).map((r) => [r.name, ''])), ...files };
  for (const [name, text] of Object.entries(parts)) {
    const data = Buffer.from(text);
    const n = Buffer.from(name);
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0);
    head.writeUInt32LE(data.length, 18);
    head.writeUInt32LE(data.length, 22);
    head.writeUInt16LE(n.length, 26);
    const cen = Buffer.alloc(46);
    cen.writeUInt32LE(0x02014b50, 0);
    cen.writeUInt32LE(data.length, 20);
    cen.writeUInt32LE(data.length, 24);
    cen.writeUInt16LE(n.length, 28);
    cen.writeUInt32LE(offset, 42);
    local.push(head, n, data);
    central.push(cen, n);
    offset += 30 + n.length + data.length;
  }
  const dirBytes = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(parts).length, 8);
  end.writeUInt16LE(Object.keys(parts).length, 10);
  end.writeUInt32LE(dirBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, dirBytes, end]);
}
