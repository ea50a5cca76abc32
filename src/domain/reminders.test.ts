import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import data from 'chinese-days/dist/chinese-days.json' with { type: 'json' };
import { createCalendar, type WorkCalendar } from './calendar';
import {
  DEFAULT_REMINDER_POLICY,
  ReminderPolicyError,
  lateTargets,
  mergePolicy,
  planReminders,
  type PlannedReminder,
  type ReminderPolicy,
  type ReminderTarget,
} from './reminders';

const calendar = createCalendar();

/** An independent oracle for "is a working day", straight from the JSON. */
function oracleIsWorkday(date: string): boolean {
  if (date in (data.workdays as Record<string, string>)) return true;
  if (date in (data.holidays as Record<string, string>)) return false;
  const dow = new Date(`${date}T00:00:00Z`).getUTCDay();
  return dow !== 0 && dow !== 6;
}

/** The instant of a local Asia/Shanghai date and time. */
const at = (date: string, time = '10:00') => Date.parse(`${date}T${time}:00+08:00`);
const DAY = 86_400_000;
function dates(from: string, to: string): string[] {
  const out: string[] = [];
  for (let ms = Date.parse(`${from}T00:00:00Z`); ms <= Date.parse(`${to}T00:00:00Z`); ms += DAY) out.push(new Date(ms).toISOString().slice(0, 10));
  return out;
}

const target = (over: Partial<ReminderTarget> = {}): ReminderTarget => ({
  key: 'ledger:7:2026-09',
  title: '9月隐患排查台账',
  unitId: 5,
  unitName: '县教育局',
  group: '教育类',
  dueDate: '2026-10-03', // a Saturday inside 国庆: effective due date 2026-10-08
  done: false,
  assignees: [101, 102],
  heads: [201],
  ...over,
});

const plan = (now: number, targets: ReminderTarget[], policy: ReminderPolicy = DEFAULT_REMINDER_POLICY, leaders = [901, 902]) =>
  planReminders({ now, calendar, policy, targets, leaders });

/** A compact, comparable view of one reminder. */
function brief(r: PlannedReminder): string {
  if (r.kind === 'leader-digest') return `digest→${r.personId} [${r.late.map((l) => `${l.targetKey}+${l.overdueWorkdays}`).join(', ')}]`;
  return `${r.kind}→${r.personId}${r.toHead ? ' head' : ''}${r.urgent ? ' urgent' : ''} left=${r.workdaysLeft} over=${r.overdueWorkdays}`;
}

