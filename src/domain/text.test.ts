import { describe, expect, it } from 'vitest';
import { charCount, cleanText, clip, linkHost, quote, safeHttpLink } from './text';

/** The attack an outsider's run found: a second link, with text the filler chose, after the first. */
const ATTACK = 'https://a.b/x)**[官方文件](https://evil.example/login)';

describe('cleanText', () => {
  it.each([
    ['a NUL keeps the text after it', '说明\u0000后面的字', '说明后面的字'],
    ['other C0 controls, DEL and C1 controls go', 'a\u0001b\u0008c\u000Bd\u000Ce\u001Bf\u007Fg\u0085h\u009Fi', 'abcdefghi'],
    ['tabs and line feeds stay', '第一行\n\t第二行', '第一行\n\t第二行'],
    ['CR LF and lone CR become LF', '一\r\n二\r三', '一\n二\n三'],
    ['noncharacters U+FFFE and U+FFFF go', 'a\uFFFEb\uFFFFc', 'abc'],
    ['lone surrogates go, pairs stay', 'a\uD800b\uDC00c😀d\uDBFF', 'abc😀d'],
    ['it trims', '  \n 说明 \t\n', '说明'],
  ])('%s', (_label, raw, expected) => {
    expect(cleanText(raw)).toBe(expected);
  });
});

describe('charCount and clip', () => {
  it('count an emoji (two UTF-16 units) as one character', () => {
    expect(charCount('😀')).toBe(1);
    expect(charCount('得分😀说明')).toBe(5);
    expect(charCount('')).toBe(0);
  });

  it('clip to a number of characters, never cutting a pair in two', () => {
    expect(clip('😀😀😀', 2)).toBe('😀😀');
    expect(clip('ab😀', 3)).toBe('ab😀');
    expect(clip('abc', 5)).toBe('abc');
    expect(clip('abc', 0)).toBe('');
    expect(charCount(clip('字'.repeat(1_000_000), 2000))).toBe(2000);
  });

  it('quote cuts a long value with an ellipsis within its maximum', () => {
    expect(quote('abc', 5)).toBe('abc');
    expect(quote('abcdef', 5)).toBe('abcd…');
    expect(charCount(quote('x'.repeat(10_000)))).toBe(60);
  });
});

describe('safeHttpLink', () => {
  it('percent-encodes what would break a rendered link, so the attack is one link to a.b', () => {
    const safe = safeHttpLink(ATTACK);
    expect(safe).toBe('https://a.b/x%29%2A%2A%5B官方文件%5D%28https://evil.example/login%29');
    expect(safe).not.toMatch(/[()[\]*]/);
    expect(linkHost(ATTACK)).toBe('a.b');
    // A stored link read again (a draft saved twice) stays as it is.
    expect(safeHttpLink(safe!)).toBe(safe);
  });

  it.each([
    ['https://oa.example.gov.cn/files/a.pdf', 'https://oa.example.gov.cn/files/a.pdf'],
    ['http://localhost:8080/x', 'http://localhost:8080/x'],
    ['HTTPS://X.EXAMPLE.COM/p?q=1&r=2#s', 'HTTPS://X.EXAMPLE.COM/p?q=1&r=2#s'],
    ['https://www.gov.cn/政策/文件.pdf', 'https://www.gov.cn/政策/文件.pdf'],
    ['https://en.example.org/wiki/A_(b)', 'https://en.example.org/wiki/A_%28b%29'],
    ['https://a.example.cn/"><img src=x>', 'https://a.example.cn/%22%3E%3Cimg%20src=x%3E'],
    ['https://a.example.cn/%28already', 'https://a.example.cn/%28already'],
  ])('accepts %s as %s', (raw, expected) => {
    expect(safeHttpLink(raw)).toBe(expected);
  });

  it.each([
    'javascript:alert(1)',
    'ftp://files.example.cn/a.pdf',
    'www.example.cn',
    'https://nodot/x',
    'http://',
    'https://a(b).example.cn/',
    "https://a'b.example.cn/",
    'https://www.gov.cn@evil.example/',
    'https://user:pass@a.example.cn/',
    'https://a.example.cn\\@evil.example/',
    'https://[::1]/',
  ])('refuses %s', (raw) => {
    expect(safeHttpLink(raw)).toBeNull();
    expect(linkHost(raw)).toBeNull();
  });

  it('shows an internationalised host as URL spells it (xn--), never a look-alike', () => {
    expect(linkHost('https://中国政府.cn/a')).toMatch(/^xn--[a-z0-9-]+\.cn$/);
  });
});
