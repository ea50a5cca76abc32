/**
 * Job schedules as slots in Asia/Shanghai local time. A slot is one occasion a job runs for,
 * named so that names sort in time order: "2026-11-30T09" (hourly), "2026-11-30" (daily),
 * "2026-11" (monthly), "2026-Q4" (quarterly). The scheduler runs each job once per slot and
 * records it in the database; this module only says which slots exist and when they start.
 * Pure: instants are epoch milliseconds, passed in.
 */

const OFFSET_MS = 8 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
const pad = (n: number) => String(n).padStart(2, '0');

export interface Slot {
  /** The slot's name, sortable in time order. */
  readonly id: string;
  /** When the slot's run becomes due (epoch ms). */
  readonly start: number;
}

export interface Schedule {
  /** The latest slot that has started at `now`, or null before the first. */
  latest(now: number): Slot | null;
  /** The slot before this one. */
  previous(slot: Slot): Slot;
}

/** Local wall-clock parts of an instant in Asia/Shanghai. */
function local(instant: number) {
  const d = new Date(instant + OFFSET_MS);
  return { y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes() };
}

/** The instant of a local wall-clock time in Asia/Shanghai (months and days may overflow, as Date.UTC allows). */
function instantOf(y: number, mo: number, d: number, h = 0, mi = 0): number {
  return Date.UTC(y, mo - 1, d, h, mi) - OFFSET_MS;
}

function parseAt(at: string): { h: number; mi: number } {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(at);
  if (!m) throw new Error(`bad local time ${JSON.stringify(at)}: expected HH:MM`);
  return { h: Number(m[1]), mi: Number(m[2]) };
}

/** Every hour, at minute `minute` (default 0). */
export function hourly(minute = 0): Schedule {
  const slotOf = (hourStart: number): Slot => {
    const p = local(hourStart);
    return { id: `${p.y}-${pad(p.mo)}-${pad(p.d)}T${pad(p.h)}`, start: hourStart + minute * 60_000 };
  };
  return {
    latest(now) {
      const hourStart = Math.floor((now - minute * 60_000) / HOUR_MS) * HOUR_MS;
      return slotOf(hourStart);
    },
    previous(slot) {
      return slotOf(slot.start - minute * 60_000 - HOUR_MS);
    },
  };
}

/** Every day at a local time. */
export function daily(at: string): Schedule {
  const { h, mi } = parseAt(at);
  const slotOf = (y: number, mo: number, d: number): Slot => {
    const start = instantOf(y, mo, d, h, mi);
    const p = local(start);
    return { id: `${p.y}-${pad(p.mo)}-${pad(p.d)}`, start };
  };
  return {
    latest(now) {
      const p = local(now);
      const today = slotOf(p.y, p.mo, p.d);
      return today.start <= now ? today : slotOf(p.y, p.mo, p.d - 1);
    },
    previous(slot) {
      const p = local(slot.start);
      return slotOf(p.y, p.mo, p.d - 1);
    },
  };
}

/**
 * Once a month (or a quarter), on the day `dayOf(year, month)` picks (a 'YYYY-MM-DD' local date
 * in that month: the 1st, or the first working day), at a local time.
 */
function periodic(months: 1 | 3, at: string, dayOf: (year: number, month: number) => string): Schedule {
  const { h, mi } = parseAt(at);
  const slotOf = (y: number, mo: number): Slot => {
    const norm = new Date(Date.UTC(y, mo - 1, 1));
    const [yy, mm] = [norm.getUTCFullYear(), norm.getUTCMonth() + 1];
    const [dy, dm, dd] = dayOf(yy, mm).split('-').map(Number) as [number, number, number];
    const id = months === 1 ? `${yy}-${pad(mm)}` : `${yy}-Q${(mm - 1) / 3 + 1}`;
    return { id, start: instantOf(dy, dm, dd, h, mi) };
  };
  const first = (mo: number) => mo - ((mo - 1) % months);
  return {
    latest(now) {
      const p = local(now);
      const current = slotOf(p.y, first(p.mo));
      return current.start <= now ? current : slotOf(p.y, first(p.mo) - months);
    },
    previous(slot) {
      const p = local(slot.start);
      return slotOf(p.y, first(p.mo) - months);
    },
  };
}

export const monthly = (at: string, dayOf: (year: number, month: number) => string = (y, m) => `${y}-${pad(m)}-01`) => periodic(1, at, dayOf);
export const quarterly = (at: string, dayOf: (year: number, month: number) => string = (y, m) => `${y}-${pad(m)}-01`) => periodic(3, at, dayOf);

/**
 * The slots to run at `now`, oldest first: the latest slot and up to `catchUp − 1` before it,
 * none at or before `lastRun` (the newest slot already recorded), and, for a job that has never
 * run, only the latest (nothing is back-filled from before it existed).
 */
export function dueSlots(schedule: Schedule, now: number, lastRun: string | null, catchUp = 1): Slot[] {
  const latest = schedule.latest(now);
  if (!latest) return [];
  if (lastRun === null) return [latest];
  const out: Slot[] = [];
  for (let s = latest, i = 0; i < Math.max(1, catchUp) && s.id > lastRun; i++, s = schedule.previous(s)) out.unshift(s);
  return out;
}
