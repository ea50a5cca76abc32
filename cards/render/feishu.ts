/**
 * Renders a neutral CardSpec as Feishu card JSON 2.0. Pure object building: text from the card
 * never becomes JSON syntax, and text that is not our markdown subset is escaped with the
 * numeric character references the rich-text doc prescribes, so a filler cannot inject
 * `<at id=all>`, links or headings into a reviewer's card.
 *
 * Feishu rules that shape the output (doc pages under build-card-with-json/, see
 * ./feishu-validate.ts): a form sits only at the body root, holds no table or chart, and every
 * field and button in it has a card-unique `name`; a button in a form must carry
 * form_action_type; a table sits only at the root; a card holds ≤200 tagged objects and ≤30 KB.
 * A card over the limits is split into several cards ("（1/3）" in the title): root elements
 * are distributed, and a form too big for one card becomes one form per card, each with a slice
 * of the fields and the same submit buttons (the server merges partial saves).
 */
import { walk, type Button, type CardSpec, type Chart, type DatePicker, type Element, type Form, type HeaderColor, type Input, type Panel, type Select, type Table, type Tone } from '../kit';
import { FEISHU_CARD_MAX_TABLES, FEISHU_INPUT_MAX_LENGTH, checkFeishuCardStructure, fitsFeishuLimits, validateFeishuCard } from './feishu-validate';

export type FeishuJson = string | number | boolean | null | readonly FeishuJson[] | { readonly [key: string]: FeishuJson };
export type FeishuCard = { [key: string]: FeishuJson };
type Node = { [key: string]: FeishuJson };

/** A single element too large for any card (e.g. a text of more than 30 KB in one input). */
export class FeishuCardTooLargeError extends Error {
  override readonly name = 'FeishuCardTooLargeError';
}

// ---------------------------------------------------------------------------- small helpers

const HTTP_URL = /^https?:\/\/\S+$/i;
const COLORS: readonly HeaderColor[] = ['blue', 'green', 'orange', 'red', 'grey', 'purple'];
/** text_tag colours (title.md): the header palette, except grey which is "neutral" there. */
const TAG_COLOR: Readonly<Record<HeaderColor, string>> = { blue: 'blue', green: 'green', orange: 'orange', red: 'red', grey: 'neutral', purple: 'purple' };
const TONE_COLOR: Readonly<Record<Tone, string>> = { info: 'blue', success: 'green', warning: 'orange', error: 'red' };
const TONE_MARK: Readonly<Record<Tone, string>> = { info: 'ℹ️', success: '✅', warning: '⚠️', error: '❌' };
const BUTTON_TYPE = { default: 'default', primary: 'primary_filled', danger: 'danger' } as const;
/** button.md and the placeholder fields: "最多支持 100 个字符". */
const MAX_SHORT_TEXT = 100;
/** Packing measures cards with the longest title suffix they may get. */
const TITLE_SUFFIX_PLACEHOLDER = '（99/99）';

const color = (c: unknown): HeaderColor => (COLORS.includes(c as HeaderColor) ? (c as HeaderColor) : 'blue');

/** Builds a JSON object, dropping undefined values (the validator rejects them, JSON would drop them). */
function obj(props: Readonly<Record<string, FeishuJson | undefined>>): Node {
  const out: Node = {};
  for (const [k, v] of Object.entries(props)) if (v !== undefined) out[k] = v;
  return out;
}

/** configure-multi-language-content.md: 2.0 localises per component with i18n_content. */
const i18n = (zh: string, en: string | undefined): Node | undefined => (en === undefined ? undefined : { zh_cn: zh, en_us: en });
const plain = (content: string, en?: string): Node => obj({ tag: 'plain_text', content, i18n_content: i18n(content, en) });

function short(s: string): string {
  const chars = [...s];
  return chars.length <= MAX_SHORT_TEXT ? s : `${chars.slice(0, MAX_SHORT_TEXT - 1).join('')}…`;
}

// ---------------------------------------------------------------------------- markdown

