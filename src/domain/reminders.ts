/**
 * The reminder planner (催办): given the instant, the working-day calendar, a policy and what is
 * due, which reminders go out now. Pure and catch-up friendly: it only plans for "today" (the
 * Asia/Shanghai date of `now`), so a day missed while the service was down is not replayed, and
 * planning again the same day gives the same dedupe keys (the outbox sends each key once).
 *
 * A nominal due date that is not a working day moves to the next working day (法定休假日顺延,
 * 民法典第二百零三条); counts of days before and after it are working days.
 */
import { z } from 'zod';
import type { WorkCalendar } from './calendar';
import { shanghaiDateTime } from './time';

export interface ReminderPolicy {
  /** Working days before the (effective) due date on which assignees get a reminder, e.g. [3, 1]. */
  before: number[];
  /** A reminder on the due day itself. */
  onDueDay: boolean;
  /** After the due date: a reminder every N working days (1 = every working day); 0 = none. */
  overdueEvery: number;
  /**
   * Overdue working days after which the unit's heads are told too, on the assignees' overdue
   * cadence (they get the overdue reminders of days with overdueWorkdays >= this); null = never.
   * Needs overdueEvery > 0.
   */
  escalateToHeadAfter: number | null;
  /** Overdue working days after which leaders get a digest of the late ones (one message per leader per day); null = never. */
  escalateToLeaderAfter: number | null;
  /** Local time (Asia/Shanghai, 'HH:MM') from which the day's reminders go out. */
  sendFrom: string;
  /** Quiet hours, local: nothing is planned inside them, e.g. { from: '20:00', to: '08:00' } (may wrap midnight). */
  quietHours: { from: string; to: string } | null;
  /** The due-day reminder (the last one before the deadline) is sent as 加急 where the platform offers it. */
  urgentOnDueDay: boolean;
}

export const DEFAULT_REMINDER_POLICY: ReminderPolicy = Object.freeze({
  before: Object.freeze([3, 1]) as number[],
  onDueDay: true,
  overdueEvery: 1,
  escalateToHeadAfter: 3,
  escalateToLeaderAfter: 5,
  sendFrom: '09:00',
  quietHours: Object.freeze({ from: '20:00', to: '08:00' }),
  urgentOnDueDay: true,
});

const HHMM_RE = /^([01]\d|2[0-3]):([0-5]\d)$/;
// Messages are Chinese: the CLI (`reminders policy`) shows them to the evaluation office as they are.
const hhmm = z.string({ error: '须为当地时间 "HH:MM"，如 "09:00"' }).regex(HHMM_RE, '须为当地时间 "HH:MM"（00:00–23:59），如 "09:00"');
const workdayCount = (nullable: boolean) =>
  z.int({ error: nullable ? '须为工作日数（1–250 的整数），或 null 表示不启用' : '须为工作日数（1–250 的整数）' }).min(1, '须至少为 1 个工作日').max(250, '须不超过 250 个工作日');
const yesNo = z.boolean({ error: '须为 true 或 false' });

const QuietHoursSchema = z
  .strictObject({ from: hhmm, to: hhmm }, { error: (i) => (i.code === 'unrecognized_keys' ? `只能写 from 和 to，不认识 ${i.keys.join('、')}` : '须为 {"from":"20:00","to":"08:00"} 这样的时段，或 null 表示不设免打扰') })
  .refine((q) => q.from !== q.to, { message: '开始和结束时间不能相同（不设免打扰请写 null）', path: ['to'] });

/** What each setting is called in Chinese, for the messages. */
const POLICY_LABELS: Record<keyof ReminderPolicy, string> = {
  before: '截止前提醒',
  onDueDay: '截止当天提醒',
  overdueEvery: '逾期提醒间隔',
  escalateToHeadAfter: '通知单位负责人',
  escalateToLeaderAfter: '报领导汇总',
  sendFrom: '每日发送时间',
  quietHours: '免打扰时段',
  urgentOnDueDay: '截止当天加急',
};

