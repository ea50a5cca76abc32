import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { identities, people } from '../../../db/schema';
import { createHarness } from '../../test/harness';
import { auditTrail } from '../../store/audit.repo';
import { main } from '../../../scripts/cli';
import { createFeishuClient } from './client';
import { startMockFeishu, type MockFeishu } from './mock-server';
import { mapPeopleToFeishu } from './people';

type H = Awaited<ReturnType<typeof createHarness>>;

describe('mapping people to Feishu accounts', () => {
  let h: H;
  let mock: MockFeishu;
  beforeEach(async () => {
    h = await createHarness();
    const mobiles: Record<string, string> = {};
    for (let i = 1; i <= 10; i++) mobiles[`138000000${String(i).padStart(2, '0')}`] = `ou_m${i}`;
    mock = await startMockFeishu({ appId: 'cli_test', appSecret: 'secret-secret', directory: { mobiles, emails: { 'hejy@example.com': 'ou_e11', 'huangsf@example.com': 'ou_m1' } } });
  });
  afterEach(async () => {
    await mock.close();
    await h.close();
  });

  it('maps by mobile, then email, and lists the rest with a reason', async () => {
    const client = createFeishuClient({ appId: 'cli_test', appSecret: 'secret-secret', domain: mock.url });
    const report = await mapPeopleToFeishu({ db: h.db, clock: h.now }, client);
    expect(report.mapped.filter((m) => m.by === 'mobile')).toHaveLength(10);
    expect(report.mapped.find((m) => m.by === 'email')).toMatchObject({ name: '何佳怡', openId: 'ou_e11' });
    const reasons = Object.fromEntries(report.unmapped.map((u) => [u.name, u.reason]));
    expect(reasons['马振华']).toContain('飞书中未找到手机号 13800000012');
    // 黄淑芬's email points at an account already linked to someone else: reported, not moved.
    expect(reasons['黄淑芬']).toContain('已绑定到其他人员');
    expect(report.mapped.length + report.unmapped.length).toBe(14);

    const filler = await h.personByMobile('13800000001');
    expect(await h.db.select().from(identities).where(eq(identities.personId, filler.id))).toContainEqual(expect.objectContaining({ platform: 'feishu', externalId: 'ou_m1' }));
    expect((await auditTrail(h.db, 'identities', 'feishu')).map((a) => a.action)).toEqual(['feishu.map_people']);

    // A second run has nobody new to map and sends no lookup for the mapped ones.
    const again = await mapPeopleToFeishu({ db: h.db, clock: h.now }, client);
    expect(again.mapped).toHaveLength(0);
    expect(again.unmapped).toHaveLength(3);
  });

  it('tells the person running the CLI when Feishu is not configured', async () => {
    const out: string[] = [];
    const code = await main(['feishu', 'map-people'], { DATABASE_URL: 'file:/tmp/never-opened.db' }, { out: (l) => out.push(l), err: (l) => out.push(l) });
    expect(code).toBe(1);
    expect(out.join('\n')).toContain('未配置飞书');
    expect((await h.db.select().from(people)).length).toBe(14);
  });
});
