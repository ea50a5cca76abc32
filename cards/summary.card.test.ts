import { describe, expect, it } from 'vitest';
import { renderFeishuCards } from './render/feishu';
import { validateFeishuCard } from './render/feishu-validate';
import { buildSummaryCard } from './summary.card';

describe('summary card', () => {
  it('shows totals, a chart and a table per section, the late units, and renders as valid Feishu JSON', () => {
    const card = buildSummaryCard({
      kind: 'quarter', label: '2026年第三季度', calendarNote: null,
      sections: [{
        title: '月度隐患排查治理情况报告', total: 18, done: 12, late: 6,
        byGroup: [{ group: '公益一类', total: 9, done: 8, late: 1 }, { group: '公益二类', total: 9, done: 4, late: 5 }],
        lateUnits: [{ unitName: '县人民医院', group: '公益二类', what: '2026年9月 月度隐患排查治理情况报告，逾期 2 个工作日' }],
      }],
    });
    expect(card.header.title).toBe('季大结 · 2026年第三季度');
    const text = JSON.stringify(card);
    expect(text).toContain('共有 **18** 项填报任务，已完成 **12** 项（66.7%），逾期 **6** 项');
    const chart = card.elements.find((e) => e.type === 'chart');
    expect(chart?.type === 'chart' && chart.series[0]!.data).toEqual([{ label: '公益一类', value: 88.9 }, { label: '公益二类', value: 44.4 }]);
    expect(text).toContain('县人民医院（公益二类）');
    for (const part of renderFeishuCards(card)) expect(validateFeishuCard(part)).toEqual([]);
  });

  it('says when nothing fell due', () => {
    const card = buildSummaryCard({ kind: 'month', label: '2026年8月', sections: [] });
    expect(JSON.stringify(card)).toContain('本期没有到期的填报任务');
    expect(card.header.tags?.[0]?.text).toBe('完成率 —');
  });
});