/** A partial override of a reminder policy (e.g. a campaign's settings); unknown keys are refused. */
export const ReminderPolicySchema = z.strictObject(
  {
    before: z
      .array(workdayCount(false), { error: '须为截止前第几个工作日的列表，如 [3,1]' })
      .refine((xs) => new Set(xs).size === xs.length, '各项不能重复')
      .optional(),
    onDueDay: yesNo.optional(),
    overdueEvery: z.int({ error: '须为整数（每几个工作日提醒一次，0 为不再提醒）' }).min(0, '须为 0（不再提醒）或更大').max(250, '须不超过 250').optional(),
    escalateToHeadAfter: workdayCount(true).nullable().optional(),
    escalateToLeaderAfter: workdayCount(true).nullable().optional(),
    sendFrom: hhmm.optional(),
    quietHours: QuietHoursSchema.nullable().optional(),
    urgentOnDueDay: yesNo.optional(),
  },
  {
    error: (i) => (i.code === 'unrecognized_keys'
      ? `不认识的设置项 ${i.keys.join('、')}；可用的有 ${Object.keys(POLICY_LABELS).join('、')}`
      : '须为 JSON 对象，如 {"before":[3,1]}'),
  },
);
export type ReminderPolicyOverride = z.infer<typeof ReminderPolicySchema>;

/** A policy that does not validate; `issues` are "path（名称）：说明" lines, in Chinese. */
export class ReminderPolicyError extends Error {
  constructor(readonly issues: string[]) {
    super(`提醒策略无效：${issues.join('；')}`);
    this.name = 'ReminderPolicyError';
  }
}

const minutesOf = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));

function inQuiet(minute: number, quiet: ReminderPolicy['quietHours']): boolean {
  if (!quiet) return false;
  const from = minutesOf(quiet.from);
  const to = minutesOf(quiet.to);
  if (from === to) return false;
  return from < to ? minute >= from && minute < to : minute >= from || minute < to;
}

/** Whether reminders may go out at this local minute of a working day. */
function sendable(minute: number, policy: ReminderPolicy): boolean {
  return minute >= minutesOf(policy.sendFrom) && !inQuiet(minute, policy.quietHours);
}

/** "before.1（截止前提醒）：须至少为 1 个工作日": the JSON path to fix, the setting's name, what is wrong. */
function issueLine(path: readonly PropertyKey[], message: string): string {
  if (path.length === 0) return `提醒策略：${message}`;
  const label = POLICY_LABELS[String(path[0]) as keyof ReminderPolicy];
  return `${path.map(String).join('.')}${label ? `（${label}）` : ''}：${message}`;
}

function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => issueLine(i.path, i.message));
}

/**
 * The base policy with the override's fields in their place. Throws a ReminderPolicyError
 * naming the path when the override (or the merged whole) is not valid, e.g. when sendFrom
 * leaves no minute outside quiet hours, or heads are escalated with overdueEvery 0.
 */
export function mergePolicy(base: ReminderPolicy, override: unknown): ReminderPolicy {
  const parsed = ReminderPolicySchema.safeParse(override ?? {});
  if (!parsed.success) throw new ReminderPolicyError(formatIssues(parsed.error));
  const o = parsed.data;
  const merged: ReminderPolicy = {
    before: [...(o.before ?? base.before)],
    onDueDay: o.onDueDay ?? base.onDueDay,
    overdueEvery: o.overdueEvery ?? base.overdueEvery,
    escalateToHeadAfter: o.escalateToHeadAfter === undefined ? base.escalateToHeadAfter : o.escalateToHeadAfter,
    escalateToLeaderAfter: o.escalateToLeaderAfter === undefined ? base.escalateToLeaderAfter : o.escalateToLeaderAfter,
    sendFrom: o.sendFrom ?? base.sendFrom,
    quietHours: o.quietHours === undefined ? (base.quietHours ? { ...base.quietHours } : null) : o.quietHours,
    urgentOnDueDay: o.urgentOnDueDay ?? base.urgentOnDueDay,
  };
  // The merged whole: every field present and valid, and the fields agree with each other.
  const whole = ReminderPolicySchema.required().safeParse(merged);
  const issues = whole.success ? [] : formatIssues(whole.error);
  if (whole.success) {
    let anyMinute = false;
    for (let m = minutesOf(merged.sendFrom); m < 24 * 60 && !anyMinute; m++) anyMinute = sendable(m, merged);
    if (!anyMinute) issues.push(issueLine(['sendFrom'], `从 ${merged.sendFrom} 到午夜都在免打扰时段内，提醒永远发不出去`));
    if (merged.escalateToHeadAfter !== null && merged.overdueEvery === 0) {
      issues.push(issueLine(['escalateToHeadAfter'], '单位负责人随逾期提醒一起通知，需要 overdueEvery 大于 0（或把 escalateToHeadAfter 设为 null）'));
    }
  }
  if (issues.length) throw new ReminderPolicyError(issues);
  return merged;
}

