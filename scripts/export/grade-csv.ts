/**
 * `grade <评估编号> --csv <文件>`: the graded table as a CSV file for Excel, one row per unit.
 * Unit names and reasons come from imported and typed text, so every cell goes through
 * toCsv's neutraliseCell (formula injection).
 */
import type { GradingResult } from '../../src/domain/grading-types';
import type { SchemeFile } from '../../src/domain/scheme';
import { toCsv, type CellValue } from '../../src/domain/spreadsheet';

export const GRADE_CSV_HEADER = ['组别', '排名', '单位', '得分', '等次', '说明'] as const;

export function gradeCsv(scheme: SchemeFile, result: GradingResult): string {
  const d = scheme.grading?.decimals ?? 2;
  const rows: CellValue[][] = [[...GRADE_CSV_HEADER]];
  for (const u of result.units) {
    const gradeText = u.status === 'incomplete' ? '待补充' : (u.gradeLabel ?? '');
    // The score as text with the scheme's decimals, so 85.50 is not shown as 85.5.
    rows.push([u.group, u.rank, u.name, u.score === null ? '' : u.score.toFixed(d), gradeText, u.reasons.join('；')]);
  }
  return toCsv(rows);
}
