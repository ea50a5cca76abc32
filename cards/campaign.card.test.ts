import { describe, expect, it } from 'vitest';
import type { StageName, StageState } from '../src/domain/campaign';
import { parseAction } from './actions';
import { buildCampaignConsoleCard, type CampaignConsoleView } from './campaign.card';
import { walk, type Button, type CardSpec, type Chart, type DatePicker, type Element, type Table } from './kit';

const ORDER: StageName[] = ['notice', 'self_evaluation', 'on_site', 'rating', 'report', 'rectification', 'grading'];
const DUE = Date.parse('2026-05-31T15:59:59.999Z');

/** The stages with 单位自评 pending (宣传发动 open) or open (宣传发动 closed). */
const stages = (selfEval: 'pending' | 'open'): StageState[] =>
  ORDER.map((stage, i) => ({
    stage,
    status: i === 0 ? (selfEval === 'pending' ? 'open' : 'closed') : i === 1 ? selfEval : 'pending',
    dueAt: i === 1 && selfEval === 'open' ? DUE : null,
  }));

type Progress = CampaignConsoleView['progress'][number];
const PROGRESS: Progress[] = [
  { unitName: '县疾病预防控制中心', groupName: '卫健组', status: null, version: null },
  { unitName: '县图书馆', groupName: '文教组', status: 'draft', version: 1 },
  { unitName: '县文化馆', groupName: '文教组', status: 'draft', version: 2 },
  { unitName: '县人民医院', groupName: '卫健组', status: 'submitted', version: 1 },
  { unitName: '县妇幼保健院', groupName: '卫健组', status: 'signed', version: 1 },
  { unitName: '县博物馆', groupName: '文教组', status: 'accepted', version: 3 },
];

/** 2026-05-10 10:00 in Shanghai. */
const NOW = Date.parse('2026-05-10T02:00:00Z');

const view = (o: Partial<CampaignConsoleView> = {}): CampaignConsoleView => ({
  campaignId: 7,
  name: '2026年度事业单位法人履职评估',
  schemeName: '事业单位法人履职评估',
  stages: stages('pending'),
  progress: PROGRESS,
  audience: 'evaluator',
  now: NOW,
  ...o,
});

const all = (card: CardSpec): Element[] => [...walk(card.elements)];
const buttons = (card: CardSpec): Button[] => all(card).filter((e): e is Button => e.type === 'button');
const dates = (card: CardSpec): DatePicker[] => all(card).filter((e): e is DatePicker => e.type === 'date');
const tables = (card: CardSpec): Table[] => all(card).filter((e): e is Table => e.type === 'table');
const charts = (card: CardSpec): Chart[] => all(card).filter((e): e is Chart => e.type === 'chart');

describe('campaign console, 单位自评 pending', () => {
  it('gives the evaluator a due-date input and a 启动单位自评 button with a confirm, in one form', () => {
    const card = buildCampaignConsoleCard(view());
    const [due, ...moreDates] = dates(card);
    expect(moreDates).toEqual([]);
    // Two weeks from 2026-05-10 (Shanghai) by default.
    expect(due).toMatchObject({ name: 'due', value: '2026-05-24', required: true });
    const start = buttons(card).filter((b) => b.label === '启动单位自评');
    expect(start).toHaveLength(1);
    expect(start[0]).toMatchObject({ submit: true, action: { id: 'campaign.open-self-eval', value: { campaignId: 7 } } });
    expect(start[0]?.confirm?.text).toContain('6 个参评单位');
    const action = start[0]?.action;
    expect(action && parseAction(action.id, action.value)).toEqual({ ok: true, action: { id: 'campaign.open-self-eval', value: { campaignId: 7 } } });

    const form = all(card).find((e) => e.type === 'form');
    const inForm = form?.type === 'form' ? [...walk(form.elements)] : [];
    expect(inForm).toContain(due);
    expect(inForm).toContain(start[0]);
    expect(tables(card)).toEqual([]);
    expect(charts(card)).toEqual([]);
  });

  it('gives a leader neither the date input nor the start button', () => {
    const card = buildCampaignConsoleCard(view({ audience: 'leader' }));
    expect(dates(card)).toEqual([]);
    expect(all(card).filter((e) => e.type === 'form' || e.type === 'input')).toEqual([]);
    expect(buttons(card).map((b) => b.label)).toEqual(['刷新进度']);
    expect(all(card)).toContainEqual({ type: 'notice', tone: 'info', text: '单位自评尚未启动。' });
    expect(card.header.subtitle).toBe('评估进度');
  });
});

