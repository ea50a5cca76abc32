/** `npm run cli -- reminders policy`, run through main() against a temporary libSQL file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, campaignStages, campaigns } from '../db/schema';
import { seedDemoIfEmpty } from '../db/seed/demo';
import { openDatabase } from '../src/runtime/open-db';
import type { Db } from '../src/store/db';
import { main } from './cli';

async function cli(url: string, ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { DATABASE_URL: url }, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('npm run cli -- reminders policy', () => {
  let dir: string;
  let url: string;
  let db: Db;
  let close: () => void;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lvzhi-cli-reminders-'));
    url = `file:${join(dir, 'app.db')}`;
    ({ db, close } = await openDatabase({ DATABASE_URL: url }));
    await seedDemoIfEmpty(db, Date.UTC(2026, 10, 30));
  });
  afterAll(() => {
    close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the defaults, saves a valid override per campaign and per stage, refuses a bad one, and clears', async () => {
    expect((await cli(url, 'reminders', 'policy', '1')).out).toContain('截止前 3、1 个工作日提醒；截止当天提醒（加急）');

    const saved = await cli(url, 'reminders', 'policy', '1', '{"before":[5,2],"escalateToHeadAfter":2}');
    expect(saved.code).toBe(0);
    expect(saved.out).toContain('截止前 5、2 个工作日提醒');
    expect(saved.out).toContain('逾期 2 个工作日起通知单位负责人');
    const stage = await cli(url, 'reminders', 'policy', '1', '{"sendFrom":"08:30"}', '--stage', 'self_evaluation');
    expect(stage.out).toContain('阶段 self_evaluation 当前提醒策略：截止前 5、2 个工作日提醒');
    expect(stage.out).toContain('每天 08:30 起发送');
    expect((await db.select({ p: campaignStages.reminderPolicy }).from(campaignStages).where(eq(campaignStages.stage, 'self_evaluation')))[0]!.p).toEqual({ sendFrom: '08:30' });

    const bad = await cli(url, 'reminders', 'policy', '1', '{"before":"3"}');
    expect(bad.code).toBe(1);
    expect(bad.err).toBe('提醒策略无效，未保存：\n  before（截止前提醒）：须为截止前第几个工作日的列表，如 [3,1]');
    const unknown = await cli(url, 'reminders', 'policy', '1', '{"urgent":true,"sendFrom":"9点"}');
    expect(unknown.err.split('\n')).toEqual([
      '提醒策略无效，未保存：',
      '  sendFrom（每日发送时间）：须为当地时间 "HH:MM"（00:00–23:59），如 "09:00"',
      '  提醒策略：不认识的设置项 urgent；可用的有 before、onDueDay、overdueEvery、escalateToHeadAfter、escalateToLeaderAfter、sendFrom、quietHours、urgentOnDueDay',
    ]);
    expect((await cli(url, 'reminders', 'policy', '1', '{not json')).err).toContain('不是有效的 JSON');
    expect((await cli(url, 'reminders', 'policy', '1', '--stage', 'nope')).err).toContain('阶段「nope」无效');
    expect((await cli(url, 'reminders', 'policy', '7')).err).toContain('评估（编号 7）不存在');
    expect((await db.select({ p: campaigns.reminderPolicy }).from(campaigns))[0]!.p).toEqual({ before: [5, 2], escalateToHeadAfter: 2 });

    expect((await cli(url, 'reminders', 'policy', '1', '--clear')).out).toContain('已恢复默认提醒策略');
    expect((await db.select({ p: campaigns.reminderPolicy }).from(campaigns))[0]!.p).toBeNull();
    expect((await db.select().from(auditLog).where(eq(auditLog.action, 'campaign.reminder_policy'))).length).toBe(3);
  });

  it('says in Chinese when saved layers no longer fit together', async () => {
    expect((await cli(url, 'reminders', 'policy', '1', '{"sendFrom":"19:00"}', '--stage', 'self_evaluation')).code).toBe(0);
    // The campaign's quiet hours now start before the stage's sending time.
    expect((await cli(url, 'reminders', 'policy', '1', '{"quietHours":{"from":"18:00","to":"08:00"}}')).code).toBe(0);
    const shown = await cli(url, 'reminders', 'policy', '1', '--stage', 'self_evaluation');
    expect(shown.code).toBe(1);
    expect(shown.err.split('\n')).toEqual(['阶段 self_evaluation 已保存的提醒策略合起来无效，请重新设置：', '  sendFrom（每日发送时间）：从 19:00 到午夜都在免打扰时段内，提醒永远发不出去']);
    expect((await cli(url, 'reminders', 'policy', '1', '--clear')).code).toBe(0);
  });
});
