/**
 * The Chinese working-day calendar (工作日历): public holidays (法定节假日) are days off, 调休
 * weekend days are worked, every other day is a workday unless it is a Saturday or Sunday.
 * Pure: dates are 'YYYY-MM-DD' strings of the Asia/Shanghai calendar (take an instant's date
 * with `shanghaiDate` from ./time), no clock, no I/O.
 *
 * The default data is chinese-days' own JSON (the State Council's 国务院办公厅 notices, 2004
 * onwards). It is imported as a JSON module, not through the package's entry: the package has
 * no "exports" map and is "type": "commonjs", so Node loads its minified CJS main (named ESM
 * imports fail there) and esbuild with --platform=neutral does not resolve it at all; its ESM
 * build also computes the same maps at load time and does not export them. A direct JSON
 * import works under Node, tsx, vitest and esbuild/wrangler alike.
 *
 * A year is known when the data has a holiday in it. In an unknown year (the notice for next
 * year comes out in November or December) Saturdays and Sundays are the only days off, and
 * `describeYear` says so in a sentence that can be shown to users.
 */
import chineseDays from 'chinese-days/dist/chinese-days.json' with { type: 'json' };

export interface WorkCalendar {
  isWorkday(date: string): boolean;
  /** The date itself when it is a workday, else the first workday after it. */
  nextWorkday(date: string): string;
  /**
   * The n-th working day after the date (n < 0: before it); n = 0 gives nextWorkday(date).
   * For a workday d, workdaysBetween(d, addWorkdays(d, n)) === n.
   */
  addWorkdays(date: string, n: number): string;
  /** The working days in (from, to]; negative (minus those in (to, from]) when to < from. */
  workdaysBetween(from: string, to: string): number;
  /** Whether the data has this year's holiday arrangement. */
  known(year: number): boolean;
  /** null when the year is known, else a Chinese sentence saying weekends are assumed. */
  describeYear(year: number): string | null;
}

