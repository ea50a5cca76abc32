/** applyTransition returns the evaluation as written: it must equal what a fresh load reads back. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decideSelfEvaluation, type Command } from '../domain/self-evaluation';
import type { Actor } from '../domain/roles';
import { createHarness } from '../test/harness';
import { openSelfEvaluationStage } from './campaign.repo';
import { writeTransaction } from './serialize';
import { applyTransition, loadEvaluation, type LoadedEvaluation } from './self-evaluation.repo';

type H = Awaited<ReturnType<typeof createHarness>>;

const everyone: Actor = {
  personId: 1,
  name: '测试',
  roles: [
    { role: 'filler', unitId: null, campaignId: null },
    { role: 'unit_head', unitId: null, campaignId: null },
    { role: 'evaluator', unitId: null, campaignId: null },
  ],
};

describe('applyTransition', () => {
  let h: H;
  beforeEach(async () => {
    h = await createHarness();
    await writeTransaction(h.db, (tx) => openSelfEvaluationStage(tx, 1, h.now() + 86_400_000, h.now()));
  });
  afterEach(async () => h.close());

  it.each<Command['kind'][]>([
    ['save', 'submit', 'sign', 'return', 'save', 'submit', 'head_return', 'submit', 'sign', 'accept'],
  ])('matches a fresh load after every step of %j', async (...steps) => {
    let loaded = (await loadEvaluation(h.db, 1))!;
    for (const kind of steps) {
      const actor: Actor = { ...everyone, roles: everyone.roles.map((r) => ({ ...r, unitId: loaded.state.unitId })) };
      const d = decideSelfEvaluation(loaded.state, actor, { kind }, { version: loaded.state.currentVersion, rev: loaded.state.revision });
      if (!d.ok) throw new Error(`${kind}: ${d.refusal}`);
      h.advance(1000);
      const content = kind === 'save' || kind === 'submit'
        ? { report: `报告 ${kind}`, items: loaded.indicators.filter((i) => i.level === 2).map((i, n) => ({ indicatorId: i.id, claimedScore: n, explanation: `说明${n}`, evidenceLinks: [`https://e.example.cn/${n}`] })) }
        : undefined;
      const review = kind === 'return' || kind === 'head_return' ? { stage: kind === 'return' ? 'evaluator' as const : 'head' as const, decision: 'return' as const, comment: '请修改', itemComments: { '1.1': '补材料' } } : undefined;
      const returned: LoadedEvaluation | null = await writeTransaction(h.db, (tx) => applyTransition(tx, { loaded, decision: d.decision, actorId: 1, now: h.now(), content, review }));
      const fresh = await loadEvaluation(h.db, 1);
      expect(returned, kind).toEqual(fresh);
      loaded = fresh!;
    }
    expect(loaded.state).toMatchObject({ status: 'accepted', currentVersion: 3 });
  });

  it('writes nothing and returns null when the revision moved on', async () => {
    const loaded = (await loadEvaluation(h.db, 1))!;
    const d = decideSelfEvaluation(loaded.state, { ...everyone, roles: everyone.roles.map((r) => ({ ...r, unitId: loaded.state.unitId })) }, { kind: 'submit' }, { version: 1, rev: 0 });
    if (!d.ok) throw new Error(d.refusal);
    const stale = { ...loaded, state: { ...loaded.state, revision: 7 } };
    expect(await writeTransaction(h.db, (tx) => applyTransition(tx, { loaded: stale, decision: d.decision, actorId: 1, now: h.now() }))).toBeNull();
    expect(await loadEvaluation(h.db, 1)).toEqual(loaded);
  });
});
