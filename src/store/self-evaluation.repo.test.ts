/**
 * applyTransition returns the evaluation as written: it must equal what a fresh load reads back.
 * As a batch, a transition from a stale load stops at its first statement and writes nothing,
 * on the embedded file and over HTTP (Hrana, as on Workers).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { count, eq } from 'drizzle-orm';
import { createClient } from '@libsql/client/web';
import { auditLog, selfEvaluationItems } from '../../db/schema';
import { createDb, type Db } from '../../db/client';
import { decideSelfEvaluation, type Command } from '../domain/self-evaluation';
import type { Actor } from '../domain/roles';
import { databaseFile } from '../test/db-faults';
import { startHranaServer } from '../test/hrana-server';
import { createHarness } from '../test/harness';
import { auditStatement } from './audit.repo';
import { writeBatch } from './batch';
import { openSelfEvaluationStage } from './campaign.repo';
import { writeTransaction } from './serialize';
import { applyTransition, isStaleRevision, loadEvaluation, transitionStatements, type LoadedEvaluation } from './self-evaluation.repo';

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

  describe('as one batch', () => {
    const asActor = (l: LoadedEvaluation): Actor => ({ ...everyone, roles: everyone.roles.map((r) => ({ ...r, unitId: l.state.unitId })) });

    /** Saves a draft from `loaded` in one batch, with its audit row, as the handler does. */
    function save(db: Db, loaded: LoadedEvaluation, report: string) {
      const d = decideSelfEvaluation(loaded.state, asActor(loaded), { kind: 'save' }, { version: 1, rev: loaded.state.revision });
      if (!d.ok) throw new Error(d.refusal);
      const items = loaded.indicators.filter((i) => i.level === 2).map((i) => ({ indicatorId: i.id, claimedScore: 1, explanation: report, evidenceLinks: [] }));
      const { statements } = transitionStatements(db, { loaded, decision: d.decision, actorId: 1, now: h.now(), content: { report, items } });
      return writeBatch(db, [...statements, auditStatement(db, { at: h.now(), actorId: 1, platform: 'local', action: 'test.save', subjectType: 'self_evaluation', subjectId: 1 })]);
    }

    async function staleSaveWritesNothing(db: Db) {
      const loaded = (await loadEvaluation(db, 1))!;
      await save(db, loaded, '先到');
      const written = { audit: await db.select({ n: count() }).from(auditLog), items: await db.select().from(selfEvaluationItems), evaluation: await loadEvaluation(db, 1) };
      // The same load again: a concurrent click that read before the first one wrote.
      const error = await save(db, loaded, '后到').then(() => null, (e: unknown) => e);
      expect(isStaleRevision(error)).toBe(true);
      expect({ audit: await db.select({ n: count() }).from(auditLog), items: await db.select().from(selfEvaluationItems), evaluation: await loadEvaluation(db, 1) }).toEqual(written);
      expect(written.evaluation!.current.report).toBe('先到');
      expect(written.evaluation!.state.revision).toBe(loaded.state.revision + 1);
      expect(await db.select().from(selfEvaluationItems).where(eq(selfEvaluationItems.explanation, '后到'))).toEqual([]);
    }

    it('stops at the revision check from a stale load, on the embedded file', () => staleSaveWritesNothing(h.db));

    it('stops at the revision check from a stale load, over HTTP', async () => {
      const server = await startHranaServer({ path: await databaseFile(h.db) });
      const client = createClient({ url: server.url });
      try {
        await staleSaveWritesNothing(createDb(client));
      } finally {
        client.close();
        await server.close();
      }
    });
  });
});
