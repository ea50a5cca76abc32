/** Every audited action records where it came from: the platform of the event, or cli. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asc, eq } from 'drizzle-orm';
import { auditLog, identities } from '../../db/schema';
import { createBot } from '../bot/router';
import { registerFlows } from '../flows';
import { actionOf, createHarness } from '../test/harness';
import { appendAudit } from './audit.repo';
import { writeTransaction } from './serialize';

type H = Awaited<ReturnType<typeof createHarness>>;

describe('audit platform', () => {
  let h: H;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => h.close());

  const rows = async (action: string) =>
    (await h.db.select().from(auditLog).where(eq(auditLog.action, action)).orderBy(asc(auditLog.id))).map((r) => ({ actorId: r.actorId, platform: r.platform }));

  it('says feishu for an action taken in Feishu and local for one taken in the simulator', async () => {
    const evaluator = await h.personByMobile('13800000013');
    const filler = await h.personByMobile('13800000001');
    await h.db.insert(identities).values({ personId: evaluator.id, platform: 'feishu', externalId: 'ou_evaluator' });

    // The evaluator starts 单位自评 from Feishu: the event Feishu's adapter hands the bot.
    const consoleCard = [...(await h.messages(evaluator.id))].reverse().find((m) => m.subject.includes('console'))!.card;
    const bot = createBot(h.deps);
    registerFlows(bot);
    const opened = await bot.handle({
      platform: 'feishu', eventKey: 'ev-open-1', actorExternalId: 'ou_evaluator',
      actionId: 'campaign.open-self-eval', value: actionOf(consoleCard, 'campaign.open-self-eval').value, form: { due: '2026-12-31' },
    });
    expect(opened.toast?.type).toBe('success');
    await h.flush();

    // The filler saves a draft in the simulator.
    const fill = [...(await h.messages(filler.id))].reverse().find((m) => m.subject.includes(':fill'))!;
    const saved = await h.act(filler.id, actionOf(fill.card, 'self-eval.save'), {}, { messageId: fill.id });
    expect(saved.toast?.type).toBe('success');

    expect(await rows('campaign.open_self_evaluation')).toEqual([{ actorId: evaluator.id, platform: 'feishu' }]);
    expect(await rows('self_eval.save_draft')).toEqual([{ actorId: filler.id, platform: 'local' }]);
    // What the operator did (the demo seeded at start-up, the units imported) says cli.
    expect(await rows('import.units')).toEqual([{ actorId: null, platform: 'cli' }]);
    expect(await rows('campaign.create')).toEqual([{ actorId: null, platform: 'cli' }]);
  });

  it('stores the platform given to the writer', async () => {
    await writeTransaction(h.db, (tx) => appendAudit(tx, { at: h.now(), actorId: null, platform: 'scheduler', action: 'test.scheduled', subjectType: 'test', subjectId: 1 }));
    expect(await rows('test.scheduled')).toEqual([{ actorId: null, platform: 'scheduler' }]);
  });
});