describe('a month of one target due on a holiday (2026-10-03 → effective 2026-10-08)', () => {
  const assignees = (what: string) => [`${what.replace('#', '101')}`, `${what.replace('#', '102')}`];
  const overdue = (d: number, head: boolean, digest: boolean) => [
    ...assignees(`overdue→# left=0 over=${d}`),
    ...(head ? [`overdue→201 head left=0 over=${d}`] : []),
    ...(digest ? [`digest→901 [ledger:7:2026-09+${d}]`, `digest→902 [ledger:7:2026-09+${d}]`] : []),
  ];
  // Worked out by hand from the 2026 arrangement (国庆 10-01..10-07, 调休 09-20 and 10-10).
  const expected: Record<string, string[]> = {
    '2026-09-28': assignees('before→# left=3 over=0'),
    '2026-09-30': assignees('before→# left=1 over=0'),
    '2026-10-08': assignees('due→# urgent left=0 over=0'),
    '2026-10-09': overdue(1, false, false),
    '2026-10-10': overdue(2, false, false), // the 调休 Saturday is a working day
    '2026-10-12': overdue(3, true, false), // heads from 3 overdue working days
    '2026-10-13': overdue(4, true, false),
    '2026-10-14': overdue(5, true, true), // leaders from 5
    '2026-10-15': overdue(6, true, true),
    '2026-10-16': overdue(7, true, true),
    '2026-10-19': overdue(8, true, true),
    '2026-10-20': overdue(9, true, true),
    '2026-10-21': overdue(10, true, true),
    // done on 2026-10-22: nothing afterwards
  };

  it('plans exactly the expected reminders, day by day, hour by hour', () => {
    for (const date of dates('2026-09-15', '2026-10-31')) {
      const t = target({ done: date >= '2026-10-22' });
      for (let hour = 0; hour < 24; hour++) {
        const got = plan(at(date, `${String(hour).padStart(2, '0')}:30`), [t]).map(brief);
        // Sent from 09:00; quiet from 20:00 to 08:00.
        const want = hour >= 9 && hour < 20 ? (expected[date] ?? []) : [];
        expect({ date, hour, got }).toEqual({ date, hour, got: want });
      }
    }
  });

  it('is silent on weekends and holidays, even when the target is late', () => {
    for (const date of ['2026-10-01', '2026-10-07', '2026-10-11', '2026-10-17', '2026-10-18']) {
      expect(plan(at(date), [target()])).toEqual([]);
    }
  });

  it('switches on exactly at sendFrom and off exactly at the start of quiet hours', () => {
    const t = [target()];
    expect(plan(at('2026-10-08', '08:59'), t)).toEqual([]);
    expect(plan(at('2026-10-08', '09:00'), t)).toHaveLength(2);
    expect(plan(at('2026-10-08', '19:59'), t)).toHaveLength(2);
    expect(plan(at('2026-10-08', '20:00'), t)).toEqual([]);
    expect(plan(at('2026-10-08', '23:59'), t)).toEqual([]);
  });

  it('marks only the due-day reminder urgent, and not when the policy says no', () => {
    const urgent = dates('2026-09-15', '2026-10-21').flatMap((d) => plan(at(d), [target()])).filter((r) => r.kind !== 'leader-digest' && r.urgent);
    expect(urgent.map((r) => r.kind === 'leader-digest' || `${r.kind} ${r.effectiveDue} ${r.dedupeKey.slice(-10)}`)).toEqual([
      'due 2026-10-08 2026-10-08',
      'due 2026-10-08 2026-10-08',
    ]);
    const calm = plan(at('2026-10-08'), [target()], { ...DEFAULT_REMINDER_POLICY, urgentOnDueDay: false });
    expect(calm.map(brief)).toEqual(['due→101 left=0 over=0', 'due→102 left=0 over=0']);
  });

  it('gives a done target nothing at all', () => {
    for (const date of dates('2026-09-15', '2026-10-31')) expect(plan(at(date), [target({ done: true })])).toEqual([]);
  });

  it('gives the same keys when planned twice in a day, and new ones the next day', () => {
    const morning = plan(at('2026-10-14', '09:05'), [target()]);
    const evening = plan(at('2026-10-14', '19:40'), [target()]);
    expect(evening).toEqual(morning);
    expect(morning.map((r) => r.dedupeKey)).toEqual([
      'remind:overdue:ledger:7:2026-09:101:2026-10-14',
      'remind:overdue:ledger:7:2026-09:102:2026-10-14',
      'remind:overdue:ledger:7:2026-09:201:2026-10-14',
      'remind:leader-digest:901:2026-10-14',
      'remind:leader-digest:902:2026-10-14',
    ]);
    const next = plan(at('2026-10-15'), [target()]).map((r) => r.dedupeKey);
    expect(next.filter((k) => morning.some((r) => r.dedupeKey === k))).toEqual([]);
  });

  it('carries the target, the unit and the effective due date on every reminder', () => {
    const [first] = plan(at('2026-09-28'), [target()]);
    expect(first).toEqual({
      kind: 'before',
      dedupeKey: 'remind:before:ledger:7:2026-09:101:2026-09-28',
      personId: 101,
      targetKey: 'ledger:7:2026-09',
      unitId: 5,
      title: '9月隐患排查台账',
      effectiveDue: '2026-10-08',
      workdaysLeft: 3,
      overdueWorkdays: 0,
      urgent: false,
      toHead: false,
    });
  });
});

