import { describe, expect, it } from 'vitest';
import { csvField, neutraliseCell, toCsv } from './spreadsheet';

describe('neutraliseCell (formula injection)', () => {
  it.each([
    ['=HYPERLINK("https://evil.example","点此")', `'=HYPERLINK("https://evil.example","点此")`],
    ["=cmd|' /C calc'!A0", `'=cmd|' /C calc'!A0`],
    ['+1+cmd|x', `'+1+cmd|x`],
    ['-2+3', `'-2+3`],
    ['@SUM(A1:A9)', `'@SUM(A1:A9)`],
    ['\t=1+1', `'\t=1+1`],
    ['\r=1+1', `'\r=1+1`],
    ['＝1+1', `'＝1+1`],
    ['－说明', `'－说明`],
  ])('puts a quote before %j', (text, safe) => {
    expect(neutraliseCell(text)).toBe(safe);
  });

  it.each(['县疾病预防控制中心', '综合得分 85.50 = 评估组', ' =1+1', '', '-3', '+1.5', '-0.25', '100'])('leaves %j as it is (text, or a plain number)', (text) => {
    expect(neutraliseCell(text)).toBe(text);
  });
});

describe('CSV', () => {
  it('neutralises, then quotes fields with commas, quotes and line breaks', () => {
    expect(csvField('=1+1,"x"')).toBe(`"'=1+1,""x"""`);
    expect(csvField('第一行\n第二行')).toBe('"第一行\n第二行"');
    expect(csvField(-3)).toBe('-3');
    expect(csvField(null)).toBe('');
    expect(csvField(Number.NaN)).toBe('');
  });

  it('writes a BOM, CRLF line ends and every cell neutralised', () => {
    expect(toCsv([['单位', '说明'], ['@evil', '=1+1'], [1, null]])).toBe(`\uFEFF单位,说明\r\n'@evil,'=1+1\r\n1,\r\n`);
  });
});
