import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import data from 'chinese-days/dist/chinese-days.json' with { type: 'json' };
import { createCalendar } from './calendar';

const cal = createCalendar();

/** An independent oracle: straight from the JSON and Date's own weekday. */
const holidays = data.holidays as Record<string, string>;
const workdays = data.workdays as Record<string, string>;
function oracleIsWorkday(date: string): boolean {
  if (date in workdays) return true;
  if (date in holidays) return false;
  const dow = new Date(`${date}T00:00:00Z`).getUTCDay();
  return dow !== 0 && dow !== 6;
}
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const DAY = 86_400_000;
const shift = (date: string, days: number) => iso(Date.parse(`${date}T00:00:00Z`) + days * DAY);

function dates(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = shift(d, 1)) out.push(d);
  return out;
}

describe('the 2026 data as shipped', () => {
  it('has 国庆 10-01..10-07 off and 09-20 (Sun), 10-10 (Sat) as 调休 workdays', () => {
    // Pins the data the other tests rely on: if chinese-days changes, these say so first.
    expect(dates('2026-10-01', '2026-10-07').every((d) => d in holidays)).toBe(true);
    expect(Object.keys(workdays).filter((d) => d >= '2026-09-01' && d <= '2026-10-31')).toEqual(['2026-09-20', '2026-10-10']);
    expect(Object.keys(workdays).filter((d) => d >= '2026-02-01' && d <= '2026-02-28')).toEqual(['2026-02-14', '2026-02-28']);
  });
});

describe('isWorkday', () => {
  it('2026 国庆 and 中秋: the whole week off, the 调休 Sunday and Saturday worked', () => {
    const work = dates('2026-09-19', '2026-10-11').filter((d) => cal.isWorkday(d));
    expect(work).toEqual([
      '2026-09-20', // Sunday, 调休
      '2026-09-21', '2026-09-22', '2026-09-23', '2026-09-24', // 09-25 Friday is 中秋
      '2026-09-28', '2026-09-29', '2026-09-30',
      '2026-10-08', '2026-10-09',
      '2026-10-10', // Saturday, 调休
    ]);
  });

  it('2026 春节: 02-15..02-23 off, Saturdays 02-14 and 02-28 worked', () => {
    expect(dates('2026-02-14', '2026-02-28').filter((d) => cal.isWorkday(d))).toEqual([
      '2026-02-14',
      '2026-02-24', '2026-02-25', '2026-02-26', '2026-02-27',
      '2026-02-28',
    ]);
  });

  it('an ordinary weekend is off and an ordinary weekday is worked', () => {
    expect(cal.isWorkday('2026-03-07')).toBe(false); // Saturday
    expect(cal.isWorkday('2026-03-08')).toBe(false); // Sunday
    expect(cal.isWorkday('2026-03-09')).toBe(true); // Monday
  });

  it('agrees with the oracle on every day from 2004 to 2027', () => {
    const wrong = dates('2004-01-01', '2027-12-31').filter((d) => cal.isWorkday(d) !== oracleIsWorkday(d));
    expect(wrong).toEqual([]);
  });
});

describe('nextWorkday', () => {
  it.each([
    ['2026-10-01', '2026-10-08'], // from inside 国庆
    ['2026-10-07', '2026-10-08'],
    ['2026-10-08', '2026-10-08'], // a workday is its own
    ['2026-09-19', '2026-09-20'], // Saturday → the 调休 Sunday
    ['2026-02-15', '2026-02-24'], // 春节
    ['2026-12-31', '2026-12-31'],
    ['2027-01-01', '2027-01-01'], // 2027 unknown: a Friday is a workday
    ['2027-01-02', '2027-01-04'],
  ])('%s → %s', (date, next) => {
    expect(cal.nextWorkday(date)).toBe(next);
  });
});

describe('addWorkdays', () => {
  it.each([
    ['2026-09-30', 1, '2026-10-08'], // across 国庆
    ['2026-10-08', -1, '2026-09-30'],
    ['2026-09-28', 5, '2026-10-10'], // 09-29, 09-30, 10-08, 10-09, 10-10 (Sat 调休)
    ['2026-10-10', -5, '2026-09-28'],
    ['2026-10-03', 1, '2026-10-08'], // from a holiday: the first workday after it
    ['2026-10-03', -1, '2026-09-30'],
    ['2026-10-03', 0, '2026-10-08'], // 0 = nextWorkday
    ['2026-02-13', 1, '2026-02-14'], // Friday → the 调休 Saturday
    ['2026-02-14', 1, '2026-02-24'],
    ['2026-12-31', 1, '2027-01-01'], // into the unknown year
    ['2027-01-04', -2, '2026-12-31'],
  ] as const)('%s %+d → %s', (date, n, expected) => {
    expect(cal.addWorkdays(date, n)).toBe(expected);
  });

  it('refuses a fractional count', () => {
    expect(() => cal.addWorkdays('2026-10-08', 1.5)).toThrow(RangeError);
  });
});