describe('policy variations', () => {
  it('overdue every 2 working days, heads after 3 join on that cadence, no due-day reminder', () => {
    const policy: ReminderPolicy = { ...DEFAULT_REMINDER_POLICY, before: [2], onDueDay: false, overdueEvery: 2, escalateToLeaderAfter: null };
    const got = dates('2026-09-25', '2026-10-16').flatMap((d) => plan(at(d), [target({ assignees: [101] })], policy).map((r) => `${d} ${brief(r)}`));
    expect(got).toEqual([
      '2026-09-29 before→101 left=2 over=0',
      '2026-10-10 overdue→101 left=0 over=2',
      '2026-10-13 overdue→101 left=0 over=4',
      '2026-10-13 overdue→201 head left=0 over=4',
      '2026-10-15 overdue→101 left=0 over=6',
      '2026-10-15 overdue→201 head left=0 over=6',
    ]);
  });

  it('a due date that is already a working day stays put; a 调休 Sunday can be one', () => {
    const got = plan(at('2026-09-20'), [target({ dueDate: '2026-09-20' })]).map(brief);
    expect(got).toEqual(['due→101 urgent left=0 over=0', 'due→102 urgent left=0 over=0']);
  });

  it('a person who is both filler and head gets one reminder, as the filler; duplicates collapse', () => {
    const got = plan(at('2026-10-14'), [target({ assignees: [101, 101, 201], heads: [201, 202, 202] })], DEFAULT_REMINDER_POLICY, [901, 901]).map(brief);
    expect(got).toEqual([
      'overdue→101 left=0 over=5',
      'overdue→201 left=0 over=5',
      'overdue→202 head left=0 over=5',
      'digest→901 [ledger:7:2026-09+5]',
    ]);
  });

  it('quiet hours inside the day and wrapping midnight', () => {
    const lunch = { ...DEFAULT_REMINDER_POLICY, sendFrom: '08:30', quietHours: { from: '12:00', to: '14:00' } };
    const when = (policy: ReminderPolicy) =>
      ['07:00', '08:29', '08:30', '11:59', '12:00', '13:59', '14:00', '23:59'].filter((t) => plan(at('2026-10-08', t), [target()], policy).length > 0);
    expect(when(lunch)).toEqual(['08:30', '11:59', '14:00', '23:59']);
    expect(when({ ...DEFAULT_REMINDER_POLICY, sendFrom: '00:00', quietHours: { from: '22:00', to: '07:00' } })).toEqual(['07:00', '08:29', '08:30', '11:59', '12:00', '13:59', '14:00']);
    expect(when({ ...DEFAULT_REMINDER_POLICY, sendFrom: '00:00', quietHours: null })).toEqual(['07:00', '08:29', '08:30', '11:59', '12:00', '13:59', '14:00', '23:59']);
  });

  it('refuses two targets with the same key', () => {
    expect(() => plan(at('2026-10-08'), [target(), target({ unitId: 6 })])).toThrow(/share the key/);
  });
});

describe('leader digest', () => {
  const targets: ReminderTarget[] = [
    target({ key: 'stage:3:self_evaluation:unit:12', title: '单位自评', unitId: 12, unitName: '县卫健委', group: '卫生类', dueDate: '2026-09-30' }),
    target({ key: 'stage:3:self_evaluation:unit:4', title: '单位自评', unitId: 4, unitName: '县人民医院', group: '卫生类', dueDate: '2026-09-30' }),
    target({ key: 'ledger:7:2026-09:unit:9', title: '9月隐患排查台账', unitId: 9, unitName: '第一中学', group: '教育类', dueDate: '2026-10-03' }),
    target({ key: 'ledger:7:2026-09:unit:2', title: '9月隐患排查台账', unitId: 2, unitName: '县教育局', group: '教育类', dueDate: '2026-10-03' }),
    // late, but not yet 5 working days on 2026-10-14
    target({ key: 'ledger:8:2026-10:unit:2', title: '10月台账', unitId: 2, unitName: '县教育局', group: '教育类', dueDate: '2026-10-09' }),
    // done: never listed
    target({ key: 'stage:3:self_evaluation:unit:1', title: '单位自评', unitId: 1, unitName: '县档案馆', group: '公益一类', dueDate: '2026-09-30', done: true }),
    // not due yet
    target({ key: 'stage:3:self_evaluation:unit:30', title: '单位自评', unitId: 30, unitName: '县图书馆', group: '公益一类', dueDate: '2026-11-30' }),
  ];

  it('sends each leader one message a day listing every unit late enough, by group then unit', () => {
    const digests = plan(at('2026-10-14'), targets).filter((r) => r.kind === 'leader-digest');
    expect(digests.map((d) => [d.personId, d.dedupeKey])).toEqual([
      [901, 'remind:leader-digest:901:2026-10-14'],
      [902, 'remind:leader-digest:902:2026-10-14'],
    ]);
    const late = digests[0]!.kind === 'leader-digest' ? digests[0]!.late : [];
    expect(late).toEqual([
      // '卫生类' < '教育类' by code point (卫 U+536B, 教 U+6559)
      { targetKey: 'stage:3:self_evaluation:unit:4', unitId: 4, unitName: '县人民医院', group: '卫生类', title: '单位自评', effectiveDue: '2026-09-30', overdueWorkdays: 6 },
      { targetKey: 'stage:3:self_evaluation:unit:12', unitId: 12, unitName: '县卫健委', group: '卫生类', title: '单位自评', effectiveDue: '2026-09-30', overdueWorkdays: 6 },
      { targetKey: 'ledger:7:2026-09:unit:2', unitId: 2, unitName: '县教育局', group: '教育类', title: '9月隐患排查台账', effectiveDue: '2026-10-08', overdueWorkdays: 5 },
      { targetKey: 'ledger:7:2026-09:unit:9', unitId: 9, unitName: '第一中学', group: '教育类', title: '9月隐患排查台账', effectiveDue: '2026-10-08', overdueWorkdays: 5 },
    ]);
  });

  it('sends no digest while nothing is late enough, and none with no leaders', () => {
    // 2026-10-12: the 09-30 ones are 4 working days late, the 10-08 ones 3.
    const monday = plan(at('2026-10-12'), targets);
    expect(monday.filter((r) => r.kind !== 'leader-digest' && r.overdueWorkdays === 4)).not.toHaveLength(0);
    expect(monday.filter((r) => r.kind === 'leader-digest')).toEqual([]);
    expect(plan(at('2026-10-14'), targets, DEFAULT_REMINDER_POLICY, []).some((r) => r.kind === 'leader-digest')).toBe(false);
    expect(plan(at('2026-10-14'), targets, { ...DEFAULT_REMINDER_POLICY, escalateToLeaderAfter: null }).some((r) => r.kind === 'leader-digest')).toBe(false);
  });
});

