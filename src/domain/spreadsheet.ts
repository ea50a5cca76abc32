/**
 * Cells of a spreadsheet or CSV export. Pure.
 *
 * Text is stored as people typed it (unit names, comments, answers, imported cells), so it may
 * start with = + - @: Excel, WPS and LibreOffice run such a cell as a formula when the exported
 * file is opened (formula injection: `=HYPERLINK("https://evil…","点此")`, `=cmd|' /C calc'!A0`,
 * `@SUM(…)`). Every export writes cells through neutraliseCell, which puts a ' before such text so
 * it shows as text (OWASP "CSV Injection"). Tab and carriage return lead the same way, and the
 * full-width ＝＋－＠ an IME types are treated alike. A plain number (-3, +1.5) is not a formula
 * and stays a number.
 */

const FORMULA_START = /^[=+\-@\t\r＝＋－＠]/;
const PLAIN_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** The text as a cell that no spreadsheet program will evaluate. */
export function neutraliseCell(text: string): string {
  return FORMULA_START.test(text) && !PLAIN_NUMBER.test(text) ? `'${text}` : text;
}

export type CellValue = string | number | null;

/** One CSV field (RFC 4180): neutralised, then quoted when it holds a comma, quote or line break. */
export function csvField(value: CellValue): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const text = neutraliseCell(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * A whole CSV file: CRLF line ends and a UTF-8 byte order mark, so that Excel opens the Chinese
 * text correctly by double-click.
 */
export function toCsv(rows: readonly (readonly CellValue[])[]): string {
  return `\uFEFF${rows.map((r) => r.map(csvField).join(',')).join('\r\n')}\r\n`;
}
