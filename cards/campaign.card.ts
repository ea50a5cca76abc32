/** The campaign console: stages, the 启动单位自评 form, and live self-evaluation progress. */
import { encodeAction } from './actions';
import { actions, button, fields, md, notice, type CardSpec, type Element } from './kit';
import { STATUS_TEXT } from './messages';
import { STAGE_LABELS, currentStage, type StageState } from '../src/domain/campaign';
import { addDays, shanghaiDate, shanghaiDateZh } from '../src/domain/time';

export interface CampaignConsoleView {
  readonly campaignId: number;
  readonly name: string;
  readonly schemeName: string;
  readonly stages: readonly StageState[];
  readonly progress: ReadonlyArray<{ unitName: string; groupName: string; status: keyof typeof STATUS_TEXT | null; version: number | null }>;
  /** The evaluator may act; a leader sees the same card read-only. */
  readonly audience: 'evaluator' | 'leader';
  readonly now: number;
  readonly error?: string;
  /** Cards the platform refused for good (not in the app's availability, no account…): the evaluator follows up. */
  readonly failedDeliveries?: ReadonlyArray<{ readonly personName: string; readonly reason: string }>;
  /** Units whose 自评 is past its (working-day) deadline and not submitted. */
  readonly late?: ReadonlyArray<{ readonly unitName: string; readonly group: string; readonly overdueWorkdays: number }>;
  /** Said when the deadline's year has no published holiday calendar yet. */
  readonly calendarNote?: string | null;
}

const STATUS_ORDER = ['none', 'draft', 'submitted', 'signed', 'accepted'] as const;

export function buildCampaignConsoleCard(v: CampaignConsoleView): CardSpec {
  const cur = currentStage(v.stages);
  const selfEval = v.stages.find((s) => s.stage === 'self_evaluation');
  const elements: Element[] = [
    fields([
      ['评估方案', v.schemeName],
      ['当前阶段', cur ? `${STAGE_LABELS[cur.stage]}${cur.dueAt ? `（截止${shanghaiDateZh(cur.dueAt)}）` : ''}` : '未设置'],
      ['参评单位', `${v.progress.length} 个`],
    ]),
    md(v.stages.map((s, i) => `${i + 1}. ${STAGE_LABELS[s.stage]} · ${s.status === 'open' ? '**进行中**' : s.status === 'closed' ? '已完成' : '未开始'}`).join('\n')),
  ];
  if (v.error) elements.push(notice('error', v.error));

  if (selfEval?.status === 'pending') {
    if (v.audience === 'evaluator') {
      elements.push({
        type: 'form',
        name: `open_self_eval_${v.campaignId}`,
        elements: [
          md('**启动单位自评**：各参评单位填报员将收到自评表，填报后由单位负责人签发，再报评估组审核。'),
          { type: 'date', name: 'due', label: '自评截止日期', value: shanghaiDate(addDays(v.now, 14)), required: true },
          actions(button({
            label: '启动单位自评', labelEn: 'Start self-evaluation', style: 'primary', submit: true,
            action: encodeAction('campaign.open-self-eval', { campaignId: v.campaignId }),
            confirm: { title: '启动单位自评', text: `将向 ${v.progress.length} 个参评单位发送自评表。确定启动吗？` },
          })),
        ],
      });
    } else {
      elements.push(notice('info', '单位自评尚未启动。'));
    }
  } else {
    const counts = STATUS_ORDER.map((s) => ({ s, n: v.progress.filter((p) => (p.status ?? 'none') === s).length }));
    const late = v.late ?? [];
    const done = v.progress.filter((p) => p.status !== null && p.status !== 'draft').length;
    elements.push(md(`**自评进度**：已提交 ${done} · 未提交 ${v.progress.length - done} · 逾期 ${late.length}\n${counts.filter((c) => c.n > 0).map((c) => `${STATUS_TEXT[c.s]} ${c.n}`).join(' · ')}`));
    if (v.calendarNote) elements.push(notice('warning', v.calendarNote));
    if (late.length > 0) {
      elements.push({
        type: 'panel', title: `逾期未提交 ${late.length} 个单位`, expanded: true,
        elements: [
          md(late.map((l) => `- ${l.unitName}（${l.group}）逾期 ${l.overdueWorkdays} 个工作日`).join('\n')),
          actions(button({
            label: '提醒逾期单位', labelEn: 'Remind late units', style: 'danger',
            action: encodeAction('campaign.remind-late', { campaignId: v.campaignId }),
            confirm: { title: '催办', text: `将立即提醒 ${late.length} 个逾期单位的填报人员（每人每天至多一次）。确定吗？` },
          })),
        ],
      });
    }
    elements.push({
      type: 'chart', kind: 'bar', title: '自评进度（单位数）',
      series: [{ name: '单位数', data: counts.map((c) => ({ label: STATUS_TEXT[c.s], value: c.n })) }],
    });
    elements.push({
      type: 'table',
      columns: [{ key: 'unit', label: '单位' }, { key: 'group', label: '组别' }, { key: 'status', label: '状态' }, { key: 'version', label: '版本', align: 'right' }],
      rows: v.progress.map((p) => ({ unit: p.unitName, group: p.groupName, status: STATUS_TEXT[p.status ?? 'none'], version: p.version ?? '-' })),
      pageSize: 10,
    });
  }
  if (v.audience === 'evaluator' && v.failedDeliveries && v.failedDeliveries.length > 0) {
    elements.push({
      type: 'panel',
      title: `投递失败 ${v.failedDeliveries.length} 条，请联系相关人员`,
      expanded: false,
      elements: [md(v.failedDeliveries.map((f) => `- ${f.personName}：${f.reason}`).join('\n'))],
    });
  }
  elements.push(actions(button({ label: '刷新进度', labelEn: 'Refresh', action: encodeAction('campaign.progress', { campaignId: v.campaignId }) })));
  return {
    // The campaign's name is the office's own words: English readers see it as written.
    header: { title: v.name, titleEn: v.name, subtitle: v.audience === 'evaluator' ? '评估组工作台' : '评估进度', color: 'blue', tags: cur ? [{ text: STAGE_LABELS[cur.stage] }] : [] },
    elements,
    summary: `${v.name}：${cur ? STAGE_LABELS[cur.stage] : ''}`,
  };
}
