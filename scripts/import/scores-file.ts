/**
 * Reads a 评分 import file (.csv or .xlsx): a header row with 单位编码、评估主体、指标编码、评分人、
 * 分值 (any order, extra columns ignored), then one row per rater score. 评分人 is a person's
 * 手机号 for a named rater, or an answer-sheet label (问卷12) for an anonymous questionnaire
 * response. This checks the file itself; the campaign, the scheme and the people are checked
 * by the store (importScores), and every problem of both is reported before anything is written.
 */
import type { RowError, ScoreFileRow } from '../../src/store/grading.repo';
import { CsvSyntaxError, DEFAULT_LIMITS, FileReadError, normalizeMobile, readSheetFile, type ImportLimits, type SheetRow } from './units-file';

/**
 * A score file is longer than a units file (questionnaire answers: responses × indicators × units),
 * so it may have more rows; 100,000 rows of 5 cells load in about 2.5 s and 400 MB.
 */
export const SCORE_LIMITS: ImportLimits = { ...DEFAULT_LIMITS, maxRows: 100_000, maxCells: 600_000 };

export const SCORE_COLUMNS = ['单位编码', '评估主体', '指标编码', '评分人', '分值'] as const;
type Column = (typeof SCORE_COLUMNS)[number];

const NUMBER = /^\d+(\.\d+)?$/;
const MAX_LABEL = 50;

/** Rows that parsed, and the problems of those that did not (file-level problems have row 0). */
export interface ScoreFileResult {
  rows: ScoreFileRow[];
  errors: RowError[];
}

export function validateScoreRows(sheet: readonly SheetRow[]): ScoreFileResult {
  const [header, ...data] = sheet;
  if (!header) return { rows: [], errors: [{ row: 0, message: '文件为空：没有表头，也没有数据行' }] };
  const names = header.cells.map((c) => c.trim());
  const index = new Map<Column, number>();
  const errors: RowError[] = [];
  for (const col of SCORE_COLUMNS) {
    const at = names.indexOf(col);
    if (at < 0) errors.push({ row: 0, column: col, message: `缺少必需的列「${col}」（第${header.row}行应为表头：${SCORE_COLUMNS.join('、')}）` });
    else if (names.indexOf(col, at + 1) >= 0) errors.push({ row: 0, column: col, message: `列「${col}」在表头中出现了多次` });
    else index.set(col, at);
  }
  if (errors.length > 0) return { rows: [], errors };
  if (data.length === 0) return { rows: [], errors: [{ row: 0, message: '文件中没有数据行（表头以下为空）' }] };

  const rows: ScoreFileRow[] = [];
  for (const { row, cells } of data) {
    const raw = Object.fromEntries(SCORE_COLUMNS.map((col) => [col, (cells[index.get(col) ?? -1] ?? '').trim()])) as Record<Column, string>;
    const rowErrors: RowError[] = [];
    for (const col of ['单位编码', '评估主体', '指标编码'] as const) if (raw[col] === '') rowErrors.push({ row, column: col, message: `${col}不能为空` });
    let score: number | null = null;
    if (raw.分值 === '') rowErrors.push({ row, column: '分值', message: '分值不能为空' });
    else if (!NUMBER.test(raw.分值)) rowErrors.push({ row, column: '分值', message: `分值「${raw.分值}」不是有效的数字（应为不小于0的数，如 8 或 8.5）` });
    else score = Number(raw.分值);
    let rater: ScoreFileRow['rater'] | null = null;
    const mobile = normalizeMobile(raw.评分人);
    if (raw.评分人 === '') rowErrors.push({ row, column: '评分人', message: '评分人不能为空（实名评分填写评分人手机号；匿名问卷填写答卷编号，如“问卷12”）' });
    else if (mobile !== null) rater = { mobile };
    else if (/^[+\d\s-]{7,}$/.test(raw.评分人)) rowErrors.push({ row, column: '评分人', message: `评分人「${raw.评分人}」不是有效的11位手机号` });
    else if ([...raw.评分人].length > MAX_LABEL) rowErrors.push({ row, column: '评分人', message: `答卷编号过长，不能超过${MAX_LABEL}个字` });
    else rater = { label: raw.评分人 };
    if (rowErrors.length > 0 || score === null || rater === null) {
      errors.push(...rowErrors);
      continue;
    }
    rows.push({ row, unitCode: raw.单位编码, group: raw.评估主体, indicatorCode: raw.指标编码, rater, score });
  }
  return { rows, errors };
}

/** Reads and checks a score file; a file that cannot be read is one error with row 0. */
export async function readScoresFile(path: string, limits: ImportLimits = SCORE_LIMITS): Promise<ScoreFileResult> {
  let sheet: SheetRow[];
  try {
    sheet = await readSheetFile(path, limits);
  } catch (e) {
    if (e instanceof CsvSyntaxError) return { rows: [], errors: [{ row: e.row, message: e.message }] };
    if (e instanceof FileReadError) return { rows: [], errors: [{ row: 0, message: e.message }] };
    throw e;
  }
  return validateScoreRows(sheet);
}
