/**
 * Reads the 单位与人员 import file (.csv or .xlsx) and validates it into typed records.
 *
 * Layout: a header row (row 1) with the columns in REQUIRED_COLUMNS, in any order (extra columns
 * are ignored), then one row per person-role. Unit columns repeat on every row of a unit and may
 * be empty for 评估组/领导 rows. Errors are collected for every row; nothing is returned as
 * records unless the whole file is valid.
 */
import { extname } from 'node:path';
import ExcelJS, { type Cell } from 'exceljs';
import { z } from 'zod';
import { ROLE_LABELS, type RoleName } from '../../src/domain/roles';
import type { ImportRecord, ImportUnit } from '../../src/store/import.repo';
import { checkXlsx, DEFAULT_LIMITS, FileReadError, readFileCapped, tooManyRows, UNREADABLE_XLSX, type ImportLimits } from './file-limits';

export { DEFAULT_LIMITS, FileReadError, type ImportLimits };

export const REQUIRED_COLUMNS = ['单位编码', '单位名称', '组别', '主管部门', '姓名', '手机号', '邮箱', '角色'] as const;
export type Column = (typeof REQUIRED_COLUMNS)[number];

/** One problem in the file. `row` is the spreadsheet row number (header = 1); null for the file as a whole. */
export interface ImportError {
  row: number | null;
  column?: Column;
  message: string;
}

/** A non-blank spreadsheet row: its row number and its cells as text (left to right). */
export interface SheetRow {
  row: number;
  cells: string[];
}

export type ValidationResult = { ok: true; records: ImportRecord[] } | { ok: false; errors: ImportError[] };

// ---------------------------------------------------------------------------------------------
// Reading

/** The CSV ends inside a quoted field. */
export class CsvSyntaxError extends Error {
  constructor(readonly row: number) {
    super(`第${row}行的引号没有闭合（以 " 开始的字段缺少结尾的 "）`);
    this.name = 'CsvSyntaxError';
  }
}

/**
 * RFC 4180 CSV: comma separated, fields optionally in double quotes (which may hold commas,
 * newlines and "" for a quote), CRLF/LF/CR line ends, a leading BOM is dropped. Returns one
 * array per record; a record spanning several lines counts as one row, as in a spreadsheet.
 * More than maxRows records (blank ones included) throws FileReadError as soon as it is seen.
 */
export function parseCsv(input: string, maxRows = Infinity): string[][] {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let inQuotes = false;
  let atFieldStart = true;
  let quoteOpenedInRow = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          inQuotes = false;
        }
      } else {
        field += c;
      }
      continue;
    }
    if (c === '"' && atFieldStart) {
      inQuotes = true;
      atFieldStart = false;
      quoteOpenedInRow = rows.length + 1;
    } else if (c === ',') {
      row.push(field);
      field = '';
      atFieldStart = true;
    } else if (c === '\r' || c === '\n') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (rows.length >= maxRows) throw tooManyRows(maxRows);
      rows.push(row);
      row = [];
      field = '';
      atFieldStart = true;
    } else {
      field += c;
      atFieldStart = false;
    }
  }
  if (inQuotes) throw new CsvSyntaxError(quoteOpenedInRow);
  if (field !== '' || row.length > 0 || !atFieldStart) {
    row.push(field);
    if (rows.length >= maxRows) throw tooManyRows(maxRows);
    rows.push(row);
  }
  return rows;
}

function toSheetRows(records: string[][]): SheetRow[] {
  return records.map((cells, i) => ({ row: i + 1, cells })).filter((r) => !isBlank(r.cells));
}

function isBlank(cells: readonly string[]): boolean {
  return cells.every((c) => c.trim() === '');
}