describe('lateTargets', () => {
  const targets = [
    target({ key: 'a', dueDate: '2026-10-03', unitId: 2 }), // effective 10-08
    target({ key: 'b', dueDate: '2026-10-09', unitId: 1 }),
    target({ key: 'c', dueDate: '2026-10-11', unitId: 3 }), // Sunday → effective 10-12: not late on 10-11
    target({ key: 'd', dueDate: '2026-09-30', unitId: 4, done: true }),
    target({ key: 'e', dueDate: '2026-10-09', unitId: 5, group: '卫生类' }),
  ];

  it('lists the undone targets past their effective due date, on any day, with overdue working days', () => {
    // Sunday 10-11: 10-09 and 10-10 (调休) have passed since 10-08.
    const got = lateTargets({ now: at('2026-10-11', '23:00'), calendar, targets });
    expect(got.map((l) => [l.targetKey, l.effectiveDue, l.overdueWorkdays, l.target.key])).toEqual([
      ['e', '2026-10-09', 1, 'e'],
      ['b', '2026-10-09', 1, 'b'],
      ['a', '2026-10-08', 2, 'a'],
    ]);
  });

  it('does not count the due day itself, counts a weekend right after it with 0 working days, and filters by a minimum', () => {
    expect(lateTargets({ now: at('2026-10-08', '23:59'), calendar, targets: [targets[0]!] })).toEqual([]);
    expect(lateTargets({ now: at('2026-10-09', '00:00'), calendar, targets: [targets[0]!] }).map((l) => l.overdueWorkdays)).toEqual([1]);
    const fri = target({ key: 'f', dueDate: '2026-10-16' });
    expect(lateTargets({ now: at('2026-10-17'), calendar, targets: [fri] }).map((l) => l.overdueWorkdays)).toEqual([0]);
    expect(lateTargets({ now: at('2026-10-11'), calendar, targets, minOverdueWorkdays: 2 }).map((l) => l.targetKey)).toEqual(['a']);
  });
});

