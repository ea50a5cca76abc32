import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { flattenIndicators, parseSchemeFile, type SchemeFile } from './scheme';

const shipped: unknown = JSON.parse(readFileSync(new URL('../../db/seed/schemes/haian-legal-person.json', import.meta.url), 'utf8'));

type Node = { code: string; title: string; maxPoints: number; children?: Node[]; [k: string]: unknown };
/** A small valid scheme: 1 (10) → 1.1 (4), 1.2 (6); 2 (5) without children. */
const base = () => ({
  code: 'test-scheme',
  name: '测试方案',
  indicators: [
    { code: '1', title: '方面一', maxPoints: 10, children: [{ code: '1.1', title: '小项一', maxPoints: 4 }, { code: '1.2', title: '小项二', maxPoints: 6 }] },
    { code: '2', title: '方面二', maxPoints: 5 },
  ] as Node[],
});

function schemeOf(raw: unknown): SchemeFile {
  const r = parseSchemeFile(raw, 'test.json');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.scheme;
}

function errorsOf(raw: unknown): string[] {
  const r = parseSchemeFile(raw, 'test.json');
  if (r.ok) throw new Error('expected errors');
  return r.errors;
}

const node = (s: ReturnType<typeof base>, ...path: number[]): Node => {
  let n = s.indicators[path[0] as number] as Node;
  for (const i of path.slice(1)) n = n.children?.[i] as Node;
  return n;
};

describe('the shipped scheme file', () => {
  const scheme = schemeOf(shipped);
  const rows = flattenIndicators(scheme);

  it('parses with three 大项 of nine 小项 worth 100 points', () => {
    expect(scheme.code).toBe('haian-legal-person');
    expect(scheme.indicators.map((i) => i.code)).toEqual(['1', '2', '3']);
    const leaves = rows.filter((r) => !rows.some((c) => c.parentCode === r.code));
    expect(leaves.map((l) => l.code)).toEqual(['1.1', '1.2', '1.3', '2.1', '2.2', '2.3', '3.1', '3.2', '3.3']);
    expect(leaves.reduce((s, l) => s + l.maxPoints, 0)).toBe(100);
    expect(scheme.indicators.reduce((s, i) => s + i.maxPoints, 0)).toBe(100);
  });

  it('gives every 小项 a scoring guide and evidence', () => {
    for (const r of rows.filter((x) => x.level === 2)) {
      expect(r.scoringGuide, r.code).not.toBe('');
      expect(r.evidence, r.code).not.toBe('');
    }
  });
});