/** Decodes UTF-8 (with or without BOM) and parses it as CSV. */
export function readCsvBuffer(buf: Uint8Array, limits: ImportLimits = DEFAULT_LIMITS): SheetRow[] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    throw new FileReadError('文件不是 UTF-8 编码。请在 Excel 中“另存为”→“CSV UTF-8（逗号分隔）”，或直接导入 .xlsx 文件');
  }
  return toSheetRows(parseCsv(text, limits.maxRows));
}

/** The first worksheet of an .xlsx file, each cell as its displayed text; checked against the limits first. */
export async function readXlsxBuffer(buf: Buffer, limits: ImportLimits = DEFAULT_LIMITS): Promise<SheetRow[]> {
  checkXlsx(buf, limits);
  const wb = new ExcelJS.Workbook();
  try {
    // exceljs types its input as ArrayBuffer but reads a Node Buffer (JSZip) at run time.
    await wb.xlsx.load(buf as unknown as ArrayBuffer);
  } catch {
    // exceljs/JSZip messages are English internals; the user needs to know what to do.
    throw new FileReadError(UNREADABLE_XLSX);
  }
  const ws = wb.worksheets[0];
  if (!ws) return [];
  const rows: SheetRow[] = [];
  ws.eachRow({ includeEmpty: false }, (r, rowNumber) => {
    const cells: string[] = [];
    for (let c = 1; c <= r.cellCount; c++) cells.push(cellText(r.getCell(c)));
    if (!isBlank(cells)) rows.push({ row: rowNumber, cells });
  });
  return rows;
}

function cellText(cell: Cell): string {
  const v = cell.value;
  if (v === null || v === undefined) return '';
  // Whole numbers (a 手机号 typed as a number) must not turn into 1.38e10 or 13800000001.0.
  if (typeof v === 'number') return Number.isInteger(v) ? v.toFixed(0) : String(v);
  return cell.text ?? '';
}

/**
 * Reads a .csv or .xlsx file into rows. Throws FileReadError (message in Chinese) when it cannot,
 * or when it is over one of the limits (checked before parsing).
 */
export async function readSheetFile(path: string, limits: ImportLimits = DEFAULT_LIMITS): Promise<SheetRow[]> {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return readCsvBuffer(await readFileCapped(path, limits), limits);
  if (ext === '.xlsx') return readXlsxBuffer(await readFileCapped(path, limits), limits);
  if (ext === '.xls') throw new FileReadError('不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV UTF-8 后再导入');
  throw new FileReadError(`不支持的文件类型「${ext || '无扩展名'}」，请使用 .xlsx 或 .csv 文件`);
}

/** Reads and validates an import file. File-level problems come back as errors with row null. */
export async function readUnitsFile(path: string, limits: ImportLimits = DEFAULT_LIMITS): Promise<ValidationResult> {
  let rows: SheetRow[];
  try {
    rows = await readSheetFile(path, limits);
  } catch (e) {
    if (e instanceof CsvSyntaxError) return { ok: false, errors: [{ row: e.row, message: e.message }] };
    if (e instanceof FileReadError) return { ok: false, errors: [{ row: null, message: e.message }] };
    throw e;
  }
  return validateRows(rows);
}

// ---------------------------------------------------------------------------------------------
// Validation

const ROLE_BY_LABEL = new Map<string, RoleName>(Object.entries(ROLE_LABELS).map(([role, label]) => [label, role as RoleName]));
const ROLE_CHOICES = Object.values(ROLE_LABELS).join('、');
/** Roles that only make sense for a unit: the row must name one. */
const UNIT_ROLES: readonly RoleName[] = ['filler', 'unit_head', 'dept_reviewer'];

const CODE_RE = /^[A-Za-z0-9_-]{1,32}$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MAX_NAME = 50;

/** 11-digit mainland mobile, spaces/dashes stripped, +86/0086 prefix allowed; null if it is not one. */
export function normalizeMobile(raw: string): string | null {
  let m = raw.replace(/[\s\-－—]/g, '');
  if (m.startsWith('+86')) m = m.slice(3);
  else if (m.startsWith('0086')) m = m.slice(4);
  return /^1\d{10}$/.test(m) ? m : null;
}

