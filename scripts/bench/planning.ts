/**
 * planning: the pure work of a reminder tick, timed (the unit tests count it instead): 200,000
 * working-day calendar queries, and planning 10,000 deadlines over 30 due dates with the default
 * policy. `npm run bench -- planning [targets]`.
 */
import { createCalendar } from '../../src/domain/calendar';
import { DEFAULT_REMINDER_POLICY, planReminders, type ReminderTarget } from '../../src/domain/reminders';

const at = (s: string) => Date.parse(`${s}+08:00`);
const DAY = 86_400_000;

export async function run(args: string[]) {
  const targetCount = Number(args[0] ?? 10_000);

  // A fresh calendar, so its per-year tables are built inside the timing.
  const calendar = createCalendar();
  const c0 = performance.now();
  let n = 0;
  for (let i = 0; i < 50_000; i++) {
    if (calendar.isWorkday('2026-10-10')) n++;
    n += calendar.workdaysBetween('2026-03-02', '2026-11-25');
    calendar.nextWorkday('2026-10-01');
    calendar.addWorkdays('2026-10-08', -3);
  }
  const calendarSeconds = (performance.now() - c0) / 1000;

  const dueDates = Array.from({ length: 30 }, (_, i) => new Date(Date.UTC(2026, 8, 20) + i * DAY).toISOString().slice(0, 10));
  const targets: ReminderTarget[] = Array.from({ length: targetCount }, (_, i) => ({
    key: `stage:1:self_evaluation:unit:${i}`, title: '单位自评', unitId: i, unitName: `单位${i}`, group: `组${i % 7}`,
    dueDate: dueDates[i % 30]!, done: false, assignees: [i * 2, i * 2 + 1], heads: [50_000 + i],
  }));
  const p0 = performance.now();
  const planned = planReminders({ now: at('2026-10-20T10:00:00'), calendar: createCalendar(), policy: DEFAULT_REMINDER_POLICY, targets, leaders: [1, 2, 3] });
  const planSeconds = (performance.now() - p0) / 1000;

  console.error(`200,000 calendar queries (checksum ${n}): ${calendarSeconds.toFixed(3)} s; ${targetCount} targets planned into ${planned.length} reminders: ${planSeconds.toFixed(3)} s`);
  return { calendar_queries: 200_000, calendar_seconds: Number(calendarSeconds.toFixed(3)), targets: targetCount, planned: planned.length, plan_seconds: Number(planSeconds.toFixed(3)) };
}
