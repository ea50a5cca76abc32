/** Asia/Shanghai has had no daylight saving since 1991: a fixed +08:00 offset is exact. */
const OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

const pad = (n: number) => String(n).padStart(2, '0');

/** yyyy-MM-dd of an instant, in Asia/Shanghai. */
export function shanghaiDate(instantMs: number): string {
  const d = new Date(instantMs + OFFSET_MS);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** yyyy-MM-dd HH:mm of an instant, in Asia/Shanghai. */
export function shanghaiDateTime(instantMs: number): string {
  const d = new Date(instantMs + OFFSET_MS);
  return `${shanghaiDate(instantMs)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** 2026年12月31日 */
export function shanghaiDateZh(instantMs: number): string {
  const [y, m, d] = shanghaiDate(instantMs).split('-').map(Number);
  return `${y}年${m}月${d}日`;
}

/**
 * The last instant of a calendar day in Asia/Shanghai (a deadline "by 12月31日" means the
 * whole day). Accepts yyyy-MM-dd, optionally followed by a time or offset as Feishu sends
 * ("2024-04-01 +0800"); returns null for anything that is not a real date.
 */
export function endOfShanghaiDay(date: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2})?)?(?: ?(?:[+-]\d{2}:?\d{2}|Z))?$/.exec(date.trim());
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const start = Date.UTC(y, mo - 1, d);
  const check = new Date(start);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return null;
  return start - OFFSET_MS + DAY_MS - 1;
}

export function addDays(instantMs: number, days: number): number {
  return instantMs + days * DAY_MS;
}