export interface ReminderTarget {
  /** Stable key of what is due, e.g. "stage:12:self_evaluation:unit:5" or "ledger:7:2026-11". */
  key: string;
  title: string;
  unitId: number;
  unitName: string;
  group: string;
  /** The nominal due date 'YYYY-MM-DD'; when it is not a working day the effective due date is the next working day (法定休假日顺延, 民法典第二百零三条). */
  dueDate: string;
  done: boolean;
  /** Person ids who must act (fillers). */
  assignees: number[];
  /** The unit's heads. */
  heads: number[];
}

export interface LateItem {
  targetKey: string;
  unitId: number;
  unitName: string;
  group: string;
  title: string;
  effectiveDue: string;
  overdueWorkdays: number;
}

export type PlannedReminder =
  | {
      kind: 'before' | 'due' | 'overdue';
      dedupeKey: string;
      personId: number;
      targetKey: string;
      unitId: number;
      title: string;
      effectiveDue: string;
      workdaysLeft: number;
      overdueWorkdays: number;
      urgent: boolean;
      toHead: boolean;
    }
  | { kind: 'leader-digest'; dedupeKey: string; personId: number; date: string; late: LateItem[] };

/** Today's local date and minute of `now`, in Asia/Shanghai. */
function localNow(now: number): { date: string; minute: number } {
  if (!Number.isFinite(now)) throw new RangeError(`now must be an epoch in milliseconds, got ${now}`);
  const text = shanghaiDateTime(now); // yyyy-MM-dd HH:mm
  return { date: text.slice(0, 10), minute: minutesOf(text.slice(11, 16)) };
}

/**
 * Per-target position relative to today, computed once per distinct due date: the effective due
 * date and `offset` = working days from today to it (> 0 before, 0 on it, < 0 overdue by -offset).
 */
function positioner(calendar: WorkCalendar, today: string) {
  const byDue = new Map<string, { effectiveDue: string; offset: number }>();
  return (dueDate: string) => {
    let p = byDue.get(dueDate);
    if (!p) {
      const effectiveDue = calendar.nextWorkday(dueDate);
      p = { effectiveDue, offset: calendar.workdaysBetween(today, effectiveDue) };
      byDue.set(dueDate, p);
    }
    return p;
  };
}

function byGroupThenUnit(a: LateItem, b: LateItem): number {
  return cmp(a.group, b.group) || a.unitId - b.unitId || cmp(a.effectiveDue, b.effectiveDue) || cmp(a.targetKey, b.targetKey);
}
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function lateItem(t: ReminderTarget, effectiveDue: string, overdueWorkdays: number): LateItem {
  return { targetKey: t.key, unitId: t.unitId, unitName: t.unitName, group: t.group, title: t.title, effectiveDue, overdueWorkdays };
}

/**
 * The targets not done whose effective due date has passed as of `now` (the due day itself is
 * not late), with the working days they are overdue (0 on a weekend right after the due day),
 * sorted by group, then unit. For the manual 催办 and the progress card.
 */
