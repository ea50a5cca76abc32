/**
 * 月小结 and 季大结: on the first working day of a month (quarter) at 09:00, the evaluators and
 * leaders get a summary of the work that fell due in the month (quarter) before: completion by
 * group, a chart, and the late units. One card per person and period (the outbox key says so),
 * so a re-run or a second instance sends nothing twice; a month missed while the service was
 * down is sent when it comes back.
 */
import { buildSummaryCard, type SummarySection } from '../../cards/summary.card';
import type { WorkCalendar } from '../domain/calendar';
import { lateTargets, type ReminderTarget } from '../domain/reminders';
import { monthly, quarterly } from '../domain/schedule';
import type { Deps } from '../deps';
import { enqueue } from '../store/outbox.repo';
import { campaignPeople, stageTargets } from '../store/reminders.repo';
import { writeTransaction } from '../store/serialize';
import type { Job } from './tick';

export interface Period {
  readonly kind: 'month' | 'quarter';
  /** The slot id of the period summarised: "2026-11" or "2026-Q4". */
  readonly id: string;
  readonly label: string;
  /** First and last local dates of the period. */
  readonly from: string;
  readonly to: string;
}

export type SectionSource = (deps: Deps, period: Period, ctx: { now: number; calendar: WorkCalendar }) => Promise<SummarySection[]>;

const pad = (n: number) => String(n).padStart(2, '0');
const QUARTER_ZH = ['第一季度', '第二季度', '第三季度', '第四季度'];

/** The month or quarter before the one a slot belongs to. */
export function periodBefore(kind: 'month' | 'quarter', slotId: string): Period {
  const y = Number(slotId.slice(0, 4));
  const firstMonth = kind === 'month' ? Number(slotId.slice(5, 7)) : (Number(slotId.slice(6)) - 1) * 3 + 1;
  const months = kind === 'month' ? 1 : 3;
  const start = new Date(Date.UTC(y, firstMonth - 1 - months, 1));
  const end = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + months, 0));
  const sy = start.getUTCFullYear();
  const sm = start.getUTCMonth() + 1;
  const from = `${sy}-${pad(sm)}-01`;
  const to = `${end.getUTCFullYear()}-${pad(end.getUTCMonth() + 1)}-${pad(end.getUTCDate())}`;
  return kind === 'month'
    ? { kind, id: `${sy}-${pad(sm)}`, label: `${sy}年${sm}月`, from, to }
    : { kind, id: `${sy}-Q${(sm - 1) / 3 + 1}`, label: `${sy}年${QUARTER_ZH[(sm - 1) / 3]}`, from, to };
}

/** Builds one section from targets due in the period (done, late, by group, late units). */
export function sectionOf(title: string, targets: readonly ReminderTarget[], now: number, calendar: WorkCalendar): SummarySection {
  const late = lateTargets({ now, calendar, targets });
  const lateKeys = new Set(late.map((l) => l.targetKey));
  const groups = new Map<string, { group: string; total: number; done: number; late: number }>();
  for (const t of targets) {
    const g = groups.get(t.group) ?? { group: t.group, total: 0, done: 0, late: 0 };
    g.total++;
    if (t.done) g.done++;
    if (lateKeys.has(t.key)) g.late++;
    groups.set(t.group, g);
  }
  return {
    title,
    total: targets.length,
    done: targets.filter((t) => t.done).length,
    late: late.length,
    byGroup: [...groups.values()],
    lateUnits: late.map((l) => ({ unitName: l.unitName, group: l.group, what: `${l.title}，逾期 ${l.overdueWorkdays} 个工作日` })),
  };
}

/** Open campaign stages whose deadline fell in the period, one section per campaign. */
export const stageSections: SectionSource = async (deps, period, { now, calendar }) => {
  const targets = (await stageTargets(deps.db)).filter((t) => t.dueDate >= period.from && t.dueDate <= period.to);
  const byTitle = new Map<string, ReminderTarget[]>();
  for (const t of targets) byTitle.set(t.title, [...(byTitle.get(t.title) ?? []), t]);
  return [...byTitle].map(([title, ts]) => sectionOf(title, ts, now, calendar));
};

export async function sendSummary(deps: Deps, period: Period, sources: readonly SectionSource[], calendar: WorkCalendar, now: number) {
  const sections: SummarySection[] = [];
  for (const s of sources) sections.push(...(await s(deps, period, { now, calendar })));
  // Nothing fell due: no card (a quiet month is not worth a message).
  if (sections.length === 0) return { skipped: `${period.label}没有到期的填报任务` };
  const card = buildSummaryCard({ kind: period.kind, label: period.label, sections, calendarNote: calendar.describeYear(Number(period.to.slice(0, 4))) });
  const recipients = new Map<number, string>();
  for (const role of ['evaluator', 'leader'] as const) for (const p of await campaignPeople(deps.db, role, null)) recipients.set(p.id, p.name);
  const messages = [...recipients.keys()].map((personId) => ({ dedupeKey: `summary:${period.id}:${personId}`, kind: 'send' as const, personId, subject: `summary:${period.id}`, card }));
  await writeTransaction(deps.db, (tx) => enqueue(tx, messages, now));
  return { period: period.id, sections: sections.length, recipients: messages.length };
}

export function summaryJobs(calendar: WorkCalendar, sources: readonly SectionSource[]): Job[] {
  const firstWorkday = (y: number, m: number) => calendar.nextWorkday(`${y}-${pad(m)}-01`);
  return [
    { name: 'summary-month', schedule: monthly('09:00', firstWorkday), catchUp: 3, run: async ({ deps, slot, now }) => sendSummary(deps, periodBefore('month', slot.id), sources, calendar, now) },
    { name: 'summary-quarter', schedule: quarterly('09:00', firstWorkday), catchUp: 2, run: async ({ deps, slot, now }) => sendSummary(deps, periodBefore('quarter', slot.id), sources, calendar, now) },
  ];
}
