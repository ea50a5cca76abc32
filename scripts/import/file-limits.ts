/**
 * Limits checked on an import file BEFORE it is parsed, so a hostile or broken file is refused
 * in well under a second and a few tens of MB, with a Chinese message.
 *
 * An .xlsx is a zip. Its central directory (at the end of the file) declares each entry's sizes:
 * they are checked first. The directory can lie, so every entry is then inflated with a hard
 * output cap (zlib's maxOutputLength) and the real sizes count; the worksheets' <row> and <c>
 * elements are counted on the way. Only a file that passes is handed to exceljs, which loads the
 * whole workbook into memory (about 600 MB per million cells): hence the cell cap.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';

export interface ImportLimits {
  /** Bytes of the file itself. */
  maxFileBytes: number;
  /** Bytes of all zip entries once inflated (.xlsx). */
  maxUnzippedBytes: number;
  /** Entries in the zip (.xlsx); a workbook has a dozen or two. */
  maxEntries: number;
  /** Inflated/compressed ratio of any entry larger than RATIO_FLOOR (.xlsx); real sheets are near 10. */
  maxRatio: number;
  /** Rows, header and blank rows included (all worksheets of an .xlsx together). */
  maxRows: number;
  /** Cells of all worksheets (.xlsx). */
  maxCells: number;
}

const MB = 1024 * 1024;

export const DEFAULT_LIMITS: ImportLimits = {
  maxFileBytes: 10 * MB,
  maxUnzippedBytes: 50 * MB,
  maxEntries: 1000,
  maxRatio: 200,
  maxRows: 20_000,
  maxCells: 200_000,
};

/** Entries smaller than this are not ratio-checked: a tiny file may compress very well. */
const RATIO_FLOOR = MB;

/** A file that cannot be read at all (wrong type, not UTF-8, corrupt, over a limit). Message in Chinese. */
export class FileReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FileReadError';
  }
}

const mb = (n: number) => (n < MB ? `${Math.ceil(n / 1024)} KB` : `${Number((n / MB).toFixed(1))} MB`);

export const UNREADABLE_XLSX = '无法读取该 Excel 文件：文件已损坏，或不是 .xlsx 格式（设有打开密码的文件请先取消密码）。请在 Excel 中打开并另存为 .xlsx 后再导入';
const unreadable = () => new FileReadError(UNREADABLE_XLSX);
const bomb = (detail: string, limits: ImportLimits) =>
  new FileReadError(`文件解压后过大（可能是压缩炸弹）：${detail}，上限为 ${mb(limits.maxUnzippedBytes)}。请确认文件来源，或在 Excel 中删除多余的工作表和内容后另存再导入`);

export function tooManyRows(maxRows: number): FileReadError {
  return new FileReadError(`行数超过上限：每个文件最多 ${maxRows} 行（含表头和空行），本文件超过此数。请拆分成多个文件分批导入`);
}

/** Reads the whole file, refusing it as soon as it is larger than maxFileBytes (before or while reading). */
export async function readFileCapped(path: string, limits: ImportLimits): Promise<Buffer> {
  try {
    return await readBounded(path, limits);
  } catch (e) {
    if (e instanceof FileReadError) throw e;
    throw new FileReadError(`无法读取文件：请确认它是一个可读的文件，而不是文件夹（${(e as { code?: string }).code ?? String(e)}）`);
  }
}