// rich-text.md "特殊字符转义说明": characters with markdown meaning are written as &#N;.
const MD_SPECIAL = /[\\`*_~[\]()#+\-!<>|$:&=]/g;
const escapeChars = (s: string): string => s.replace(MD_SPECIAL, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Escapes a line's start too: leading blanks would open a code block or nest a list, "1." an
 * ordered list. Blanks become &nbsp; (rich-text.md's table: " " → &nbsp;), which shows the
 * indent and, unlike a space, is never markdown indentation; a tab counts four.
 */
function lineStart(line: string, rest: (s: string) => string): string {
  const lead = /^[ \t]*/.exec(line)?.[0] ?? '';
  const body = line.slice(lead.length);
  // CommonMark: an ordered-list marker is 1–9 digits and "." followed by a blank or the line end.
  const ordinal = /^\d{1,9}\.(?=[ \t]|$)/.exec(body)?.[0];
  const head = lead.replace(/ /g, '&nbsp;').replace(/\t/g, '&nbsp;'.repeat(4)) + (ordinal ? `${ordinal.slice(0, -1)}&#46;` : '');
  return head + rest(body.slice(ordinal?.length ?? 0));
}

/** Plain text (labels, values, notices) as markdown that shows exactly that text. */
function plainMd(text: string): string {
  return text.replace(/\r\n?/g, '\n').split('\n').map((l) => lineStart(l, escapeChars)).join('\n');
}