export interface CalendarData {
  /** date → description; days off (weekend days inside a holiday included). */
  holidays: Record<string, string>;
  /** date → description; 调休 weekend days that are worked. */
  workdays: Record<string, string>;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(z0: number): [number, number, number] {
  const z = z0 + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

const MIN_DAY = daysFromCivil(0, 1, 1);
const MAX_DAY = daysFromCivil(9999, 12, 31);

/** Day number of a 'YYYY-MM-DD' date; throws a RangeError on anything else (2026-02-30 included). */
function parseDay(date: string): number {
  const m = typeof date === 'string' ? DATE_RE.exec(date) : null;
  if (m) {
    const y = Number(m[1]);
    const mo = Number(m[2]);
    const d = Number(m[3]);
    if (mo >= 1 && mo <= 12 && d >= 1) {
      const day = daysFromCivil(y, mo, d);
      if (civilFromDays(day)[1] === mo) return day;
    }
  }
  throw new RangeError(`not a calendar date (expected YYYY-MM-DD): ${JSON.stringify(date)}`);
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

function formatDay(day: number): string {
  if (day < MIN_DAY || day > MAX_DAY) throw new RangeError('date out of range (years 0000-9999)');
  const [y, m, d] = civilFromDays(day);
  return `${String(y).padStart(4, '0')}-${pad2(m)}-${pad2(d)}`;
}

/** 0 = Sunday … 6 = Saturday; day 0 (1970-01-01) was a Thursday. */
const weekday = (day: number) => (((day + 4) % 7) + 7) % 7;

function checkWhole(n: number, what: string): void {
  if (!Number.isSafeInteger(n)) throw new RangeError(`${what} must be an integer, got ${n}`);
}

/** One year's workdays, computed once: work[i] for its i-th day, cum[i] = workdays among its first i days. */
interface YearBlock {
  start: number;
  end: number; // exclusive
  work: Uint8Array;
  cum: Uint16Array;
}

interface PreparedData {
  holidays: Set<number>;
  workdays: Set<number>;
  knownYears: Set<number>;
  minYear: number | null;
  maxYear: number | null;
}

function prepare(data: CalendarData): PreparedData {
  const holidays = new Set<number>();
  const workdays = new Set<number>();
  const knownYears = new Set<number>();
  for (const date of Object.keys(data.holidays)) {
    holidays.add(parseDay(date));
    knownYears.add(Number(date.slice(0, 4)));
  }
  for (const date of Object.keys(data.workdays)) workdays.add(parseDay(date));
  const years = [...knownYears];
  return {
    holidays,
    workdays,
    knownYears,
    minYear: years.length ? Math.min(...years) : null,
    maxYear: years.length ? Math.max(...years) : null,
  };
}

let defaultPrepared: PreparedData | undefined;

/**
 * A working-day calendar over the given holiday and 调休 data (default: chinese-days, through
 * its last published year). A date listed as a 调休 workday is a workday even if it is also
 * listed as a holiday (the two never overlap in chinese-days).
 */
export function createCalendar(data?: CalendarData): WorkCalendar {
  const prepared = data ? prepare(data) : (defaultPrepared ??= prepare(chineseDays));
  const { holidays, workdays, knownYears, minYear, maxYear } = prepared;
  const blocks = new Map<number, YearBlock>();
  let last: YearBlock | undefined;

  function buildBlock(year: number): YearBlock {
    const start = daysFromCivil(year, 1, 1);
    const end = daysFromCivil(year + 1, 1, 1);
    const work = new Uint8Array(end - start);
    const cum = new Uint16Array(end - start + 1);
    for (let i = 0; i < work.length; i++) {
      const day = start + i;
      const dow = weekday(day);
      const isWork = workdays.has(day) || (!holidays.has(day) && dow !== 0 && dow !== 6);
      work[i] = isWork ? 1 : 0;
      cum[i + 1] = cum[i]! + work[i]!;
    }
    const block = { start, end, work, cum };
    blocks.set(year, block);
    return block;
  }

  function blockOf(day: number): YearBlock {
    if (last && day >= last.start && day < last.end) return last;
    const year = civilFromDays(day)[0];
    last = blocks.get(year) ?? buildBlock(year);
    return last;
  }

  function isWork(day: number): boolean {
    const b = blockOf(day);
    return b.work[day - b.start] === 1;
  }

  /** Workdays in [start of day's year, day]. */
  function cumulative(day: number): number {
    const b = blockOf(day);
    return b.cum[day - b.start + 1]!;
  }

  /** Workdays in (a, b] for a <= b. */
  function between(a: number, b: number): number {
    const ya = civilFromDays(a)[0];
    const yb = civilFromDays(b)[0];
    if (ya === yb) return cumulative(b) - cumulative(a);
    let n = cumulative(b);
    for (let y = ya + 1; y < yb; y++) {
      const blk = blocks.get(y) ?? buildBlock(y);
      n += blk.cum[blk.work.length]!;
    }
    const ba = blockOf(a);
    return n + ba.cum[ba.work.length]! - cumulative(a);
  }

  function next(day: number): number {
    let d = day;
    while (!isWork(d)) d++;
    return d;
  }

  return {
    isWorkday: (date) => isWork(parseDay(date)),
    nextWorkday: (date) => formatDay(next(parseDay(date))),
    addWorkdays(date, n) {
      checkWhole(n, 'n');
      let d = parseDay(date);
      if (n === 0) return formatDay(next(d));
      const step = n > 0 ? 1 : -1;
      for (let left = Math.abs(n); left > 0; ) {
        d += step;
        if (d < MIN_DAY || d > MAX_DAY) throw new RangeError('date out of range (years 0000-9999)');
        if (isWork(d)) left--;
      }
      return formatDay(d);
    },
    workdaysBetween(from, to) {
      const a = parseDay(from);
      const b = parseDay(to);
      return a <= b ? between(a, b) : -between(b, a);
    },
    known: (year) => knownYears.has(year),
    describeYear(year) {
      checkWhole(year, 'year');
      if (knownYears.has(year)) return null;
      if (maxYear === null || year > maxYear) return `${year}年国务院节假日安排尚未发布，暂按周末计算工作日`;
      return `${year}年节假日安排未收录${minYear !== null && year < minYear ? `（数据自${minYear}年起）` : ''}，暂按周末计算工作日`;
    },
  };
}
