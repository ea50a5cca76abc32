import { describe, expect, it } from 'vitest';
import { currentStage, decideOpenSelfEvaluation, type OpenStageRefusal, type StageName, type StageState } from './campaign';
import type { Actor, RoleGrant } from './roles';

const CAMPAIGN = 7;
const actor = (...roles: RoleGrant[]): Actor => ({ personId: 1, name: '评估组', roles });
const evaluator = actor({ role: 'evaluator', unitId: null, campaignId: CAMPAIGN });

/** 2026-05-10 10:00 in Shanghai. */
const NOW = Date.parse('2026-05-10T02:00:00Z');

type Input = Parameters<typeof decideOpenSelfEvaluation>[0];
const input = (o: Partial<Input> = {}): Input => ({
  campaignId: CAMPAIGN,
  campaignStatus: 'running',
  stage: { stage: 'self_evaluation', status: 'pending', dueAt: null },
  unitCount: 6,
  ...o,
});

describe('decideOpenSelfEvaluation', () => {
  type Row = { label: string; in?: Partial<Input>; who?: Actor; due: string; now?: number; expected: OpenStageRefusal | { dueAt: string } };
  const rows: Row[] = [
    { label: 'no roles', who: actor(), due: '2026-05-24', expected: 'forbidden' },
    { label: 'a leader', who: actor({ role: 'leader', unitId: null, campaignId: null }), due: '2026-05-24', expected: 'forbidden' },
    { label: 'a filler', who: actor({ role: 'filler', unitId: 3, campaignId: CAMPAIGN }), due: '2026-05-24', expected: 'forbidden' },
    { label: 'an evaluator of another campaign', who: actor({ role: 'evaluator', unitId: null, campaignId: 8 }), due: '2026-05-24', expected: 'forbidden' },
    {
      label: 'forbidden wins over every other refusal',
      who: actor(),
      in: { campaignStatus: 'closed', stage: { stage: 'self_evaluation', status: 'open', dueAt: null }, unitCount: 0 },
      due: 'garbage',
      expected: 'forbidden',
    },
    { label: 'campaign closed', in: { campaignStatus: 'closed' }, due: '2026-05-24', expected: 'campaign_closed' },
    { label: 'stage already open', in: { stage: { stage: 'self_evaluation', status: 'open', dueAt: NOW } }, due: '2026-05-24', expected: 'already_open' },
    { label: 'stage already closed', in: { stage: { stage: 'self_evaluation', status: 'closed', dueAt: NOW } }, due: '2026-05-24', expected: 'already_open' },
    { label: 'garbage date', due: 'next friday', expected: 'bad_date' },
    { label: 'empty date', due: '', expected: 'bad_date' },
    { label: 'impossible date', due: '2026-02-30', expected: 'bad_date' },
    { label: 'yesterday', due: '2026-05-09', expected: 'due_in_past' },
    { label: 'last year', due: '2025-12-31', expected: 'due_in_past' },
    {
      label: 'yesterday, one millisecond into today (Shanghai) though still yesterday in UTC',
      now: Date.parse('2026-05-09T16:00:00.000Z'),
      due: '2026-05-09',
      expected: 'due_in_past',
    },
    { label: 'today: its end is still ahead', due: '2026-05-10', expected: { dueAt: '2026-05-10T15:59:59.999Z' } },
    { label: 'today, from Feishu', due: '2026-05-10 +0800', expected: { dueAt: '2026-05-10T15:59:59.999Z' } },
    { label: 'in two weeks', due: '2026-05-24', expected: { dueAt: '2026-05-24T15:59:59.999Z' } },
    { label: 'a draft campaign', in: { campaignStatus: 'draft' }, due: '2026-05-24', expected: { dueAt: '2026-05-24T15:59:59.999Z' } },
    { label: 'an evaluator for every campaign', who: actor({ role: 'evaluator', unitId: null, campaignId: null }), due: '2026-06-01', expected: { dueAt: '2026-06-01T15:59:59.999Z' } },
    { label: 'no units', in: { unitCount: 0 }, due: '2026-05-24', expected: 'no_units' },
  ];

  it.each(rows)('$label ($due) → $expected', ({ in: o, who, due, now, expected }) => {
    const r = decideOpenSelfEvaluation(input(o), who ?? evaluator, due, now ?? NOW);
    if (typeof expected === 'string') expect(r).toEqual({ ok: false, refusal: expected });
    else expect(r).toEqual({ ok: true, dueAt: Date.parse(expected.dueAt) });
  });
});

describe('currentStage', () => {
  const s = (stage: StageName, status: StageState['status'], dueAt: number | null = null): StageState => ({ stage, status, dueAt });

  it.each([
    { label: 'no stages', stages: [], expected: undefined },
    { label: 'all pending → the first', stages: [s('notice', 'pending'), s('self_evaluation', 'pending')], expected: s('notice', 'pending') },
    { label: 'only the first open', stages: [s('notice', 'open'), s('self_evaluation', 'pending'), s('on_site', 'pending')], expected: s('notice', 'open') },
    {
      label: 'the last opened one',
      stages: [s('notice', 'closed'), s('self_evaluation', 'open', 5), s('on_site', 'pending')],
      expected: s('self_evaluation', 'open', 5),
    },
    {
      label: 'a closed stage counts as opened',
      stages: [s('notice', 'closed'), s('self_evaluation', 'closed', 9), s('on_site', 'pending')],
      expected: s('self_evaluation', 'closed', 9),
    },
    { label: 'two open → the later', stages: [s('notice', 'open'), s('self_evaluation', 'open')], expected: s('self_evaluation', 'open') },
  ])('$label', ({ stages, expected }) => {
    expect(currentStage(stages)).toEqual(expected);
  });
});