async function readBounded(path: string, limits: ImportLimits): Promise<Buffer> {
  const tooLarge = (size: string) => new FileReadError(`文件过大：${size}，上限为 ${mb(limits.maxFileBytes)}。请删除无关的工作表、图片，或拆分成多个文件后再导入`);
  const { size } = await stat(path);
  if (size > limits.maxFileBytes) throw tooLarge(`文件有 ${mb(size)}`);
  const chunks: Buffer[] = [];
  let total = 0;
  // Bounded while reading too: the file may grow, or not be a regular file at all.
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    total += (chunk as Buffer).length;
    if (total > limits.maxFileBytes) throw tooLarge(`文件超过 ${mb(limits.maxFileBytes)}`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const U32_MAX = 0xffffffff;

/** The entries the zip's central directory declares (sizes not yet trusted). */
function centralDirectory(buf: Buffer, limits: ImportLimits): ZipEntry[] {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === SIG_EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw unreadable();
  const count = buf.readUInt16LE(eocd + 10);
  if (count > limits.maxEntries) throw new FileReadError(`无法读取该 Excel 文件：压缩包中的条目过多（${count} 个，上限 ${limits.maxEntries} 个），不像是正常的 .xlsx 文件`);
  let p = buf.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (p + 46 > eocd || buf.readUInt32LE(p) !== SIG_CENTRAL) throw unreadable();
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const entry: ZipEntry = {
      name: buf.toString('utf8', p + 46, p + 46 + nameLen),
      method: buf.readUInt16LE(p + 10),
      compressedSize: buf.readUInt32LE(p + 20),
      size: buf.readUInt32LE(p + 24),
      localOffset: buf.readUInt32LE(p + 42),
    };
    // ZIP64: a field at 0xFFFFFFFF is in extra block 0x0001, in the order size, compressed, offset.
    for (let x = p + 46 + nameLen; x + 4 <= p + 46 + nameLen + extraLen; x += 4 + buf.readUInt16LE(x + 2)) {
      if (buf.readUInt16LE(x) !== 1) continue;
      let at = x + 4;
      for (const key of ['size', 'compressedSize', 'localOffset'] as const) {
        if (entry[key] !== U32_MAX || at + 8 > buf.length) continue;
        entry[key] = Number(buf.readBigUInt64LE(at));
        at += 8;
      }
    }
    entries.push(entry);
    p += 46 + nameLen + extraLen + buf.readUInt16LE(p + 32);
  }
  if (entries.length === 0) throw unreadable();
  return entries;
}

/** `<row` and `<c` start tags (any namespace prefix); text cannot hold a raw `<`. */
const ROW_OR_CELL = /<(?:[A-Za-z_][\w.-]*:)?(row|c)[\s/>]/g;

/**
 * Checks an .xlsx file's bytes against the limits without building a workbook. Throws
 * FileReadError (Chinese) for a file that is not a zip, is corrupt, or is over a limit.
 */
export function checkXlsx(buf: Buffer, limits: ImportLimits = DEFAULT_LIMITS): void {
  try {
    checkArchive(buf, limits);
  } catch (e) {
    // A truncated or malformed directory makes Buffer reads throw RangeError: still just corrupt.
    throw e instanceof FileReadError ? e : unreadable();
  }
}

function checkArchive(buf: Buffer, limits: ImportLimits): void {
  const entries = centralDirectory(buf, limits);
  const declared = entries.reduce((sum, e) => sum + e.size, 0);
  if (declared > limits.maxUnzippedBytes) throw bomb(`解压后有 ${mb(declared)}`, limits);
  for (const e of entries) {
    if (e.size > RATIO_FLOOR && e.size > limits.maxRatio * Math.max(e.compressedSize, 1)) {
      throw bomb(`其中「${e.name}」的压缩比异常（${Math.round(e.size / Math.max(e.compressedSize, 1))} 倍）`, limits);
    }
  }

  let inflated = 0;
  let rows = 0;
  let cells = 0;
  for (const e of entries) {
    const at = e.localOffset;
    if (at + 30 > buf.length || buf.readUInt32LE(at) !== SIG_LOCAL) throw unreadable();
    const start = at + 30 + buf.readUInt16LE(at + 26) + buf.readUInt16LE(at + 28);
    if (start + e.compressedSize > buf.length) throw unreadable();
    const raw = buf.subarray(start, start + e.compressedSize);
    const budget = limits.maxUnzippedBytes - inflated;
    let data: Buffer;
    if (e.method === 0) data = raw;
    else if (e.method === 8) {
      try {
        // The real output is capped here whatever the directory said.
        data = inflateRawSync(raw, { maxOutputLength: budget + 1 });
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw bomb(`解压后超过 ${mb(limits.maxUnzippedBytes)}`, limits);
        throw unreadable();
      }
    } else throw unreadable();
    if (data.length > budget) throw bomb(`解压后超过 ${mb(limits.maxUnzippedBytes)}`, limits);
    if (data.length !== e.size) throw unreadable();
    inflated += data.length;

    if (!/(^|\/)xl\/worksheets\/[^/]+\.xml$/i.test(e.name)) continue;
    const xml = data.toString('latin1');
    ROW_OR_CELL.lastIndex = 0;
    for (let m = ROW_OR_CELL.exec(xml); m; m = ROW_OR_CELL.exec(xml)) {
      if (m[1] === 'row') {
        if (++rows > limits.maxRows) throw tooManyRows(limits.maxRows);
      } else if (++cells > limits.maxCells) {
        throw new FileReadError(`单元格数超过上限：每个文件最多 ${limits.maxCells} 个单元格（所有工作表合计），本文件超过此数。请删除多余的列和工作表，或拆分成多个文件后再导入`);
      }
    }
  }
}