export function lateTargets(input: {
  now: number;
  calendar: WorkCalendar;
  targets: readonly ReminderTarget[];
  /** Only those overdue by at least this many working days (default 0: every late one). */
  minOverdueWorkdays?: number;
}): Array<LateItem & { target: ReminderTarget }> {
  const today = localNow(input.now).date;
  const position = positioner(input.calendar, today);
  const min = input.minOverdueWorkdays ?? 0;
  const late: Array<LateItem & { target: ReminderTarget }> = [];
  for (const t of input.targets) {
    if (t.done) continue;
    const { effectiveDue, offset } = position(t.dueDate);
    if (effectiveDue >= today || -offset < min) continue;
    late.push({ ...lateItem(t, effectiveDue, -offset), target: t });
  }
  return late.sort(byGroupThenUnit);
}

/**
 * Today's reminders (none on a non-working day, before sendFrom or inside quiet hours):
 * - assignees: `before` on the working day exactly k working days before the effective due
 *   date, for each k in policy.before; `due` on it (urgent when policy.urgentOnDueDay);
 *   `overdue` on working days d after it where d % overdueEvery === 0;
 * - heads: the same overdue reminder (toHead) once d >= escalateToHeadAfter; a person who is
 *   both assignee and head gets the assignee's one;
 * - leaders: one digest a day of every late target with d >= escalateToLeaderAfter, sorted by
 *   group then unit; none when the list is empty.
 * Done targets get nothing. Linear in the targets; calendar work is done once per due date.
 * Throws on two targets with the same key (their reminders could not be told apart).
 */
export function planReminders(input: {
  now: number;
  calendar: WorkCalendar;
  policy: ReminderPolicy;
  targets: readonly ReminderTarget[];
  leaders: readonly number[];
}): PlannedReminder[] {
  const { calendar, policy } = input;
  const { date: today, minute } = localNow(input.now);
  if (!calendar.isWorkday(today) || !sendable(minute, policy)) return [];

  const seen = new Set<string>();
  for (const t of input.targets) {
    if (seen.has(t.key)) throw new Error(`two reminder targets share the key ${JSON.stringify(t.key)}`);
    seen.add(t.key);
  }

  const position = positioner(calendar, today);
  const before = new Set(policy.before);
  const { overdueEvery, escalateToHeadAfter: headAfter, escalateToLeaderAfter: leaderAfter } = policy;
  const out: PlannedReminder[] = [];
  const late: LateItem[] = [];

  for (const t of input.targets) {
    if (t.done) continue;
    const { effectiveDue, offset } = position(t.dueDate);
    const overdue = offset < 0 ? -offset : 0;
    let kind: 'before' | 'due' | 'overdue' | null = null;
    if (offset > 0) kind = before.has(offset) ? 'before' : null;
    else if (offset === 0) kind = policy.onDueDay ? 'due' : null;
    else kind = overdueEvery > 0 && overdue % overdueEvery === 0 ? 'overdue' : null;
    if (leaderAfter !== null && overdue >= leaderAfter) late.push(lateItem(t, effectiveDue, overdue));
    if (kind === null) continue;

    const k = kind;
    const urgent = k === 'due' && policy.urgentOnDueDay;
    const told = new Set<number>();
    const tell = (personId: number, toHead: boolean) => {
      if (told.has(personId)) return;
      told.add(personId);
      out.push({
        kind: k,
        dedupeKey: `remind:${k}:${t.key}:${personId}:${today}`,
        personId,
        targetKey: t.key,
        unitId: t.unitId,
        title: t.title,
        effectiveDue,
        workdaysLeft: offset > 0 ? offset : 0,
        overdueWorkdays: overdue,
        urgent,
        toHead,
      });
    };
    for (const p of t.assignees) tell(p, false);
    if (k === 'overdue' && headAfter !== null && overdue >= headAfter) for (const p of t.heads) tell(p, true);
  }

  if (late.length) {
    late.sort(byGroupThenUnit);
    const told = new Set<number>();
    for (const personId of input.leaders) {
      if (told.has(personId)) continue;
      told.add(personId);
      out.push({ kind: 'leader-digest', dedupeKey: `remind:leader-digest:${personId}:${today}`, personId, date: today, late: late.slice() });
    }
  }
  return out;
}
