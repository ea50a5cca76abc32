/**
 * Reminder cards (催办提醒): to the person who has to act (before the deadline, on the day,
 * when overdue), to the unit head when it stays overdue, and the leaders' daily digest of
 * late units. Pure: view data in, CardSpec out.
 */
import { actions, button, fields, md, notice, type ActionRef, type CardSpec, type Element, type HeaderColor } from './kit';

export type ReminderKind = 'before' | 'due' | 'overdue' | 'manual';

export interface ReminderView {
  readonly kind: ReminderKind;
  /** What is due, e.g. "2026年度事业单位法人履职评估 · 单位自评" or "2026年11月 月度隐患排查治理情况报告". */
  readonly title: string;
  readonly unitName: string;
  /** The effective due date, 'YYYY-MM-DD' (a holiday already moved to the next working day). */
  readonly due: string;
  readonly workdaysLeft: number;
  readonly overdueWorkdays: number;
  /** The card goes to the unit's head because the task stayed overdue. */
  readonly toHead: boolean;
  /** Who pressed 催办 (a manual reminder). */
  readonly by?: string;
  /** Opens the form the person has to fill (absent for a head, who signs off elsewhere). */
  readonly open?: ActionRef;
  /** A note about the calendar when the year's official holidays are not published yet. */
  readonly calendarNote?: string | null;
}

const dateZh = (d: string) => {
  const [y, m, day] = d.split('-').map(Number);
  return `${y}年${m}月${day}日`;
};

const COLOR: Record<ReminderKind, HeaderColor> = { before: 'blue', due: 'orange', overdue: 'red', manual: 'orange' };

export function buildReminderCard(v: ReminderView): CardSpec {
  const when =
    v.overdueWorkdays > 0 ? `已逾期 ${v.overdueWorkdays} 个工作日` : v.workdaysLeft === 0 ? '今天截止' : `还有 ${v.workdaysLeft} 个工作日截止`;
  const whenEn =
    v.overdueWorkdays > 0 ? `${v.overdueWorkdays} working day(s) overdue` : v.workdaysLeft === 0 ? 'Due today' : `Due in ${v.workdaysLeft} working day(s)`;
  const lead = v.toHead
    ? `贵单位的「${v.title}」${when}，请督促填报人员尽快完成。`
    : v.kind === 'manual'
      ? `${v.by ? `${v.by}提醒：` : ''}「${v.title}」${when}，请尽快完成。`
      : `「${v.title}」${when}，请按时完成。`;
  const elements: Element[] = [
    md(lead),
    fields([
      ['单位', v.unitName],
      ['截止日期', dateZh(v.due)],
    ]),
  ];
  if (v.calendarNote) elements.push(notice('warning', v.calendarNote));
  if (v.open) elements.push(actions(button({ label: v.toHead ? '查看' : '去填报', labelEn: v.toHead ? 'View' : 'Fill in', style: 'primary', action: v.open })));
  const title = v.toHead ? '逾期督办' : v.kind === 'manual' ? '催办' : v.overdueWorkdays > 0 ? '逾期提醒' : '截止提醒';
  const titleEn = v.toHead ? 'Overdue: please follow up' : v.kind === 'manual' ? 'Reminder' : v.overdueWorkdays > 0 ? 'Overdue' : 'Deadline reminder';
  return {
    header: { title: `${title} · ${v.title}`, titleEn: `${titleEn} · ${v.title}`, color: COLOR[v.kind], tags: [{ text: when, textEn: whenEn, color: COLOR[v.kind] }] },
    elements,
    summary: `${title}：${v.title}，${when}`,
  };
}

export interface LateItem {
  readonly unitName: string;
  readonly group: string;
  readonly title: string;
  readonly due: string;
  readonly overdueWorkdays: number;
}

/** How many late tasks a digest lists; the rest are counted (the progress card has them all). */
export const DIGEST_MAX_ROWS = 100;

/** The leaders' daily digest: the late tasks past the escalation point, most overdue first, one card. */
export function buildLeaderDigestCard(v: { readonly date: string; readonly late: readonly LateItem[] }): CardSpec {
  const units = new Set(v.late.map((l) => l.unitName)).size;
  const shown = [...v.late].sort((a, b) => b.overdueWorkdays - a.overdueWorkdays).slice(0, DIGEST_MAX_ROWS);
  const more = v.late.length - shown.length;
  return {
    header: { title: `逾期事项汇总 · ${dateZh(v.date)}`, titleEn: `Overdue tasks · ${v.date}`, color: 'red', tags: [{ text: `${units} 个单位`, textEn: `${units} unit(s)`, color: 'red' }] },
    elements: [
      md(`以下 ${v.late.length} 项工作已逾期，涉及 ${units} 个单位，已多次提醒仍未完成：`),
      {
        type: 'table',
        columns: [
          { key: 'unit', label: '单位' },
          { key: 'group', label: '组别' },
          { key: 'title', label: '事项' },
          { key: 'due', label: '截止日期' },
          { key: 'over', label: '逾期工作日', align: 'right' },
        ],
        rows: shown.map((l) => ({ unit: l.unitName, group: l.group, title: l.title, due: dateZh(l.due), over: l.overdueWorkdays })),
        pageSize: 10,
      },
      ...(more > 0 ? [md(`另有 ${more} 项未列出（按逾期时间从长到短列出前 ${DIGEST_MAX_ROWS} 项），完整名单见评估进度卡片。`)] : []),
    ],
    summary: `逾期事项汇总：${units} 个单位 ${v.late.length} 项`,
  };
}
