/** The answer to a direct message: the person's open tasks, each with a button that opens it. */
import { encodeAction } from './actions';
import { button, md, notice, type CardSpec, type Element } from './kit';
import { shanghaiDateZh } from '../src/domain/time';
import type { Task } from '../src/store/tasks.repo';

const LABEL: Record<Task['kind'], string> = { fill: '填报自评', sign: '签发自评', review: '审核自评', start: '启动单位自评', progress: '查看评估进度' };

export function buildHelpCard(v: { name: string; tasks: readonly Task[]; now: number }): CardSpec {
  const elements: Element[] = [md(`${v.name}，您好！以下是您当前的待办事项。`)];
  const todo = v.tasks.filter((t) => t.kind !== 'progress');
  if (todo.length === 0) elements.push(notice('success', '您目前没有待办事项。'));
  for (const t of v.tasks) {
    const due = t.dueAt ? `（截止${shanghaiDateZh(t.dueAt)}${t.dueAt < v.now ? '，已逾期' : ''}）` : '';
    const what = 'unitName' in t ? `${t.unitName} · ${t.campaignName}` : t.campaignName;
    const action = 'evaluationId' in t ? encodeAction('self-eval.open', { evaluationId: t.evaluationId }) : encodeAction('campaign.progress', { campaignId: t.campaignId });
    elements.push({
      type: 'columns',
      columns: [
        { weight: 3, elements: [md(`**${LABEL[t.kind]}**：${what}${due}`)] },
        { weight: 1, elements: [button({ label: t.kind === 'progress' ? '查看' : '去办理', labelEn: t.kind === 'progress' ? 'View' : 'Open', style: t.kind === 'progress' ? 'default' : 'primary', action })] },
      ],
    });
  }
  elements.push(button({ label: '刷新待办', labelEn: 'Refresh', action: encodeAction('help.show', {}) }));
  return { header: { title: '履职评估 · 我的待办', titleEn: 'Duty evaluation · My tasks', color: todo.length > 0 ? 'orange' : 'green', tags: [{ text: `${todo.length} 项待办` }] }, elements, summary: `您有 ${todo.length} 项待办` };
}