describe('campaign console, 单位自评 open', () => {
  it.each(['evaluator', 'leader'] as const)('shows the %s a table row per unit and a chart adding up to the unit count', (audience) => {
    const card = buildCampaignConsoleCard(view({ stages: stages('open'), audience }));
    const [table, ...moreTables] = tables(card);
    expect(moreTables).toEqual([]);
    expect(table?.rows.map((r) => [r.unit, r.group, r.status, r.version])).toEqual([
      ['县疾病预防控制中心', '卫健组', '未启动', '-'],
      ['县图书馆', '文教组', '填报中', 1],
      ['县文化馆', '文教组', '填报中', 2],
      ['县人民医院', '卫健组', '待签发', 1],
      ['县妇幼保健院', '卫健组', '待审核', 1],
      ['县博物馆', '文教组', '已通过', 3],
    ]);

    const [chart, ...moreCharts] = charts(card);
    expect(moreCharts).toEqual([]);
    const data = chart?.series.flatMap((s) => s.data) ?? [];
    expect(data.reduce((sum, d) => sum + d.value, 0)).toBe(PROGRESS.length);
    expect(Object.fromEntries(data.map((d) => [d.label, d.value]))).toEqual({ 未启动: 1, 填报中: 2, 待签发: 1, 待审核: 1, 已通过: 1 });

    expect(dates(card)).toEqual([]);
    expect(buttons(card).map((b) => b.label)).toEqual(['刷新进度']);
    expect(card.header.tags).toEqual([{ text: '单位自评' }]);
    expect(all(card)).toContainEqual(expect.objectContaining({ type: 'fields', fields: expect.arrayContaining([{ label: '当前阶段', value: '单位自评（截止2026年5月31日）' }]) }));
  });

  it.each([0, 1, 37])('the chart adds up to %i units', (n) => {
    const progress: Progress[] = Array.from({ length: n }, (_, i) => ({
      unitName: `单位${i}`, groupName: '组', status: ([null, 'draft', 'submitted', 'signed', 'accepted'] as const)[i % 5] ?? null, version: i % 5 === 0 ? null : 1,
    }));
    const card = buildCampaignConsoleCard(view({ stages: stages('open'), progress }));
    expect(tables(card)[0]?.rows).toHaveLength(n);
    expect(charts(card)[0]?.series.flatMap((s) => s.data).reduce((sum, d) => sum + d.value, 0)).toBe(n);
  });

  it('the 刷新进度 button refers to the campaign', () => {
    const card = buildCampaignConsoleCard(view({ stages: stages('open') }));
    expect(buttons(card)[0]?.action).toEqual({ id: 'campaign.progress', value: { campaignId: 7 } });
  });

  it('shows an error passed in', () => {
    const card = buildCampaignConsoleCard(view({ error: '截止日期必须晚于今天' }));
    expect(all(card)).toContainEqual({ type: 'notice', tone: 'error', text: '截止日期必须晚于今天' });
  });
});

describe('campaign console size', () => {
  const many: Progress[] = Array.from({ length: 120 }, (_, i) => ({ unitName: `海安市第${i + 1}事业单位服务中心`, groupName: `第${(i % 4) + 1}组`, status: 'draft', version: 1 }));
  it.each([
    ['pending, evaluator', view()],
    ['pending, leader', view({ audience: 'leader' })],
    ['open, 6 units', view({ stages: stages('open') })],
    ['open, 120 units', view({ stages: stages('open'), progress: many })],
  ] as const)('%s stays within 200 elements and 30000 JSON characters', (_name, v) => {
    const card = buildCampaignConsoleCard(v);
    expect([...walk(card.elements)].length).toBeLessThanOrEqual(200);
    expect(JSON.stringify(card).length).toBeLessThan(30000);
  });
});

describe('failed deliveries on the console', () => {
  it('lists them for the evaluator only, with the reason', () => {
    const base = { campaignId: 1, name: '评估', schemeName: '方案', stages: [{ stage: 'self_evaluation' as const, status: 'open' as const, dueAt: null }], progress: [], now: 0 };
    const failedDeliveries = [{ personName: '马振华', reason: '飞书拒绝: 230013 Bot has NO availability to this user.' }];
    const evaluator = JSON.stringify(buildCampaignConsoleCard({ ...base, audience: 'evaluator', failedDeliveries }));
    expect(evaluator).toContain('投递失败 1 条');
    expect(evaluator).toContain('马振华：飞书拒绝: 230013');
    expect(JSON.stringify(buildCampaignConsoleCard({ ...base, audience: 'leader', failedDeliveries }))).not.toContain('投递失败');
  });
});
