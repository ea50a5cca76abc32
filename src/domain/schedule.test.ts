import { describe, expect, it } from 'vitest';
import { daily, dueSlots, hourly, monthly, quarterly } from './schedule';

/** An instant given as Asia/Shanghai wall-clock time. */
const at = (s: string) => Date.parse(`${s}+08:00`);

describe('schedules in Asia/Shanghai', () => {
  it.each([
    ['hourly at :00', hourly(), '2026-11-30T09:00:00', '2026-11-30T09', '2026-11-30T09:00:00'],
    ['hourly at :00, a minute before', hourly(), '2026-11-30T08:59:59', '2026-11-30T08', '2026-11-30T08:00:00'],
    ['hourly at :30 just past midnight', hourly(30), '2026-12-01T00:10:00', '2026-11-30T23', '2026-11-30T23:30:00'],
    ['daily 09:00 after nine', daily('09:00'), '2026-11-30T09:00:00', '2026-11-30', '2026-11-30T09:00:00'],
    ['daily 09:00 before nine is yesterday', daily('09:00'), '2026-11-30T08:59:00', '2026-11-29', '2026-11-29T09:00:00'],
    ['daily across a month end, local time (UTC is still the day before)', daily('07:00'), '2026-12-01T07:30:00', '2026-12-01', '2026-12-01T07:00:00'],
    ['monthly on the 1st', monthly('09:00'), '2026-12-01T09:00:00', '2026-12', '2026-12-01T09:00:00'],
    ['monthly before it starts is last month', monthly('09:00'), '2026-12-01T08:00:00', '2026-11', '2026-11-01T09:00:00'],
    ['monthly in January before it starts is last December', monthly('09:00'), '2027-01-01T08:00:00', '2026-12', '2026-12-01T09:00:00'],
    ['quarterly', quarterly('09:00'), '2026-11-30T10:00:00', '2026-Q4', '2026-10-01T09:00:00'],
    ['quarterly before Q1 starts', quarterly('09:00'), '2027-01-01T08:00:00', '2026-Q4', '2026-10-01T09:00:00'],
  ])('%s', (_name, schedule, now, id, start) => {
    expect(schedule.latest(at(now))).toEqual({ id, start: at(start) });
  });

  it('a monthly slot may start on a chosen day, e.g. the first working day', () => {
    const s = monthly('09:00', (y, m) => (m === 10 ? `${y}-10-08` : `${y}-${String(m).padStart(2, '0')}-01`));
    expect(s.latest(at('2026-10-05T12:00:00'))?.id).toBe('2026-09');
    expect(s.latest(at('2026-10-08T09:00:00'))).toEqual({ id: '2026-10', start: at('2026-10-08T09:00:00') });
  });

  it('previous walks back one slot', () => {
    const d = daily('09:00');
    expect(d.previous(d.latest(at('2026-03-01T10:00:00'))!).id).toBe('2026-02-28');
    const q = quarterly('09:00');
    expect(q.previous(q.latest(at('2026-02-01T10:00:00'))!).id).toBe('2025-Q4');
    const h = hourly();
    expect(h.previous(h.latest(at('2026-01-01T00:05:00'))!).id).toBe('2025-12-31T23');
  });

  it('dueSlots: only the latest for a new job; missed slots caught up to a bound; nothing twice', () => {
    const d = daily('09:00');
    const now = at('2026-11-30T10:00:00');
    expect(dueSlots(d, now, null, 5).map((s) => s.id)).toEqual(['2026-11-30']);
    expect(dueSlots(d, now, '2026-11-30', 5)).toEqual([]);
    expect(dueSlots(d, now, '2026-11-27', 5).map((s) => s.id)).toEqual(['2026-11-28', '2026-11-29', '2026-11-30']);
    expect(dueSlots(d, now, '2026-11-01', 2).map((s) => s.id)).toEqual(['2026-11-29', '2026-11-30']);
    expect(dueSlots(d, now, '2026-11-01').map((s) => s.id)).toEqual(['2026-11-30']);
  });

  it('refuses a malformed time', () => {
    expect(() => daily('9:00')).toThrow(/HH:MM/);
    expect(() => daily('24:00')).toThrow(/HH:MM/);
  });
});