describe('workdaysBetween', () => {
  it('counts (from, to] over the National Day week', () => {
    expect(cal.workdaysBetween('2026-09-30', '2026-10-08')).toBe(1);
    expect(cal.workdaysBetween('2026-09-30', '2026-10-07')).toBe(0);
    expect(cal.workdaysBetween('2026-09-27', '2026-10-11')).toBe(6); // 09-28, 09-29, 09-30, 10-08, 10-09, 10-10
    expect(cal.workdaysBetween('2026-09-30', '2026-10-10')).toBe(3);
    expect(cal.workdaysBetween('2026-10-10', '2026-09-30')).toBe(-3);
    expect(cal.workdaysBetween('2026-10-08', '2026-10-08')).toBe(0);
  });

  it('matches a day-by-day count across years', () => {
    const count = (from: string, to: string) => dates(shift(from, 1), to).filter(oracleIsWorkday).length;
    expect(cal.workdaysBetween('2025-12-31', '2027-01-01')).toBe(count('2025-12-31', '2027-01-01'));
    expect(cal.workdaysBetween('2024-06-15', '2026-03-02')).toBe(count('2024-06-15', '2026-03-02'));
    expect(cal.workdaysBetween('2026-03-02', '2024-06-15')).toBe(-count('2024-06-15', '2026-03-02'));
  });

  it('property: agrees with a day-by-day count and inverts addWorkdays from a workday', () => {
    const day = fc.integer({ min: Date.parse('2025-06-01'), max: Date.parse('2027-06-30') }).map((ms) => iso(ms));
    fc.assert(
      fc.property(day, day, fc.integer({ min: -60, max: 60 }), (a, b, n) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const brute = dates(shift(lo, 1), hi).filter(oracleIsWorkday).length;
        expect(cal.workdaysBetween(a, b)).toBe(a <= b ? brute : -brute);
        const w = cal.nextWorkday(a);
        const moved = cal.addWorkdays(w, n);
        expect(oracleIsWorkday(moved)).toBe(true);
        expect(cal.workdaysBetween(w, moved)).toBe(n);
      }),
      { numRuns: 300 },
    );
  });
});

describe('known years', () => {
  it('2026 is known; 2027 is not and falls back to weekends with a sentence saying so', () => {
    expect(cal.known(2026)).toBe(true);
    expect(cal.describeYear(2026)).toBeNull();
    expect(cal.known(2027)).toBe(false);
    expect(cal.describeYear(2027)).toBe('2027年国务院节假日安排尚未发布，暂按周末计算工作日');
    // 2027-10-01 is a Friday: without an arrangement it is a workday; the weekend is not.
    expect(cal.isWorkday('2027-10-01')).toBe(true);
    expect(cal.isWorkday('2027-10-02')).toBe(false);
    expect(cal.isWorkday('2027-10-03')).toBe(false);
    expect(cal.workdaysBetween('2027-09-30', '2027-10-08')).toBe(6);
  });

  it('a year before the data says it is not covered', () => {
    expect(cal.known(2003)).toBe(false);
    expect(cal.describeYear(2003)).toBe('2003年节假日安排未收录（数据自2004年起），暂按周末计算工作日');
  });
});

describe('custom data', () => {
  const custom = createCalendar({ holidays: { '2030-05-01': '劳动节', '2030-05-02': '劳动节' }, workdays: { '2030-05-04': '调休' } });

  it('uses the given holidays and 调休 days, and knows only their years', () => {
    expect(custom.isWorkday('2030-05-01')).toBe(false); // Wednesday, holiday
    expect(custom.isWorkday('2030-05-04')).toBe(true); // Saturday, 调休
    expect(custom.isWorkday('2030-05-05')).toBe(false); // Sunday
    expect(custom.isWorkday('2026-10-01')).toBe(true); // not in this data: a Thursday
    expect(custom.known(2030)).toBe(true);
    expect(custom.known(2026)).toBe(false);
    expect(custom.addWorkdays('2030-04-30', 1)).toBe('2030-05-03');
  });

  it('an empty data set knows no year', () => {
    const empty = createCalendar({ holidays: {}, workdays: {} });
    expect(empty.known(2026)).toBe(false);
    expect(empty.describeYear(2026)).toBe('2026年国务院节假日安排尚未发布，暂按周末计算工作日');
    expect(empty.isWorkday('2026-10-01')).toBe(true);
  });

  it('refuses data with a malformed date', () => {
    expect(() => createCalendar({ holidays: { '2030-5-1': 'x' }, workdays: {} })).toThrow(RangeError);
  });
});

describe('malformed dates', () => {
  it.each(['2026-2-3', '2026-02-30', '2025-02-29', '2026-13-01', '2026-00-10', '2026/02/03', '', ' 2026-02-03', '2026-02-03T00:00', '20260203'])(
    '%j throws',
    (bad) => {
      expect(() => cal.isWorkday(bad)).toThrow(RangeError);
      expect(() => cal.nextWorkday(bad)).toThrow(RangeError);
      expect(() => cal.addWorkdays(bad, 1)).toThrow(RangeError);
      expect(() => cal.workdaysBetween(bad, '2026-01-05')).toThrow(RangeError);
      expect(() => cal.workdaysBetween('2026-01-05', bad)).toThrow(RangeError);
    },
  );

  it('a leap day is a date', () => {
    expect(cal.isWorkday('2024-02-29')).toBe(true);
  });
});