const length = (s: string) => [...s].length;

function text(label: string, opts: { required: boolean }) {
  return z.string().check((ctx) => {
    if (opts.required && ctx.value === '') ctx.issues.push({ code: 'custom', message: `${label}不能为空`, input: ctx.value });
    else if (length(ctx.value) > MAX_NAME) ctx.issues.push({ code: 'custom', message: `${label}「${ctx.value}」过长，不能超过${MAX_NAME}个字`, input: ctx.value });
  });
}

/** One row's columns, trimmed; unit completeness and cross-row rules are checked afterwards. */
export const RowSchema = z.object({
  单位编码: z.string().refine((v) => v === '' || CODE_RE.test(v), {
    error: (iss) => `单位编码「${String(iss.input)}」格式不正确，只能包含字母、数字、- 和 _，最长32位`,
  }),
  单位名称: text('单位名称', { required: false }),
  组别: text('组别', { required: false }),
  主管部门: text('主管部门', { required: false }),
  姓名: text('姓名', { required: true }),
  手机号: z.string().transform((v, ctx) => {
    if (v === '') {
      ctx.issues.push({ code: 'custom', message: '手机号不能为空', input: v });
      return z.NEVER;
    }
    const m = normalizeMobile(v);
    if (m === null) {
      ctx.issues.push({ code: 'custom', message: `手机号「${v}」格式不正确，应为11位手机号`, input: v });
      return z.NEVER;
    }
    return m;
  }),
  邮箱: z
    .string()
    .refine((v) => v === '' || EMAIL_RE.test(v), { error: (iss) => `邮箱「${String(iss.input)}」格式不正确` })
    .transform((v) => (v === '' ? null : v)),
  角色: z.string().transform((v, ctx) => {
    const parts = v.split(/[、,，;；/\s]+/).filter((p) => p !== '');
    if (parts.length === 0) {
      ctx.issues.push({ code: 'custom', message: `角色不能为空，可选：${ROLE_CHOICES}`, input: v });
      return z.NEVER;
    }
    const out: RoleName[] = [];
    for (const p of parts) {
      const role = ROLE_BY_LABEL.get(p);
      if (!role) {
        ctx.issues.push({ code: 'custom', message: `角色「${p}」无法识别，可选：${ROLE_CHOICES}`, input: v });
        continue;
      }
      if (!out.includes(role)) out.push(role);
    }
    return out;
  }),
});

type Row = z.output<typeof RowSchema>;