describe('mergePolicy', () => {
  it('replaces only the given fields', () => {
    const merged = mergePolicy(DEFAULT_REMINDER_POLICY, { before: [5, 2, 1], escalateToLeaderAfter: null, quietHours: null });
    expect(merged).toEqual({ ...DEFAULT_REMINDER_POLICY, before: [5, 2, 1], escalateToLeaderAfter: null, quietHours: null });
    expect(mergePolicy(DEFAULT_REMINDER_POLICY, undefined)).toEqual(DEFAULT_REMINDER_POLICY);
    expect(DEFAULT_REMINDER_POLICY).toEqual({
      before: [3, 1],
      onDueDay: true,
      overdueEvery: 1,
      escalateToHeadAfter: 3,
      escalateToLeaderAfter: 5,
      sendFrom: '09:00',
      quietHours: { from: '20:00', to: '08:00' },
      urgentOnDueDay: true,
    });
  });

  const issues = (override: unknown): string[] => {
    try {
      mergePolicy(DEFAULT_REMINDER_POLICY, override);
    } catch (e) {
      if (e instanceof ReminderPolicyError) return e.issues;
      throw e;
    }
    return [];
  };

  it.each([
    [{ before: [3, 0] }, 'before.1（截止前提醒）：须至少为 1 个工作日'],
    [{ before: [1, 1] }, 'before（截止前提醒）：各项不能重复'],
    [{ before: [1.5] }, 'before.0（截止前提醒）：须为工作日数（1–250 的整数）'],
    [{ before: '3' }, 'before（截止前提醒）：须为截止前第几个工作日的列表，如 [3,1]'],
    [{ onDueDay: 1 }, 'onDueDay（截止当天提醒）：须为 true 或 false'],
    [{ overdueEvery: -1 }, 'overdueEvery（逾期提醒间隔）：须为 0（不再提醒）或更大'],
    [{ sendFrom: '9:00' }, 'sendFrom（每日发送时间）：须为当地时间 "HH:MM"（00:00–23:59），如 "09:00"'],
    [{ sendFrom: '24:00' }, 'sendFrom（每日发送时间）：须为当地时间 "HH:MM"（00:00–23:59），如 "09:00"'],
    [{ quietHours: { from: '20:00', to: '20:00' } }, 'quietHours.to（免打扰时段）：开始和结束时间不能相同（不设免打扰请写 null）'],
    [{ quietHours: { from: '20:00' } }, 'quietHours.to（免打扰时段）：须为当地时间 "HH:MM"，如 "09:00"'],
    [{ quietHours: 'night' }, 'quietHours（免打扰时段）：须为 {"from":"20:00","to":"08:00"} 这样的时段，或 null 表示不设免打扰'],
    [{ escalateToHeadAfter: 0 }, 'escalateToHeadAfter（通知单位负责人）：须至少为 1 个工作日'],
    [{ escalateToLeaderAfter: 'x' }, 'escalateToLeaderAfter（报领导汇总）：须为工作日数（1–250 的整数），或 null 表示不启用'],
    [{ urgent: true }, '提醒策略：不认识的设置项 urgent；可用的有 before、onDueDay、overdueEvery、escalateToHeadAfter、escalateToLeaderAfter、sendFrom、quietHours、urgentOnDueDay'],
    [{ sendFrom: '21:00' }, 'sendFrom（每日发送时间）：从 21:00 到午夜都在免打扰时段内，提醒永远发不出去'], // always inside 20:00–08:00
    [{ overdueEvery: 0 }, 'escalateToHeadAfter（通知单位负责人）：单位负责人随逾期提醒一起通知，需要 overdueEvery 大于 0（或把 escalateToHeadAfter 设为 null）'], // heads ride the overdue cadence
    ['every day', '提醒策略：须为 JSON 对象，如 {"before":[3,1]}'],
  ])('%j is refused in Chinese: %s', (override, message) => {
    expect(issues(override)).toEqual([message]);
  });

  it('accepts overdueEvery 0 once head escalation is off, and sendFrom in a quiet gap that ends', () => {
    expect(mergePolicy(DEFAULT_REMINDER_POLICY, { overdueEvery: 0, escalateToHeadAfter: null }).overdueEvery).toBe(0);
    expect(mergePolicy(DEFAULT_REMINDER_POLICY, { sendFrom: '12:30', quietHours: { from: '12:00', to: '13:00' } }).sendFrom).toBe('12:30');
  });
});

