import { describe, expect, it } from 'vitest';
import { addDays, endOfShanghaiDay, shanghaiDate, shanghaiDateTime, shanghaiDateZh } from './time';

const HOUR = 60 * 60 * 1000;

describe('shanghaiDate', () => {
  it.each([
    // Shanghai is UTC+8: its day starts at 16:00Z of the previous UTC day.
    { instant: '2026-12-31T15:59:59.999Z', date: '2026-12-31' },
    { instant: '2026-12-31T16:00:00.000Z', date: '2027-01-01' },
    { instant: '2027-01-01T00:00:00.000Z', date: '2027-01-01' },
    { instant: '2026-06-30T23:59:59.999Z', date: '2026-07-01' },
    { instant: '2024-02-28T16:00:00.000Z', date: '2024-02-29' },
    { instant: '2026-03-09T03:04:05.000Z', date: '2026-03-09' },
  ])('$instant is $date in Shanghai', ({ instant, date }) => {
    expect(shanghaiDate(Date.parse(instant))).toBe(date);
  });
});

describe('shanghaiDateTime', () => {
  it.each([
    { instant: '2026-12-31T16:00:00.000Z', text: '2027-01-01 00:00' },
    { instant: '2026-03-09T01:05:59.000Z', text: '2026-03-09 09:05' },
  ])('$instant is $text', ({ instant, text }) => {
    expect(shanghaiDateTime(Date.parse(instant))).toBe(text);
  });
});

describe('shanghaiDateZh', () => {
  it.each([
    { instant: '2026-12-31T15:59:59.999Z', text: '2026年12月31日' },
    { instant: '2026-12-31T16:00:00.000Z', text: '2027年1月1日' },
    { instant: '2026-03-08T20:00:00.000Z', text: '2026年3月9日' },
  ])('$instant is $text (no zero padding)', ({ instant, text }) => {
    expect(shanghaiDateZh(Date.parse(instant))).toBe(text);
  });
});

describe('endOfShanghaiDay', () => {
  it.each([
    { date: '2026-12-31', end: '2026-12-31T15:59:59.999Z' },
    { date: '2027-01-01', end: '2027-01-01T15:59:59.999Z' },
    { date: '2024-02-29', end: '2024-02-29T15:59:59.999Z' },
    { date: '  2026-05-10  ', end: '2026-05-10T15:59:59.999Z' },
    // Feishu's date picker sends an offset after the date.
    { date: '2024-04-01 +0800', end: '2024-04-01T15:59:59.999Z' },
    { date: '2024-04-01T00:00:00+08:00', end: '2024-04-01T15:59:59.999Z' },
  ])('$date ends at $end', ({ date, end }) => {
    expect(endOfShanghaiDay(date)).toBe(Date.parse(end));
  });

  it('is the last millisecond of that day in Shanghai', () => {
    const end = endOfShanghaiDay('2026-12-31');
    if (end === null) throw new Error('expected a date');
    expect(shanghaiDate(end)).toBe('2026-12-31');
    expect(shanghaiDate(end + 1)).toBe('2027-01-01');
    expect(shanghaiDateTime(end)).toBe('2026-12-31 23:59');
    expect(end - (endOfShanghaiDay('2026-12-30') ?? 0)).toBe(24 * HOUR);
  });

  it.each(['2026-02-30', '2026-02-29', '2026-13-01', '2026-00-10', '2026-04-31', '2026-01-32', '2026-1-5', '26-01-05', '2026/01/05', '20260105', 'garbage', '', '2026-01-05x', '明天'])(
    '%j → null',
    (date) => {
      expect(endOfShanghaiDay(date)).toBeNull();
    },
  );
});

describe('addDays', () => {
  it('adds whole days of 24 hours, forwards and back', () => {
    const t = Date.parse('2026-12-25T04:00:00Z');
    expect(addDays(t, 14)).toBe(Date.parse('2027-01-08T04:00:00Z'));
    expect(addDays(t, -1)).toBe(Date.parse('2026-12-24T04:00:00Z'));
  });
});

describe('endOfShanghaiDay accepts only date forms the platforms send', () => {
  it.each(['2024-04-01 foo', '2024-04-01T', '2024-04-01 25', '2024-04-01x'])('%j → null', (s) => {
    expect(endOfShanghaiDay(s)).toBeNull();
  });
  it.each(['2024-04-01', '2024-04-01 +0800', '2024-04-01 07:07 +0800', '2024-04-01T07:07:00Z'])('%j → the end of 2024-04-01 in Shanghai', (s) => {
    expect(endOfShanghaiDay(s)).toBe(Date.parse('2024-04-01T15:59:59.999Z'));
  });
});