/** Validates the rows of a sheet (first non-blank row = header). */
export function validateRows(rows: readonly SheetRow[]): ValidationResult {
  const [header, ...data] = rows.filter((r) => !isBlank(r.cells));
  if (!header) return { ok: false, errors: [{ row: null, message: '文件为空：没有表头，也没有数据行' }] };

  const errors: ImportError[] = [];
  const names = header.cells.map((c) => c.trim());
  const index = new Map<Column, number>();
  for (const col of REQUIRED_COLUMNS) {
    const at = names.indexOf(col);
    if (at < 0) errors.push({ row: null, column: col, message: `缺少必需的列「${col}」（第${header.row}行应为表头：${REQUIRED_COLUMNS.join('、')}）` });
    else if (names.indexOf(col, at + 1) >= 0) errors.push({ row: null, column: col, message: `列「${col}」在表头中出现了多次` });
    else index.set(col, at);
  }
  if (errors.length > 0) return { ok: false, errors };
  if (data.length === 0) return { ok: false, errors: [{ row: null, message: '文件中没有数据行（表头以下为空）' }] };

  const records: ImportRecord[] = [];
  const unitSeen = new Map<string, { row: number; unit: ImportUnit }>();
  const personSeen = new Map<string, { row: number; name: string; email: string | null; emailRow: number }>();

  for (const { row, cells } of data) {
    const raw = Object.fromEntries(REQUIRED_COLUMNS.map((col) => [col, (cells[index.get(col) ?? -1] ?? '').trim()])) as Record<Column, string>;
    const rowErrors: ImportError[] = [];
    const value: Partial<Row> = {};
    for (const col of REQUIRED_COLUMNS) {
      const parsed = RowSchema.shape[col].safeParse(raw[col]);
      if (parsed.success) (value as Record<Column, unknown>)[col] = parsed.data;
      else for (const issue of parsed.error.issues) rowErrors.push({ row, column: col, message: issue.message });
    }

    // The unit: all of its columns blank, or code, name and 组别 given.
    const unitGiven = raw.单位编码 !== '' || raw.单位名称 !== '' || raw.组别 !== '' || raw.主管部门 !== '';
    let unit: ImportUnit | null | undefined = null;
    if (unitGiven) {
      const missing = (['单位编码', '单位名称', '组别'] as const).filter((c) => raw[c] === '');
      for (const c of missing) rowErrors.push({ row, column: c, message: `已填写单位信息，但${c}为空` });
      const ok = missing.length === 0 && value.单位编码 !== undefined && value.单位名称 !== undefined && value.组别 !== undefined && value.主管部门 !== undefined;
      unit = ok ? { code: raw.单位编码, name: raw.单位名称, groupName: raw.组别, supervisingDept: raw.主管部门 } : undefined;
    }
    const roles = value.角色;
    if (!unitGiven && roles) {
      const needUnit = roles.filter((r) => UNIT_ROLES.includes(r));
      if (needUnit.length > 0) {
        rowErrors.push({
          row,
          column: '单位编码',
          message: `角色「${needUnit.map((r) => ROLE_LABELS[r]).join('、')}」必须填写所属单位（单位编码、单位名称、组别）`,
        });
      }
    }

    // Across rows: one code = one unit; one 手机号 = one person.
    if (unit) {
      const seen = unitSeen.get(unit.code);
      if (!seen) unitSeen.set(unit.code, { row, unit });
      else {
        const fields = [['单位名称', 'name'], ['组别', 'groupName'], ['主管部门', 'supervisingDept']] as const;
        for (const [col, key] of fields) {
          if (seen.unit[key] !== unit[key]) {
            rowErrors.push({
              row,
              column: col,
              message: `单位编码「${unit.code}」在第${seen.row}行的${col}为「${seen.unit[key]}」，本行为「${unit[key]}」，同一单位的信息必须一致`,
            });
          }
        }
      }
    }
    const mobile = value.手机号;
    const name = value.姓名;
    if (mobile !== undefined && name !== undefined) {
      const seen = personSeen.get(mobile);
      const email = value.邮箱 ?? null;
      if (!seen) personSeen.set(mobile, { row, name, email, emailRow: row });
      else {
        if (seen.name !== name) {
          rowErrors.push({
            row,
            column: '手机号',
            message: `手机号「${mobile}」在第${seen.row}行登记的姓名为「${seen.name}」，本行为「${name}」，同一手机号只能对应一个人`,
          });
        }
        if (email !== null && seen.email !== null && email !== seen.email) {
          rowErrors.push({
            row,
            column: '邮箱',
            message: `手机号「${mobile}」在第${seen.emailRow}行登记的邮箱为「${seen.email}」，本行为「${email}」，同一人的邮箱必须一致`,
          });
        } else if (email !== null && seen.email === null) {
          seen.email = email;
          seen.emailRow = row;
        }
      }
    }

    if (rowErrors.length > 0 || unit === undefined || mobile === undefined || name === undefined || !roles) {
      errors.push(...rowErrors);
      continue;
    }
    records.push({ row, unit, name, mobile, email: value.邮箱 ?? null, roles });
  }

  return errors.length > 0 ? { ok: false, errors } : { ok: true, records };
}