// The work is counted, not timed: the time is `npm run bench -- planning`.
describe('scale', () => {
  it('plans 10,000 targets with calendar work once per due date', () => {
    const counted = (inner: WorkCalendar) => {
      const calls = { nextWorkday: 0, workdaysBetween: 0 };
      const cal: WorkCalendar = {
        ...inner,
        nextWorkday: (d) => (calls.nextWorkday++, inner.nextWorkday(d)),
        workdaysBetween: (a, b) => (calls.workdaysBetween++, inner.workdaysBetween(a, b)),
      };
      return { cal, calls };
    };
    const { cal, calls } = counted(createCalendar());
    const dueDates = dates('2026-09-20', '2026-10-19'); // 30 distinct
    const targets = Array.from({ length: 10_000 }, (_, i) =>
      target({ key: `stage:1:self_evaluation:unit:${i}`, unitId: i, group: `组${i % 7}`, dueDate: dueDates[i % 30]!, assignees: [i * 2, i * 2 + 1], heads: [50_000 + i] }),
    );
    const out = planReminders({ now: at('2026-10-20'), calendar: cal, policy: DEFAULT_REMINDER_POLICY, targets, leaders: [1, 2, 3] });
    expect(calls).toEqual({ nextWorkday: 30, workdaysBetween: 30 });
    expect(new Set(out.map((r) => r.dedupeKey)).size).toBe(out.length);
    expect(out.filter((r) => r.kind === 'leader-digest')).toHaveLength(3);
  });
});

describe('property', () => {
  const hhmm = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
  const policyArb: fc.Arbitrary<ReminderPolicy> = fc.record({
    before: fc.uniqueArray(fc.integer({ min: 1, max: 10 }), { maxLength: 4 }),
    onDueDay: fc.boolean(),
    overdueEvery: fc.integer({ min: 0, max: 4 }),
    escalateToHeadAfter: fc.option(fc.integer({ min: 1, max: 8 }), { nil: null }),
    escalateToLeaderAfter: fc.option(fc.integer({ min: 1, max: 8 }), { nil: null }),
    sendFrom: hhmm,
    quietHours: fc.option(fc.record({ from: hhmm, to: hhmm }), { nil: null }),
    urgentOnDueDay: fc.boolean(),
  });
  const day = fc.integer({ min: Date.parse('2025-12-01'), max: Date.parse('2027-02-28') }).map((ms) => new Date(ms).toISOString().slice(0, 10));
  const person = fc.integer({ min: 1, max: 6 });
  const targetArb = fc.record({
    dueDate: day,
    done: fc.boolean(),
    assignees: fc.array(person, { maxLength: 4 }),
    heads: fc.array(person, { maxLength: 3 }),
    group: fc.constantFrom('教育类', '卫生类', '公益一类'),
  });

  it('every reminder falls on a working day, in sending hours, with unique keys and consistent counts', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.array(targetArb, { maxLength: 8 }),
        fc.integer({ min: Date.parse('2025-12-01T00:00:00+08:00'), max: Date.parse('2027-03-01T00:00:00+08:00') }),
        fc.array(person, { maxLength: 3 }),
        (policy, ts, now, leaders) => {
          const targets = ts.map((t, i) => target({ ...t, key: `t:${i}`, unitId: i }));
          const out = planReminders({ now, calendar, policy, targets, leaders });
          const today = new Date(now + 8 * 3_600_000).toISOString().slice(0, 10);
          if (out.length === 0) return;
          expect(oracleIsWorkday(today)).toBe(true);
          expect(new Set(out.map((r) => r.dedupeKey)).size).toBe(out.length);
          for (const r of out) {
            expect(r.dedupeKey.endsWith(`:${r.personId}:${today}`)).toBe(true);
            if (r.kind === 'leader-digest') {
              expect(r.late.length).toBeGreaterThan(0);
              expect(r.late.every((l) => policy.escalateToLeaderAfter !== null && l.overdueWorkdays >= policy.escalateToLeaderAfter)).toBe(true);
              continue;
            }
            const t = targets.find((x) => x.key === r.targetKey)!;
            expect(t.done).toBe(false);
            expect(oracleIsWorkday(r.effectiveDue)).toBe(true);
            expect(r.effectiveDue >= t.dueDate).toBe(true);
            expect(calendar.workdaysBetween(today, r.effectiveDue)).toBe(r.workdaysLeft - r.overdueWorkdays);
            if (r.kind === 'before') expect(policy.before).toContain(r.workdaysLeft);
            if (r.kind === 'due') expect([r.workdaysLeft, r.overdueWorkdays, policy.onDueDay]).toEqual([0, 0, true]);
            if (r.kind === 'overdue') expect(r.overdueWorkdays % policy.overdueEvery).toBe(0);
            expect(r.urgent).toBe(r.kind === 'due' && policy.urgentOnDueDay);
            expect(r.toHead ? t.heads.includes(r.personId) && !t.assignees.includes(r.personId) : t.assignees.includes(r.personId)).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
