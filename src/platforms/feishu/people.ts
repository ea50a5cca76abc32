/**
 * Maps imported people to Feishu accounts: by mobile first, then by email (contact
 * batch_get_id, 50 per call). Everyone who cannot be mapped is listed with the reason.
 */
import type { Deps } from '../../deps';
import { appendAudit } from '../../store/audit.repo';
import { linkIdentities, peopleWithoutIdentity } from '../../store/org.repo';
import { writeTransaction } from '../../store/serialize';
import type { FeishuClient } from './client';

export interface MappingReport {
  mapped: Array<{ personId: number; name: string; openId: string; by: 'mobile' | 'email' }>;
  unmapped: Array<{ personId: number; name: string; reason: string }>;
}

export async function mapPeopleToFeishu(deps: Pick<Deps, 'db' | 'clock'>, client: Pick<FeishuClient, 'batchGetIds'>): Promise<MappingReport> {
  const todo = await peopleWithoutIdentity(deps.db, 'feishu');
  const byMobile = await client.batchGetIds({ mobiles: todo.flatMap((p) => (p.mobile ? [p.mobile] : [])) });
  const rest = todo.filter((p) => !(p.mobile && byMobile.has(p.mobile)));
  const byEmail = await client.batchGetIds({ emails: rest.flatMap((p) => (p.email ? [p.email] : [])) });

  const report: MappingReport = { mapped: [], unmapped: [] };
  for (const p of todo) {
    const viaMobile = p.mobile ? byMobile.get(p.mobile) : undefined;
    const viaEmail = p.email ? byEmail.get(p.email) : undefined;
    if (viaMobile) report.mapped.push({ personId: p.id, name: p.name, openId: viaMobile, by: 'mobile' });
    else if (viaEmail) report.mapped.push({ personId: p.id, name: p.name, openId: viaEmail, by: 'email' });
    else if (!p.mobile && !p.email) report.unmapped.push({ personId: p.id, name: p.name, reason: '没有手机号和邮箱，无法匹配' });
    else report.unmapped.push({ personId: p.id, name: p.name, reason: `飞书中未找到${p.mobile ? `手机号 ${p.mobile}` : ''}${p.mobile && p.email ? '或' : ''}${p.email ? `邮箱 ${p.email}` : ''}（可能未加入企业、已离职，或不在应用的通讯录权限范围内）` });
  }
  const now = deps.clock();
  await writeTransaction(deps.db, async (tx) => {
    const { taken } = await linkIdentities(tx, 'feishu', report.mapped.map((m) => ({ personId: m.personId, externalId: m.openId })));
    for (const t of taken) {
      const m = report.mapped.find((x) => x.personId === t.personId)!;
      report.mapped = report.mapped.filter((x) => x !== m);
      report.unmapped.push({ personId: m.personId, name: m.name, reason: `飞书账号 ${t.externalId} 已绑定到其他人员，请检查是否重复导入` });
    }
    await appendAudit(tx, { at: now, actorId: null, platform: 'cli', action: 'feishu.map_people', subjectType: 'identities', subjectId: 'feishu', after: { mapped: report.mapped.length, unmapped: report.unmapped.length } });
  });
  return report;
}
