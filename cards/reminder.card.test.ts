import { describe, expect, it } from 'vitest';
import { renderFeishuCards } from './render/feishu';
import { validateFeishuCard } from './render/feishu-validate';
import { DIGEST_MAX_ROWS, buildLeaderDigestCard, buildReminderCard } from './reminder.card';

describe('reminder cards', () => {
  it.each([
    [{ workdaysLeft: 3, overdueWorkdays: 0, kind: 'before' as const }, '还有 3 个工作日截止', '截止提醒'],
    [{ workdaysLeft: 0, overdueWorkdays: 0, kind: 'due' as const }, '今天截止', '截止提醒'],
    [{ workdaysLeft: 0, overdueWorkdays: 4, kind: 'overdue' as const }, '已逾期 4 个工作日', '逾期提醒'],
  ])('says when it is due: %o', (when, text, title) => {
    const card = buildReminderCard({ ...when, title: '2026年11月 月度隐患排查治理情况报告', unitName: '县图书馆', due: '2026-11-25', toHead: false, open: { id: 'ledger.open', value: { entryId: 3 } } });
    expect(card.header.title).toBe(`${title} · 2026年11月 月度隐患排查治理情况报告`);
    expect(card.header.tags?.[0]?.text).toBe(text);
    expect(JSON.stringify(card)).toContain('2026年11月25日');
    for (const part of renderFeishuCards(card)) expect(validateFeishuCard(part)).toEqual([]);
  });

  it('tells a head to follow up, and shows the calendar note when the year is not published', () => {
    const card = buildReminderCard({ kind: 'overdue', title: '单位自评', unitName: '县图书馆', due: '2027-01-08', workdaysLeft: 0, overdueWorkdays: 3, toHead: true, calendarNote: '2027年国务院节假日安排尚未发布，暂按周末计算工作日' });
    expect(card.header.title).toBe('逾期督办 · 单位自评');
    expect(JSON.stringify(card)).toContain('请督促填报人员尽快完成');
    expect(JSON.stringify(card)).toContain('暂按周末计算工作日');
  });

  it('a digest of 10,000 late units lists the most overdue and counts the rest, and fits one Feishu card', () => {
    const late = Array.from({ length: 10_000 }, (_, i) => ({ unitName: `单位${i}`, group: i % 2 ? '公益一类' : '公益二类', title: '2026年11月 月度隐患排查治理情况报告', due: '2026-11-25', overdueWorkdays: 5 + (i % 7) }));
    const card = buildLeaderDigestCard({ date: '2026-12-03', late });
    const table = card.elements.find((e) => e.type === 'table');
    expect(table?.type === 'table' && table.rows.length).toBe(DIGEST_MAX_ROWS);
    expect(table?.type === 'table' && table.rows.every((r) => r.over === 11)).toBe(true);
    expect(JSON.stringify(card)).toContain(`另有 ${10_000 - DIGEST_MAX_ROWS} 项未列出`);
    const parts = renderFeishuCards(card);
    expect(parts).toHaveLength(1);
    expect(validateFeishuCard(parts[0])).toEqual([]);
  });
});