const INLINE = /\[([^\]\n]+)\]\(([^)\s]+)\)|\*\*(.+?)\*\*/g;
const encodeUrl = (url: string): string => url.replace(/[<>"'`\\( ]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Our inline subset, as in the simulator: **bold** and [text](http(s) url); the rest is literal. */
function inline(s: string): string {
  let out = '';
  let last = 0;
  for (const m of s.matchAll(INLINE)) {
    const [whole, text, url, bold] = m;
    out += escapeChars(s.slice(last, m.index));
    if (bold !== undefined) out += `**${inline(bold)}**`;
    else if (text !== undefined && url !== undefined && HTTP_URL.test(url)) out += `[${inline(text)}](${encodeUrl(url)})`;
    else out += escapeChars(whole);
    last = m.index + whole.length;
  }
  return out + escapeChars(s.slice(last));
}

/**
 * Our markdown subset (paragraphs, "- " lists, **bold**, links) in CommonMark terms: a list and
 * the text after it are separated by a blank line, or CommonMark would fold the text into the
 * last item; single newlines stay newlines (rich-text.md: "\n" breaks a line).
 */
function markdownMd(text: string): string {
  const paragraphs = text.replace(/\r\n?/g, '\n').split(/\n\s*\n/);
  const out: string[] = [];
  for (const para of paragraphs) {
    const runs: string[][] = [];
    let list: boolean | null = null;
    for (const line of para.replace(/^\n+|\n+$/g, '').split('\n')) {
      const item = line.startsWith('- ');
      if (item !== list) runs.push([]);
      list = item;
      runs[runs.length - 1]?.push(item ? `- ${lineStart(line.slice(2), inline)}` : lineStart(line, inline));
    }
    out.push(runs.map((r) => r.join('\n')).join('\n\n'));
  }
  return out.filter((p) => p !== '').join('\n\n');
}

const markdown = (content: string, extra: Readonly<Record<string, FeishuJson>> = {}): Node => ({ tag: 'markdown', content, ...extra });

/** A coloured line per text line: <font> is documented for 2.0 markdown (rich-text.md). */
const coloured = (fontColor: string, text: string, prefix = ''): string =>
  plainMd(text).split('\n').map((l, i) => `<font color='${fontColor}'>${i === 0 ? prefix : ''}${l}</font>`).join('\n');

// ---------------------------------------------------------------------------- render state

interface CardState {
  tables: number;
  nextButton: number;
  /** Names already taken in this card (fields, forms, generated button names). */
  readonly names: Set<string>;
}

interface Scope {
  readonly card: CardState;
  /** Inside a Feishu form: fields get `required: false`, buttons a name and form_action_type. */
  readonly inForm: boolean;
  /** Directly in body.elements: the only place for a table or form. */
  readonly atRoot: boolean;
}

function buttonName(card: CardState): string {
  let name: string;
  do name = `btn_${++card.nextButton}`;
  while (card.names.has(name));
  card.names.add(name);
  return name;
}

// ---------------------------------------------------------------------------- elements

function renderButton(b: Button, scope: Scope): Node {
  const url = b.url !== undefined && HTTP_URL.test(b.url) ? b.url : undefined;
  // A link-only button in a form would have to submit the form (form_action_type is required
  // there, and only submit/reset exist), so it becomes a markdown link instead.
  if (scope.inForm && !b.action && url && !b.disabled) return markdown(`[${escapeChars(b.label)}](${encodeUrl(url)})`);
  const behaviors: Node[] = [];
  if (b.action) behaviors.push({ type: 'callback', value: { a: b.action.id, v: { ...b.action.value } } });
  if (url) behaviors.push({ type: 'open_url', default_url: url });
  return obj({
    tag: 'button',
    text: plain(short(b.label), b.labelEn === undefined ? undefined : short(b.labelEn)),
    type: BUTTON_TYPE[b.style ?? 'default'] ?? 'default',
    behaviors: behaviors.length > 0 ? behaviors : undefined,
    confirm: b.confirm ? { title: plain(b.confirm.title), text: plain(b.confirm.text) } : undefined,
    // A button that can do nothing is shown disabled, as the simulator shows it inert.
    disabled: b.disabled || behaviors.length === 0 ? true : undefined,
    // Every button in a form submits it: a non-submit action button still posts the form, and
    // its callback value tells the server which action it is.
    name: scope.inForm ? buttonName(scope.card) : undefined,
    form_action_type: scope.inForm ? 'submit' : undefined,
  });
}

function renderButtons(buttons: readonly Button[], scope: Scope): Node[] {
  const nodes = buttons.map((b) => renderButton(b, scope));
  if (nodes.length <= 1) return nodes;
  // One row of buttons: a flowing column_set of auto-width columns, as in button.md's example.
  return [{ tag: 'column_set', flex_mode: 'flow', columns: nodes.map((n) => ({ tag: 'column', width: 'auto', elements: [n] })) }];
}

const fieldLabel = (label: string, required: boolean | undefined): string => (required ? `${label} *` : label);

/** A refused submit's message, in red right under its field. */
const errorLine = (error: string | undefined): Node[] =>
  error ? [markdown(coloured('red', error), { text_size: 'notation' })] : [];

function renderInput(i: Input, scope: Scope): Node[] {
  const max = i.maxLength !== undefined && Number.isInteger(i.maxLength) && i.maxLength >= 1 ? Math.min(i.maxLength, FEISHU_INPUT_MAX_LENGTH) : undefined;
  const input = obj({
    tag: 'input',
    name: i.name,
    label: plain(fieldLabel(i.label, i.required), i.labelEn === undefined ? undefined : fieldLabel(i.labelEn, i.required)),
    placeholder: i.placeholder ? plain(short(i.placeholder)) : undefined,
    default_value: i.value ?? '',
    max_length: max,
    input_type: i.inputType === 'multiline' ? 'multiline_text' : undefined,
    width: 'fill',
    // Never required on the client: drafts must save half-filled, and the server answers with
    // its own messages. input.md: `required` outside a form "将报错或不生效", so only in forms.
    required: scope.inForm ? false : undefined,
  });
  return [input, ...errorLine(i.error)];
}

/** select_static and date_picker have no label property, so the label is a markdown line above. */
const labelLine = (label: string, required: boolean | undefined): Node => markdown(plainMd(fieldLabel(label, required)));

function renderSelect(s: Select, scope: Scope): Node[] {
  const values = new Set(s.options.map((o) => o.value));
  const options = s.options.map((o) => ({ text: plain(o.label), value: o.value }));
  const common = { name: s.name, placeholder: plain('请选择'), options, width: 'fill', required: scope.inForm ? false : undefined };
  // multi-select-dropdown-menu.md: multi_select_static lives only in a form; outside one the
  // control degrades to a single select.
  const control = s.multiple && scope.inForm
    ? obj({ tag: 'multi_select_static', ...common, selected_values: (s.value ?? '').split(',').filter((v) => values.has(v)) })
    : obj({ tag: 'select_static', ...common, initial_option: s.value !== undefined && values.has(s.value) ? s.value : undefined });
  return [labelLine(s.label, s.required), control, ...errorLine(s.error)];
}

function renderDate(d: DatePicker, scope: Scope): Node[] {
  const control = obj({
    tag: 'date_picker',
    name: d.name,
    placeholder: plain('请选择日期'),
    initial_date: d.value !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(d.value) ? d.value : undefined,
    required: scope.inForm ? false : undefined,
  });
  return [labelLine(d.label, d.required), control, ...errorLine(d.error)];
}

const cellText = (row: Table['rows'][number], key: string): string => (Object.hasOwn(row, key) ? String(row[key] ?? '') : '');

/** Table rows as text lines: tables may not sit in a form, panel or column (table.md). */
function tableAsMarkdown(t: Table): Node {
  const lines = t.rows.map((r) => `- ${t.columns.map((c) => `${plainMd(c.label)}：${plainMd(cellText(r, c.key))}`).join(' · ')}`);
  return markdown(lines.length > 0 ? lines.join('\n') : '暂无数据');
}

function renderTable(t: Table, scope: Scope): Node {
  // table.md: root only, ≤5 per card, ≤50 columns, page_size 1–10.
  const fits = scope.atRoot && scope.card.tables < FEISHU_CARD_MAX_TABLES && t.columns.length > 0 && t.columns.length <= 50 && t.rows.length > 0;
  if (!fits) return tableAsMarkdown(t);
  scope.card.tables += 1;
  const numeric = (key: string): boolean => t.rows.every((r) => typeof r[key] === 'number' && Number.isFinite(r[key]));
  const kinds = new Map(t.columns.map((c) => [c.key, numeric(c.key)]));
  return {
    tag: 'table',
    page_size: Math.min(10, Math.max(1, Math.floor(t.pageSize ?? 10))),
    columns: t.columns.map((c) => obj({ name: c.key, display_name: c.label, data_type: kinds.get(c.key) ? 'number' : 'text', horizontal_align: c.align })),
    rows: t.rows.map((r) => Object.fromEntries(t.columns.map((c) => [c.key, kinds.get(c.key) ? (r[c.key] as number) : cellText(r, c.key)]))),
  };
}

const finite = (v: number): number => (Number.isFinite(v) ? v : 0);

/** A VChart spec in plain JSON (chart.md: no JavaScript), with one flat data table. */
function chartSpec(c: Chart): Node {
  const multi = c.series.length > 1;
  const title = c.title ? { text: c.title } : undefined;
  const legends = multi ? { visible: true, orient: 'bottom' } : undefined;
  if (c.kind === 'pie') {
    const values = c.series.flatMap((s) => s.data.map((d) => ({ label: multi ? `${s.name} · ${d.label}` : d.label, value: finite(d.value) })));
    return obj({ type: 'pie', title, data: [{ id: 'data', values }], valueField: 'value', categoryField: 'label', outerRadius: 0.8, label: { visible: true }, legends: { visible: true } });
  }
  const values = c.series.flatMap((s) => s.data.map((d) => ({ label: d.label, value: finite(d.value), series: s.name })));
  const data = [{ id: 'data', values }];
  if (c.kind === 'line') return obj({ type: 'line', title, data, xField: 'label', yField: 'value', seriesField: 'series', legends });
  return obj({ type: 'bar', title, data, xField: multi ? ['label', 'series'] : 'label', yField: 'value', seriesField: multi ? 'series' : undefined, legends });
}

function chartAsMarkdown(c: Chart): Node {
  const lines = c.series.flatMap((s) => s.data.map((d) => `- ${c.series.length > 1 ? `${plainMd(s.name)} · ` : ''}${plainMd(d.label)}：${finite(d.value)}`));
  return markdown([...(c.title ? [`**${plainMd(c.title)}**`] : []), ...lines].join('\n') || '暂无数据');
}

const weight = (w: number | undefined): number => Math.min(5, Math.max(1, Math.round(w !== undefined && Number.isFinite(w) ? w : 1)));

function renderElement(el: Element, scope: Scope): Node[] {
  const nested: Scope = { ...scope, atRoot: false };
  switch (el.type) {
    case 'markdown': {
      const content = markdownMd(el.text);
      const en = el.textEn === undefined ? undefined : markdownMd(el.textEn);
      return content === '' ? [] : [markdown(content, en === undefined ? {} : { i18n_content: { zh_cn: content, en_us: en } })];
    }
    case 'notice': {
      const paint = (text: string) => coloured(TONE_COLOR[el.tone] ?? 'blue', text, `${TONE_MARK[el.tone] ?? ''} `);
      const content = paint(el.text);
      return [markdown(content, el.textEn === undefined ? {} : { i18n_content: { zh_cn: content, en_us: paint(el.textEn) } })];
    }
    case 'text': {
      const content = plainMd(el.text);
      return content === '' ? [] : [markdown(content)];
    }
    case 'divider': return [{ tag: 'hr' }];
    case 'fields':
      // One markdown per group rather than a column_set (5+ components): the 200-component
      // budget is what limits a form with dozens of indicators.
      return el.fields.length === 0 ? [] : [markdown(el.fields.map((f) => `**${plainMd(f.label)}**：${plainMd(f.value)}`).join('\n'))];
    case 'actions': return renderButtons(el.buttons, scope);
    case 'button': return [renderButton(el, scope)];
    case 'table': return [renderTable(el, scope)];
    // form-container.md lists charts among what a form cannot hold.
    case 'chart': return [scope.inForm ? chartAsMarkdown(el) : { tag: 'chart', chart_spec: chartSpec(el) }];
    case 'columns':
      return [{
        tag: 'column_set',
        flex_mode: 'none',
        columns: el.columns.map((c) => ({ tag: 'column', width: 'weighted', weight: weight(c.weight), elements: renderElements(c.elements, nested) })),
      }];
    case 'panel':
      // A panel inside a form is allowed in 2.0 (form-container.md: forms hold everything but
      // form and table; breaking-changes: "表单容器…可内嵌除表单容器（form）和表格组件（table）外的其它所有组件").
      return [{
        tag: 'collapsible_panel',
        expanded: el.expanded === true,
        header: { title: plain(el.title) },
        border: { color: 'grey', corner_radius: '5px' },
        elements: renderElements(el.elements, nested),
      }];
    case 'form':
      // Feishu forms do not nest: a form inside a form joins the outer one, as in the simulator.
      if (scope.inForm) return renderElements(el.elements, scope);
      if (!scope.atRoot) throw new Error(`renderFeishuCards: form "${el.name}" below the root was not hoisted`);
      return [{ tag: 'form', name: el.name, elements: renderElements(el.elements, { ...nested, inForm: true }) }];
    case 'input': return renderInput(el, scope);
    case 'select': return renderSelect(el, scope);
    case 'date': return renderDate(el, scope);
    default: {
      const unknown: never = el;
      throw new Error(`renderFeishuCards: unknown element ${JSON.stringify(unknown)}`);
    }
  }
}

function renderElements(els: readonly Element[], scope: Scope): Node[] {
  return els.flatMap((el) => renderElement(el, scope));
}

const firstForm = (el: Element): Form | undefined => [...walk([el])].find((e): e is Form => e.type === 'form');

/**
 * A form may only sit at the root (form-container.md), so a root panel or column set that
 * contains a form is wrapped in that form instead; the inner form's fields join it.
 */
function renderRoot(el: Element, scope: Scope): Node[] {
  const inner = el.type === 'form' ? undefined : firstForm(el);
  if (!inner) return renderElement(el, scope);
  return [{ tag: 'form', name: inner.name, elements: renderElement(el, { ...scope, atRoot: false, inForm: true }) }];
}

function renderHeader(h: CardSpec['header'], suffix: string): Node {
  const c = color(h.color);
  const tags = (h.tags ?? []).slice(0, 3); // title.md: at most three tags are shown
  return obj({
    title: plain(`${h.title}${suffix}`, h.titleEn === undefined ? undefined : `${h.titleEn}${suffix}`),
    subtitle: h.subtitle ? plain(h.subtitle) : undefined,
    template: c,
    text_tag_list: tags.length > 0 ? tags.map((t) => ({ tag: 'text_tag', text: plain(t.text, t.textEn), color: TAG_COLOR[color(t.color ?? c)] })) : undefined,
  });
}

/** Names the spec already uses, so generated button names never collide with them. */
function usedNames(els: readonly Element[]): Set<string> {
  const names = new Set<string>();
  for (const e of walk(els)) if (e.type === 'form' || e.type === 'input' || e.type === 'select' || e.type === 'date') names.add(e.name);
  return names;
}

function renderOne(spec: CardSpec, elements: readonly Element[], suffix: string): FeishuCard {
  const card: CardState = { tables: 0, nextButton: 0, names: usedNames(elements) };
  const scope: Scope = { card, inForm: false, atRoot: true };
  return {
    schema: '2.0',
    // card-json-v2-structure.md: 2.0 cards are shared cards, update_multi may only be true.
    config: obj({
      update_multi: true,
      summary: spec.summary !== undefined ? { content: spec.summary } : undefined,
      // The card offers English beside Chinese when its builder gave English text.
      locales: spec.header.titleEn !== undefined ? ['zh_cn', 'en_us'] : undefined,
    }),
    header: renderHeader(spec.header, suffix),
    body: { elements: elements.flatMap((el) => renderRoot(el, scope)) },
  };
}

// ---------------------------------------------------------------------------- splitting

/** A container that may be cut across cards: a root form, or a panel without form fields in it. */
interface Frame {
  readonly src: Form | Panel;
  /** Form children with submit buttons: repeated in every slice of the form. */
  readonly tail: readonly Element[];
}

/** A run of elements that stays together in one card, under its chain of containers. */
interface Unit {
  readonly path: readonly Frame[];
  readonly els: readonly Element[];
}

const FIELD_TYPES = new Set(['input', 'select', 'date']);
const hasFields = (el: Element): boolean => [...walk([el])].some((e) => FIELD_TYPES.has(e.type));
const hasSubmit = (el: Element): boolean => [...walk([el])].some((e) => e.type === 'button' && e.submit === true);
/** Headings and notes stick to the field group that follows them. */
const isLead = (el: Element): boolean => el.type === 'markdown' || el.type === 'notice' || el.type === 'divider';

class Splitter {
  /** The unit that opens each frame; a frame opened by any other unit is a continuation. */
  private readonly opener = new Map<Frame, Unit>();

  constructor(private readonly spec: CardSpec) {}

  frame(src: Form | Panel): Frame {
    const tail = src.type === 'form' ? src.elements.filter((c) => c.type !== 'panel' && hasSubmit(c)) : [];
    return { src, tail };
  }

  /** Children of a frame as units; field groups (and panels) stay whole until refined. */
  childUnits(children: readonly Element[], path: readonly Frame[]): Unit[] {
    const frame = path[path.length - 1];
    const units: Unit[] = [];
    let pending: Element[] = [];
    for (const c of children) {
      if (frame?.tail.includes(c)) continue;
      if (isLead(c)) {
        pending.push(c);
        continue;
      }
      units.push({ path, els: [...pending, c] });
      pending = [];
    }
    if (pending.length > 0) units.push({ path, els: pending });
    // A container with nothing but its tail still needs a unit to appear.
    if (units.length === 0) units.push({ path, els: [] });
    const first = units[0];
    if (frame && first && !this.opener.has(frame)) this.opener.set(frame, first);
    return units;
  }

  rootUnits(): Unit[] {
    return this.spec.elements.flatMap((el) => (el.type === 'form' ? this.childUnits(el.elements, [this.frame(el)]) : [{ path: [], els: [el] }]));
  }

  /** Finer units for one that does not fit in an empty card, or null when it cannot be cut. */
  refine(u: Unit): Unit[] | null {
    if (u.els.length > 1) return u.els.map((el) => ({ path: u.path, els: [el] }));
    const el = u.els[0];
    if (!el) return null;
    const inForm = u.path.some((f) => f.src.type === 'form');
    // Never cut an indicator's field group: a panel in a form is cut only if it has no fields.
    if (el.type === 'panel' && !(inForm && hasFields(el)) && !firstForm(el) && el.elements.length > 0) {
      return this.childUnits(el.elements, [...u.path, this.frame(el)]);
    }
    if (el.type === 'markdown' || el.type === 'notice' || el.type === 'text') {
      const halves = halve(el.text);
      return halves ? halves.map((text) => ({ path: u.path, els: [{ ...el, text }] })) : null;
    }
    return null;
  }

  /** Rebuilds the element tree of one card from consecutive units. */
  build(units: readonly Unit[]): Element[] {
    const root: Element[] = [];
    const stack: Array<{ frame: Frame; children: Element[]; continued: boolean }> = [];
    const close = (): void => {
      const top = stack.pop();
      if (!top) return;
      const src = top.frame.src;
      const el: Element = src.type === 'form'
        ? { ...src, elements: [...top.children, ...top.frame.tail] }
        : { ...src, title: top.continued ? `${src.title}（续）` : src.title, elements: top.children };
      (stack[stack.length - 1]?.children ?? root).push(el);
    };
    for (const u of units) {
      let shared = 0;
      while (shared < stack.length && stack[shared]?.frame === u.path[shared]) shared += 1;
      while (stack.length > shared) close();
      for (const frame of u.path.slice(shared)) stack.push({ frame, children: [], continued: this.opener.get(frame) !== u });
      (stack[stack.length - 1]?.children ?? root).push(...u.els);
    }
    while (stack.length > 0) close();
    return root;
  }

  fits(units: readonly Unit[]): boolean {
    return fitsFeishuLimits(renderOne(this.spec, this.build(units), TITLE_SUFFIX_PLACEHOLDER));
  }

  /** Greedy packing: each card takes as many consecutive units as fit. */
  pack(): Unit[][] {
    const units = this.rootUnits();
    const cards: Unit[][] = [];
    let current: Unit[] = [];
    let i = 0;
    while (i < units.length) {
      const u = units[i] as Unit;
      if (this.fits([...current, u])) {
        current.push(u);
        i += 1;
      } else if (current.length > 0 && this.fits([u])) {
        cards.push(current);
        current = [];
      } else {
        const finer = this.refine(u);
        if (!finer) throw new FeishuCardTooLargeError(`"${this.spec.header.title}": one element does not fit in a Feishu card even alone (${describeUnit(u)})`);
        // Frames opened by the replaced unit are now opened by its first piece.
        for (const [frame, opener] of this.opener) if (opener === u && finer[0]) this.opener.set(frame, finer[0]);
        units.splice(i, 1, ...finer);
      }
    }
    if (current.length > 0) cards.push(current);
    return cards;
  }
}

/** Cuts a text in two at the line break nearest its middle, or in the middle of a single line. */
function halve(text: string): [string, string] | null {
  const lines = text.split('\n');
  if (lines.length > 1) {
    const mid = Math.ceil(lines.length / 2);
    return [lines.slice(0, mid).join('\n'), lines.slice(mid).join('\n')];
  }
  const chars = [...text];
  if (chars.length < 2) return null;
  const mid = Math.ceil(chars.length / 2);
  return [chars.slice(0, mid).join(''), chars.slice(mid).join('')];
}

function describeUnit(u: Unit): string {
  return u.els.map((e) => ('name' in e ? `${e.type} ${e.name}` : 'title' in e && typeof e.title === 'string' ? `${e.type} ${e.title}` : e.type)).join(', ');
}

function assertValid(card: FeishuCard, what: string): FeishuCard {
  const errors = validateFeishuCard(card);
  if (errors.length > 0) throw new Error(`renderFeishuCards produced an invalid card (${what}):\n${errors.join('\n')}`);
  return card;
}

// ---------------------------------------------------------------------------- API

/**
 * The Feishu cards for a spec: one card when it fits, otherwise several, each valid on its own.
 * Throws FeishuCardTooLargeError when one element alone exceeds a card, and Error when the spec
 * breaks a Feishu rule that splitting cannot fix (e.g. a repeated field name).
 */
export function renderFeishuCards(spec: CardSpec): FeishuCard[] {
  const whole = renderOne(spec, spec.elements, '');
  const structural = checkFeishuCardStructure(whole);
  if (structural.length > 0) throw new Error(`renderFeishuCards: "${spec.header.title}" breaks Feishu card rules:\n${structural.join('\n')}`);
  // Structure and limits are both checked by now: the whole card is valid as it is.
  if (fitsFeishuLimits(whole)) return [whole];
  const splitter = new Splitter(spec);
  const parts = splitter.pack();
  return parts.map((units, i) => assertValid(renderOne(spec, splitter.build(units), `（${i + 1}/${parts.length}）`), `card ${i + 1} of ${parts.length}`));
}

/** The first card of renderFeishuCards (the whole card when it fits). */
export function renderFeishuCard(spec: CardSpec): FeishuCard {
  return renderFeishuCards(spec)[0] as FeishuCard;
}