describe('parseSchemeFile', () => {
  it('fills version and description defaults', () => {
    const s = schemeOf(base());
    expect(s.version).toBe(1);
    expect(s.description).toBe('');
  });

  it('accepts children whose points add up within floating-point error', () => {
    const s = base();
    s.indicators = [{ code: '1', title: 't', maxPoints: 0.3, children: [{ code: '1.1', title: 'a', maxPoints: 0.1 }, { code: '1.2', title: 'b', maxPoints: 0.2 }] }];
    expect(schemeOf(s).indicators[0]?.maxPoints).toBe(0.3);
  });

  it.each([
    {
      label: 'children not adding up to the parent, naming the parent code',
      mutate: (s: ReturnType<typeof base>) => { node(s, 0, 1).maxPoints = 5; },
      path: 'indicators.0.maxPoints',
      words: ['1 has maxPoints 10', 'add up to 9'],
    },
    {
      label: 'a mismatch one level down',
      mutate: (s: ReturnType<typeof base>) => { node(s, 0, 1).children = [{ code: '1.2.1', title: '细项', maxPoints: 2 }]; },
      path: 'indicators.0.children.1.maxPoints',
      words: ['1.2 has maxPoints 6', 'add up to 2'],
    },
    {
      label: 'a duplicate code among siblings',
      mutate: (s: ReturnType<typeof base>) => { node(s, 0, 1).code = '1.1'; },
      path: 'indicators.0.children.1.code',
      words: ['duplicate indicator code 1.1'],
    },
    {
      label: 'a duplicate code across levels',
      mutate: (s: ReturnType<typeof base>) => { node(s, 1).code = '1.2'; },
      path: 'indicators.1.code',
      words: ['duplicate indicator code 1.2'],
    },
    {
      label: 'an unknown property on an indicator (objects are strict)',
      mutate: (s: ReturnType<typeof base>) => { node(s, 0, 0).weight = 3; },
      path: 'indicators.0.children.0',
      words: ['weight'],
    },
    {
      label: 'a misspelt property on an indicator',
      mutate: (s: ReturnType<typeof base>) => { node(s, 1).evidenceRequried = true; },
      path: 'indicators.1',
      words: ['evidenceRequried'],
    },
    {
      label: 'a missing title',
      mutate: (s: ReturnType<typeof base>) => { delete (node(s, 0, 1) as Partial<Node>).title; },
      path: 'indicators.0.children.1.title',
      words: [],
    },
    {
      label: 'an empty title',
      mutate: (s: ReturnType<typeof base>) => { node(s, 1).title = ''; },
      path: 'indicators.1.title',
      words: [],
    },
    {
      label: 'a bad indicator code',
      mutate: (s: ReturnType<typeof base>) => { node(s, 1).code = '2 .1'; },
      path: 'indicators.1.code',
      words: ['an indicator code like "1" or "1.2"'],
    },
    {
      label: 'non-positive points',
      mutate: (s: ReturnType<typeof base>) => { node(s, 1).maxPoints = 0; },
      path: 'indicators.1.maxPoints',
      words: [],
    },
  ])('rejects $label at $path', ({ mutate, path, words }) => {
    const s = base();
    mutate(s);
    const errors = errorsOf(s);
    expect(errors).toHaveLength(1);
    const [e] = errors;
    expect(e?.startsWith(`test.json: ${path}: `)).toBe(true);
    for (const w of words) expect(e).toContain(w);
  });

  it.each([
    { label: 'an unknown top-level property', raw: { ...base(), author: 'x' }, path: '(root)', word: 'author' },
    { label: 'a missing name', raw: { code: 'test-scheme', indicators: base().indicators }, path: 'name', word: '' },
    { label: 'an upper-case scheme code', raw: { ...base(), code: 'Test' }, path: 'code', word: 'lower-case letters, digits and dashes' },
    { label: 'no indicators', raw: { ...base(), indicators: [] }, path: 'indicators', word: '' },
  ])('rejects $label at $path', ({ raw, path, word }) => {
    const errors = errorsOf(raw);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.startsWith(`test.json: ${path}: `)).toBe(true);
    expect(errors[0]).toContain(word);
  });

  it.each([null, 'scheme', 42, []])('rejects %j as a whole with a (root) path', (raw) => {
    expect(errorsOf(raw)).toEqual([expect.stringMatching(/^test\.json: \(root\): /)]);
  });

  it('prefixes errors with the default source when none is given', () => {
    const r = parseSchemeFile({ ...base(), code: 'Bad' });
    expect(r.ok ? [] : r.errors).toEqual([expect.stringMatching(/^scheme: code: /)]);
  });
});

describe('flattenIndicators', () => {
  it('lists 大项 before their 小项, in reading order, with parentCode, level and ordinal', () => {
    const s = base();
    node(s, 0, 1).children = [{ code: '1.2.1', title: '细项一', maxPoints: 2 }, { code: '1.2.2', title: '细项二', maxPoints: 4 }];
    const rows = flattenIndicators(schemeOf(s));
    expect(rows.map((r) => [r.code, r.parentCode, r.level, r.ordinal])).toEqual([
      ['1', null, 1, 0],
      ['1.1', '1', 2, 1],
      ['1.2', '1', 2, 2],
      ['1.2.1', '1.2', 3, 3],
      ['1.2.2', '1.2', 3, 4],
      ['2', null, 1, 5],
    ]);
  });

  it('defaults optional fields: no guide or evidence, evidence optional, explanation required', () => {
    const [first] = flattenIndicators(schemeOf(base()));
    expect(first).toEqual({
      code: '1', parentCode: null, level: 1, ordinal: 0, title: '方面一', maxPoints: 10,
      scoringGuide: '', evidence: '', evidenceRequired: false, explanationRequired: true,
    });
  });

  it('keeps the given optional fields', () => {
    const s = base();
    Object.assign(node(s, 1), { scoringGuide: '细则', evidence: '台账', evidenceRequired: true, explanationRequired: false });
    expect(flattenIndicators(schemeOf(s)).find((r) => r.code === '2')).toMatchObject({ scoringGuide: '细则', evidence: '台账', evidenceRequired: true, explanationRequired: false });
  });

  it('flattens the shipped scheme into 12 rows: each 大项 followed by its three 小项', () => {
    const rows = flattenIndicators(schemeOf(shipped));
    expect(rows.map((r) => `${r.level}:${r.code}<${r.parentCode ?? '-'}`)).toEqual([
      '1:1<-', '2:1.1<1', '2:1.2<1', '2:1.3<1',
      '1:2<-', '2:2.1<2', '2:2.2<2', '2:2.3<2',
      '1:3<-', '2:3.1<3', '2:3.2<3', '2:3.3<3',
    ]);
    expect(rows.map((r) => r.ordinal)).toEqual(rows.map((_, i) => i));
  });
});
