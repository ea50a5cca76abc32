/** Test fixtures for self-evaluation cards, shared by the builder and renderer tests. */
import type { Indicator, ItemInput } from '../src/domain/self-evaluation';
import type { SelfEvaluationView } from './self-evaluation.card';

export const ind = (o: Partial<Indicator> & Pick<Indicator, 'id' | 'code'>): Indicator => ({
  parentCode: null, level: 1, title: `指标${o.code}`, maxPoints: 10, scoringGuide: '按细则评分', evidence: '', evidenceRequired: false, explanationRequired: false, ...o,
});

/** 大项 1 → 1.1 (15, explanation and evidence required), 1.2 (10); 2 is a top-level leaf (5). */
export const INDICATORS: Indicator[] = [
  ind({ id: 1, code: '1', title: '履职情况', maxPoints: 25 }),
  ind({ id: 2, code: '1.1', parentCode: '1', level: 2, title: '按宗旨开展活动', maxPoints: 15, evidence: '工作台账', evidenceRequired: true, explanationRequired: true }),
  ind({ id: 3, code: '1.2', parentCode: '1', level: 2, title: '满意度', maxPoints: 10 }),
  ind({ id: 4, code: '2', title: '编制管理', maxPoints: 5, explanationRequired: true }),
];

export const ITEMS: ItemInput[] = [
  { indicatorId: 2, claimedScore: 12.5, explanation: '逐项自查已落实', evidenceLinks: ['https://a.example.cn/1', 'https://b.example.cn/2'] },
  { indicatorId: 3, claimedScore: null, explanation: '', evidenceLinks: [] },
  { indicatorId: 4, claimedScore: 5, explanation: '未超编', evidenceLinks: [] },
];

export const REF = { evaluationId: 5, version: 2, rev: 3 };

export const view = (o: Partial<SelfEvaluationView> = {}): SelfEvaluationView => ({
  ...REF,
  status: 'draft',
  campaignName: '2026年度事业单位法人履职评估',
  unitName: '县疾病预防控制中心',
  dueAt: Date.parse('2026-12-31T15:59:59.999Z'),
  indicators: INDICATORS,
  items: ITEMS,
  report: '',
  stageOpen: true,
  lastReturn: null,
  ...o,
});
