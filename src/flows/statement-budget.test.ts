/**
 * The statement budget of a click (docs/flows.md): what a 自评 draft save, a submit and a
 * 我的待办 send to the database through the real router, counted at the driver. A new
 * statement on these paths fails here until the budget (and the docs) say why it is needed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { walk, type CardSpec } from '../../cards/kit';
import { createBot } from '../bot/router';
import type { InboundEvent } from '../bot/inbound';
import { countStatements } from '../test/statement-counter';
import { actionOf, createHarness } from '../test/harness';
import { registerFlows } from '.';

/**
 * Statements sent to the driver and round trips (driver calls: one HTTP request each on Workers)
 * per click, after the first click of a process (which also reads the scheme's indicators once).
 * Keep in step with docs/flows.md, which says what each statement is.
 */
export const BUDGET = {
  /** One batch: claim, actor, the evaluation (with its version, items, last return, people); one batch: the write of six. */
  save: { statements: 9, roundTrips: 2 },
  /** As a save, plus the head's card; then the consoles' transaction: BEGIN, 7 reads, the outbox insert, COMMIT. */
  submit: { statements: 20, roundTrips: 12 },
  /** One batch: claim, actor, open tasks; the ledger rows of the person's role; the stored answer. */
  help: { statements: 5, roundTrips: 3 },
} as const;

const MOBILE = { filler: '13800000001', evaluator: '13800000013' };

function validForm(card: CardSpec): Record<string, string> {
  const form: Record<string, string> = {};
  for (const el of walk(card.elements)) {
    if (el.type !== 'input') continue;
    if (el.name.startsWith('score_')) form[el.name] = '8';
    else if (el.name.startsWith('expl_')) form[el.name] = '对照评分细则逐项自查，相关工作均已落实。';
    else if (el.name.startsWith('evid_')) form[el.name] = 'https://oa.example.gov.cn/files/evidence-1.pdf';
    else if (el.name === 'report') form[el.name] = '本单位严格按照核准的宗旨和业务范围开展工作。';
  }
  return form;
}

describe('statements per click', () => {
  const counter = { wrap: null as ReturnType<typeof countStatements> | null };
  let h: Awaited<ReturnType<typeof createHarness>>;
  let bot: ReturnType<typeof createBot>;
  let ids: { filler: number; evaluator: number };
  let seq = 0;

  beforeEach(async () => {
    h = await createHarness({ wrapClient: (c) => (counter.wrap = countStatements(c)).client });
    ids = { filler: (await h.personByMobile(MOBILE.filler)).id, evaluator: (await h.personByMobile(MOBILE.evaluator)).id };
    bot = createBot(h.deps);
    registerFlows(bot);
    const consoleCard = (await h.messages(ids.evaluator)).find((m) => m.subject.includes('console'))!.card;
    await h.act(ids.evaluator, actionOf(consoleCard, 'campaign.open-self-eval'), { due: '2026-12-31' });
  });
  afterEach(async () => h.close());

  /** One click through the router, counted alone (the outbox's delivery is not part of it). */
  async function click(personId: number, action: { id: string; value: Record<string, unknown> }, form: Record<string, string> = {}) {
    const event: InboundEvent = { platform: 'local', eventKey: `budget-${++seq}`, actorExternalId: `p${personId}`, actionId: action.id, value: action.value, form };
    counter.wrap!.reset();
    const reply = await bot.handle(event);
    const counted = { statements: counter.wrap!.log.statements.length, roundTrips: counter.wrap!.log.roundTrips, sql: [...counter.wrap!.log.statements] };
    await h.flush();
    return { reply, counted };
  }

  const fillCard = async () => [...(await h.messages(ids.filler))].reverse().find((m) => m.subject.includes(':fill'))!.card;

  it('a 自评 draft save, a submit and a 我的待办 stay within their budgets', async () => {
    const card = await fillCard();
    const form = validForm(card);
    // The first click of a process also reads the scheme's indicators, once: counted from the second.
    const first = await click(ids.filler, actionOf(card, 'self-eval.save'), { ...form, report: '初稿' });
    const save = await click(ids.filler, actionOf(first.reply.card!, 'self-eval.save'), { ...form, report: '草稿' });
    expect(save.reply.toast?.type).toBe('success');
    const submit = await click(ids.filler, actionOf(save.reply.card!, 'self-eval.submit'), form);
    expect(submit.reply.toast?.type).toBe('success');
    const helps = [await click(ids.evaluator, { id: 'help.show', value: {} }), await click(ids.filler, { id: 'help.show', value: {} })];
    for (const help of helps) expect(help.reply.card?.header.title).toContain('待办');

    const counted = { save: save.counted, submit: submit.counted, help: helps[0]!.counted, 'help (filler)': helps[1]!.counted };
    for (const [name, got] of Object.entries(counted)) {
      const budget = BUDGET[name === 'help (filler)' ? 'help' : (name as keyof typeof BUDGET)];
      // On failure, the statements themselves are shown.
      expect({ name, statements: got.statements <= budget.statements ? 'within' : got.sql, roundTrips: got.roundTrips <= budget.roundTrips ? 'within' : got.roundTrips })
        .toEqual({ name, statements: 'within', roundTrips: 'within' });
    }
    // Not more than needed, either: a budget above the count hides the next statement added.
    expect({ save: [save.counted.statements, save.counted.roundTrips], submit: [submit.counted.statements, submit.counted.roundTrips], help: [helps[0]!.counted.statements, helps[0]!.counted.roundTrips] })
      .toEqual({ save: [BUDGET.save.statements, BUDGET.save.roundTrips], submit: [BUDGET.submit.statements, BUDGET.submit.roundTrips], help: [BUDGET.help.statements, BUDGET.help.roundTrips] });
  });
});
