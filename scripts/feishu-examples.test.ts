/**
 * Grounds the Feishu card validator in Feishu's own examples: every full JSON 2.0 card found in
 * the stored official docs (/work/shared/feishu-card-examples/official, see its README) must
 * validate, except the placeholder blocks the README warns about, listed below with the exact
 * errors expected. Lives in scripts/ because it reads files (node:fs is barred from cards/).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateFeishuCard } from '../cards/render/feishu-validate';

const DIR = process.env.FEISHU_EXAMPLES_DIR ?? '/work/shared/feishu-card-examples/official';
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

type J = Record<string, unknown>;
const isObj = (v: unknown): v is J => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A few blocks show a card inside the envelope it travels in; the card is what is checked:
 * custom-bot webhook `{msg_type: "interactive", card}`, callback response `{toast, card: {type:
 * "raw", data}}`, CardKit create-card `{type: "card_json", data: "<card JSON text>"}`.
 */
function unwrap(doc: J): unknown {
  if (doc.msg_type === 'interactive' && isObj(doc.card)) return doc.card;
  if (isObj(doc.card) && doc.card.type === 'raw') return doc.card.data;
  if (doc.type === 'card_json' && typeof doc.data === 'string') return JSON.parse(doc.data);
  return doc;
}

const load = (file: string): unknown => unwrap(JSON.parse(readFileSync(join(DIR, file), 'utf8')) as J);

/** The README's placeholders ("an empty header {}, "tag": "xxx", a repeated element_id"). */
const EXPECTED_FAILURES: Readonly<Record<string, { reason: string; errors: readonly string[] }>> = {
  'en-card-json-v2-breaking-changes-release-notes--L79.json': {
    reason: 'skeleton of the 2.0 root: empty header and card_link, and a root fallback the same page says 2.0 does not support',
    errors: [
      '$.header.title: required property is missing',
      '$.fallback: unknown property "fallback"',
      '$.card_link: needs url, or all of pc_url, ios_url and android_url',
    ],
  },
  'en-card-json-v2-structure--L145.json': {
    reason: 'skeleton of the global fields: empty header and card_link',
    errors: ['$.header.title: required property is missing', '$.card_link: needs url, or all of pc_url, ios_url and android_url'],
  },
  'en-card-json-v2-structure--L32.json': {
    reason: 'annotated structure: a component with "tag": "xxx" that reuses the element_id "custom_id" of a header tag',
    errors: [
      '$.body.elements[0].element_id: "custom_id" is already used at $.header.text_tag_list[0]',
      '$.body.elements[0].tag: unknown tag "xxx"',
    ],
  },
  'en-v2-containers__column-set--L48.json': {
    reason: 'annotated structure: the column_set and its column both use the element_id "custom_id"',
    errors: ['$.body.elements[0].columns[0].element_id: "custom_id" is already used at $.body.elements[0]'],
  },
  'zh-v2-展示__普通文本--L20.json': {
    reason: 'annotated structure: the div and its text both use the element_id "custom_id"',
    errors: ['$.body.elements[0].text.element_id: "custom_id" is already used at $.body.elements[0]'],
  },
};

const keyPath = (path: string, key: string): string => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`);

/** JSON paths (in the validator's notation) of the tagged objects of a card. */
function taggedPaths(v: unknown, path = '$'): string[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => taggedPaths(x, `${path}[${i}]`));
  if (!isObj(v)) return [];
  const own = typeof v.tag === 'string' ? [path] : [];
  const below = Object.entries(v).filter(([k]) => k !== 'chart_spec' && k !== 'value' && k !== 'rows').flatMap(([k, x]) => taggedPaths(x, keyPath(path, k)));
  return [...own, ...below];
}

/** The object at a path produced by taggedPaths. */
function at(root: unknown, path: string): J {
  let cur: unknown = root;
  for (const m of path.slice(1).matchAll(/\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g)) {
    const key = m[1] ?? (m[2] !== undefined ? Number(m[2]) : (JSON.parse(m[3] ?? '""') as string));
    cur = (cur as Record<string | number, unknown>)[key];
  }
  if (!isObj(cur)) throw new Error(`no object at ${path}`);
  return cur;
}

describe('official Feishu card JSON 2.0 examples', () => {
  it('are all there', () => {
    expect(FILES).toHaveLength(85);
    for (const f of Object.keys(EXPECTED_FAILURES)) expect(FILES).toContain(f);
  });

  it.each(FILES)('%s', (file) => {
    const expected = EXPECTED_FAILURES[file];
    expect(validateFeishuCard(load(file))).toEqual(expected ? expected.errors : []);
  });

  const passing = FILES.filter((f) => !(f in EXPECTED_FAILURES));

  it.each(passing)('%s: an unknown property on any tagged object is reported at its path', (file) => {
    const card = load(file);
    const paths = taggedPaths(card);
    for (const path of paths) {
      const copy = structuredClone(card);
      at(copy, path).zz_probe = true;
      expect(validateFeishuCard(copy)).toEqual([`${path}.zz_probe: unknown property "zz_probe"`]);
    }
  });

  it('the probes cover every component tag the examples use', () => {
    const tags = new Set(passing.flatMap((f) => {
      const card = load(f);
      return taggedPaths(card).map((p) => at(card, p).tag as string);
    }));
    for (const t of ['markdown', 'div', 'plain_text', 'hr', 'img', 'column_set', 'column', 'form', 'input', 'select_static', 'multi_select_static',
      'date_picker', 'picker_time', 'picker_datetime', 'button', 'collapsible_panel', 'table', 'chart', 'person', 'person_list',
      'interactive_container', 'checker', 'overflow', 'text_tag']) {
      expect(tags).toContain(t);
    }
  });
});
