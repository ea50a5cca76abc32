/**
 * 月小结 / 季大结: the evaluator's and leaders' periodic summary. For each kind of work due in
 * the period (a ledger, a campaign stage): how much is done, by group, with a chart, and the
 * units that are late. Pure: view data in, CardSpec out.
 */
import { md, notice, type CardSpec, type Element } from './kit';

export interface SummarySection {
  /** e.g. "月度隐患排查治理情况报告" or "2026年度事业单位法人履职评估 · 单位自评". */
  readonly title: string;
  readonly total: number;
  readonly done: number;
  /** Not done after the (effective) due date, or done late. */
  readonly late: number;
  readonly byGroup: ReadonlyArray<{ readonly group: string; readonly total: number; readonly done: number; readonly late: number }>;
  readonly lateUnits: ReadonlyArray<{ readonly unitName: string; readonly group: string; readonly what: string }>;
}

export interface SummaryView {
  readonly kind: 'month' | 'quarter';
  /** "2026年11月" or "2026年第四季度". */
  readonly label: string;
  readonly sections: readonly SummarySection[];
  readonly calendarNote?: string | null;
}

const pct = (done: number, total: number) => (total === 0 ? '—' : `${Math.round((done / total) * 1000) / 10}%`);

export function buildSummaryCard(v: SummaryView): CardSpec {
  const name = v.kind === 'month' ? '月小结' : '季大结';
  const nameEn = v.kind === 'month' ? 'Monthly summary' : 'Quarterly summary';
  const total = v.sections.reduce((s, x) => s + x.total, 0);
  const done = v.sections.reduce((s, x) => s + x.done, 0);
  const late = v.sections.reduce((s, x) => s + x.late, 0);
  const elements: Element[] = [
    md(`${v.label}共有 **${total}** 项填报任务，已完成 **${done}** 项（${pct(done, total)}），逾期 **${late}** 项。`),
  ];
  if (v.calendarNote) elements.push(notice('warning', v.calendarNote));
  if (v.sections.length === 0) elements.push(notice('info', '本期没有到期的填报任务。'));
  for (const s of v.sections) {
    elements.push(md(`**${s.title}**：完成 ${s.done}/${s.total}（${pct(s.done, s.total)}），逾期 ${s.late}`));
    if (s.byGroup.length > 0) {
      elements.push({
        type: 'chart', kind: 'bar', title: `${s.title} · 各组完成率（%）`,
        series: [{ name: '完成率', data: s.byGroup.map((g) => ({ label: g.group, value: g.total === 0 ? 0 : Math.round((g.done / g.total) * 1000) / 10 })) }],
      });
      elements.push({
        type: 'table',
        columns: [{ key: 'group', label: '组别' }, { key: 'done', label: '已完成', align: 'right' }, { key: 'total', label: '应完成', align: 'right' }, { key: 'rate', label: '完成率', align: 'right' }, { key: 'late', label: '逾期', align: 'right' }],
        rows: s.byGroup.map((g) => ({ group: g.group, done: g.done, total: g.total, rate: pct(g.done, g.total), late: g.late })),
      });
    }
    if (s.lateUnits.length > 0) {
      elements.push({
        type: 'panel', title: `逾期单位 ${s.lateUnits.length} 个`, expanded: false,
        elements: [md(s.lateUnits.map((u) => `- ${u.unitName}（${u.group}）：${u.what}`).join('\n'))],
      });
    }
  }
  return {
    header: { title: `${name} · ${v.label}`, titleEn: `${nameEn} · ${v.label}`, color: late > 0 ? 'orange' : 'green', tags: [{ text: `完成率 ${pct(done, total)}`, textEn: `Done ${pct(done, total)}` }] },
    elements,
    summary: `${name}：${v.label}完成率 ${pct(done, total)}，逾期 ${late} 项`,
  };
}
