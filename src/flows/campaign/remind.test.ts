import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq, like } from 'drizzle-orm';
import { auditLog, outbox, selfEvaluations, units } from '../../../db/schema';
import { walk } from '../../../cards/kit';
import { actionOf, createHarness } from '../../test/harness';

type H = Awaited<ReturnType<typeof createHarness>>;
const at = (s: string) => Date.parse(`${s}+08:00`);

describe('催办 from the progress card', () => {
  let h: H;
  let evaluator: number;
  let leader: number;
  let cdcFiller: number;
  beforeEach(async () => {
    h = await createHarness({ now: at('2026-09-14T08:00:00') });
    evaluator = (await h.personByMobile('13800000013')).id;
    leader = (await h.personByMobile('13800000014')).id;
    cdcFiller = (await h.personByMobile('13800000001')).id;
  });
  afterEach(async () => h.close());

  const consoleOf = async (personId: number) => [...(await h.messages(personId))].reverse().find((m) => m.subject.includes('console'))!.card;

  it('shows the late units and reminds exactly their fillers, once a day; fillers may not', async () => {
    await h.act(evaluator, actionOf(await consoleOf(evaluator), 'campaign.open-self-eval'), { due: '2026-09-30' });
    const [library] = await h.db.select({ id: units.id }).from(units).where(eq(units.code, 'HA-LIB'));
    await h.db.update(selfEvaluations).set({ status: 'submitted' }).where(eq(selfEvaluations.unitId, library!.id));
    // Before the deadline nobody is late: no button.
    const before = await h.act(evaluator, actionOf(await consoleOf(evaluator), 'campaign.progress'), {});
    expect([...walk(before.card!.elements)].some((e) => e.type === 'button' && e.action?.id === 'campaign.remind-late')).toBe(false);

    // 9 October: two working days after the deadline (the National Day holiday does not count).
    h.advance(at('2026-10-09T10:00:00') - h.now());
    const progress = await h.act(evaluator, actionOf(await consoleOf(evaluator), 'campaign.progress'), {});
    const text = JSON.stringify(progress.card);
    expect(text).toContain('逾期未提交 5 个单位');
    expect(text).toContain('县疾病预防控制中心（公益一类）逾期 2 个工作日');
    expect(text).not.toContain('县图书馆（公益一类）逾期');
    const remind = actionOf(progress.card!, 'campaign.remind-late');

    const byFiller = await h.act(cdcFiller, remind, {});
    expect(byFiller.toast).toEqual({ type: 'error', text: expect.stringContaining('无权限') });
    expect(await h.db.select().from(outbox).where(like(outbox.dedupeKey, 'nudge:%'))).toHaveLength(0);

    const first = await h.act(evaluator, remind, {});
    expect(first.toast).toEqual({ type: 'success', text: '已提醒 5 个逾期单位的 5 名填报人员' });
    const nudges = await h.db.select().from(outbox).where(like(outbox.dedupeKey, 'nudge:%'));
    expect(nudges).toHaveLength(5);
    const fillers = await Promise.all(['13800000001', '13800000005', '13800000007', '13800000009', '13800000011'].map(async (m) => (await h.personByMobile(m)).id));
    expect(nudges.map((n) => n.personId).sort((a, b) => a - b)).toEqual(fillers.sort((a, b) => a - b));
    // The filler's chat has the reminder, with a button to the form.
    const got = (await h.messages(cdcFiller)).find((m) => m.subject.startsWith('remind:'))!;
    expect(got.card.header.title).toContain('催办');
    expect(JSON.stringify(got.card)).toContain('黄淑芬提醒');
    expect(actionOf(got.card, 'self-eval.open').value).toMatchObject({ evaluationId: expect.any(Number) });

    // Again the same day, by the evaluator or a leader: nothing more.
    expect((await h.act(evaluator, remind, {})).toast?.text).toBe('今天已提醒过这些单位，未重复发送');
    expect((await h.act(leader, remind, {})).toast?.text).toBe('今天已提醒过这些单位，未重复发送');
    // The next working day, a leader may remind again.
    h.advance(at('2026-10-10T10:00:00') - h.now());
    expect((await h.act(leader, remind, {})).toast?.type).toBe('success');
    expect(await h.db.select().from(outbox).where(like(outbox.dedupeKey, 'nudge:%'))).toHaveLength(10);
    const audits = await h.db.select().from(auditLog).where(eq(auditLog.action, 'campaign.remind_late'));
    expect(audits.map((a) => a.actorId)).toEqual([evaluator, leader]);
  });
});
