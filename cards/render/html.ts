/**
 * Renders a neutral CardSpec as HTML for the local chat simulator. Pure string building:
 * every string from the card is escaped and every attribute value is double-quoted.
 *
 * Form protocol (read by the server): every posting <form> sends hidden `_message`, `_actor`
 * and `_nonce`; the clicked button sends `_action` = JSON {id, value}. A `form` element is one
 * <form data-form="name"> holding its inputs and its `submit: true` buttons. Action buttons
 * outside a form get their own small <form>; action buttons inside a form without `submit`
 * point (via the `form` attribute) at a hidden sibling <form>, so they post no field values.
 */
import type { Button, CardSpec, Chart, DatePicker, Element, Input, Select, Table } from '../kit';

export interface CardHtmlContext {
  readonly messageId: number;
  readonly actor: string;
  readonly nonce: string;
  /** Defaults to '/local/action'. */
  readonly postUrl?: string;
}

interface State {
  readonly ctx: CardHtmlContext;
  readonly postUrl: string;
  readonly inForm: boolean;
  /** Hidden forms for non-submit action buttons inside a form, appended to the card. */
  readonly detached: string[];
}

const COLORS = ['blue', 'green', 'orange', 'red', 'grey', 'purple'] as const;
const TONES = ['info', 'success', 'warning', 'error'] as const;
const STYLES = ['default', 'primary', 'danger'] as const;
const ALIGNS = ['left', 'right', 'center'] as const;
const HTTP_URL = /^https?:\/\/\S+$/i;
const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return String(s).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Whitelists enum-like values that end up in class names or styles. */
function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  return (allowed as readonly unknown[]).includes(value) ? (value as T) : fallback;
}

const attr = (name: string, value: string | number): string => ` ${name}="${escapeHtml(String(value))}"`;
const lines = (text: string): string => escapeHtml(text).replace(/\r\n?|\n/g, '<br>');

// ---------------------------------------------------------------------------- markdown

/** Inline markup on already-escaped text: **bold** and [text](http(s) url). */
function inline(escaped: string): string {
  return escaped.replace(/\[([^\]\n]+)\]\(([^)\s]+)\)|\*\*(.+?)\*\*/g, (m, text?: string, url?: string, bold?: string) => {
    if (bold !== undefined) return `<strong>${inline(bold)}</strong>`;
    if (text !== undefined && url !== undefined && HTTP_URL.test(url)) {
      return `<a href="${url}" target="_blank" rel="noopener">${inline(text)}</a>`;
    }
    return m;
  });
}

function renderMarkdown(text: string): string {
  const out: string[] = [];
  const paragraphs = escapeHtml(text).replace(/\r\n?/g, '\n').split(/\n\s*\n/);
  for (const para of paragraphs) {
    let run: string[] = [];
    let list = false;
    const flush = (): void => {
      if (run.length === 0) return;
      out.push(list ? `<ul>${run.map((l) => `<li>${inline(l)}</li>`).join('')}</ul>` : `<p>${run.map(inline).join('<br>')}</p>`);
      run = [];
    };
    for (const line of para.replace(/^\n+|\n+$/g, '').split('\n')) {
      const item = line.startsWith('- ');
      if (item !== list) flush();
      list = item;
      run.push(item ? line.slice(2) : line);
    }
    flush();
  }
  return `<div class="md">${out.join('')}</div>`;
}

// ---------------------------------------------------------------------------- buttons

function hiddenInputs({ ctx }: State): string {
  const pairs: ReadonlyArray<readonly [string, string]> = [['_message', String(ctx.messageId)], ['_actor', ctx.actor], ['_nonce', ctx.nonce]];
  return pairs.map(([n, v]) => `<input type="hidden"${attr('name', n)}${attr('value', v)}>`).join('');
}

function formOpen(st: State, extra: string): string {
  return `<form method="post"${attr('action', st.postUrl)} enctype="application/x-www-form-urlencoded"${extra}>${hiddenInputs(st)}`;
}

function renderButton(b: Button, st: State): string {
  const cls = `button btn-${oneOf(b.style, STYLES, 'default')}`;
  const label = escapeHtml(b.label);
  const confirm = b.confirm ? attr('onclick', `return confirm(${JSON.stringify(`${b.confirm.title}\n${b.confirm.text}`)})`) : '';
  if (b.action) {
    const value = JSON.stringify({ id: b.action.id, value: b.action.value });
    const disabled = b.disabled ? ' disabled' : '';
    const html = (extra: string): string =>
      `<button type="submit"${attr('class', cls)} name="_action"${attr('value', value)}${extra}${confirm}${disabled}>${label}</button>`;
    if (st.inForm && b.submit) return html('');
    if (st.inForm) {
      const id = `msg-${st.ctx.messageId}-action-${st.detached.length + 1}`;
      st.detached.push(`${formOpen(st, `${attr('id', id)} class="detached-form" hidden`)}</form>`);
      return html(attr('form', id));
    }
    return `${formOpen(st, ' class="action-form"')}${html('')}</form>`;
  }
  if (b.url !== undefined && HTTP_URL.test(b.url) && !b.disabled) {
    return `<a${attr('class', cls)}${attr('href', b.url)} target="_blank" rel="noopener"${confirm}>${label}</a>`;
  }
  return `<span${attr('class', `${cls} button-inert`)}>${label}</span>`;
}

// ---------------------------------------------------------------------------- inputs

function field(f: Input | Select | DatePicker, control: string): string {
  const req = f.required ? '<span class="req">*</span>' : '';
  const err = f.error ? `<div class="field-error" role="alert">${escapeHtml(f.error)}</div>` : '';
  return `<label class="field${f.error ? ' has-error' : ''}"><span class="field-label">${escapeHtml(f.label)}${req}</span>${control}${err}</label>`;
}

const invalid = (f: { readonly error?: string }): string => (f.error ? ' aria-invalid="true"' : '');

function renderInput(i: Input): string {
  const max = i.maxLength !== undefined && Number.isInteger(i.maxLength) && i.maxLength >= 0 ? attr('maxlength', i.maxLength) : '';
  const common = `${attr('name', i.name)}${i.placeholder ? attr('placeholder', i.placeholder) : ''}${max}${invalid(i)}`;
  // The parser drops one newline right after <textarea>; emitting one keeps the value exact.
  if (i.inputType === 'multiline') return field(i, `<textarea${common} rows="3">\n${escapeHtml(i.value ?? '')}</textarea>`);
  const mode = i.inputType === 'number' ? ' inputmode="decimal"' : i.inputType === 'url' ? ' inputmode="url"' : '';
  return field(i, `<input type="text"${common}${mode}${attr('value', i.value ?? '')}>`);
}

function renderSelect(s: Select): string {
  // A multi-select carries its selection as comma-separated values.
  const chosen = new Set(s.value ? (s.multiple ? s.value.split(',') : [s.value]) : []);
  const options = s.options.map((o) => `<option${attr('value', o.value)}${chosen.has(o.value) ? ' selected' : ''}>${escapeHtml(o.label)}</option>`);
  const anySelected = s.options.some((o) => chosen.has(o.value));
  const placeholder = s.multiple || anySelected ? '' : '<option value="">请选择</option>';
  return field(s, `<select${attr('name', s.name)}${s.multiple ? ' multiple' : ''}${invalid(s)}>${placeholder}${options.join('')}</select>`);
}

const renderDate = (d: DatePicker): string =>
  field(d, `<input type="date"${attr('name', d.name)}${attr('value', d.value ?? '')}${invalid(d)}>`);

// ---------------------------------------------------------------------------- data

function renderTable(t: Table): string {
  const align = (a: unknown): string => ` style="text-align:${oneOf(a, ALIGNS, 'left')}"`;
  const head = t.columns.map((c) => `<th${align(c.align)}>${escapeHtml(c.label)}</th>`).join('');
  const cell = (r: Table['rows'][number], key: string): string => (Object.hasOwn(r, key) ? String(r[key] ?? '') : '');
  const rows = t.rows.map((r) => `<tr>${t.columns.map((c) => `<td${align(c.align)}>${escapeHtml(cell(r, c.key))}</td>`).join('')}</tr>`);
  const empty = `<tr><td class="empty"${attr('colspan', Math.max(1, t.columns.length))}>暂无数据</td></tr>`;
  return `<div class="table-wrap"><table><thead><tr>${head}</tr></thead><tbody>${rows.length > 0 ? rows.join('') : empty}</tbody></table></div>`;
}

const positive = (v: number): number => (Number.isFinite(v) && v > 0 ? v : 0);
const percent = (v: number, total: number): number => (total > 0 ? Math.round((v / total) * 1000) / 10 : 0);
const fmt = (v: number): string => (Number.isFinite(v) ? String(Math.round(v * 100) / 100) : '—');

function renderChart(c: Chart): string {
  const pie = c.kind === 'pie';
  const max = c.series.reduce((m, s) => s.data.reduce((mm, d) => Math.max(mm, positive(d.value)), m), 0);
  const series = c.series.map((s) => {
    const sum = s.data.reduce((acc, d) => acc + positive(d.value), 0);
    const bars = s.data.map((d) => {
      const pct = percent(positive(d.value), pie ? sum : max);
      const shown = pie ? `${fmt(d.value)}（${pct}%）` : fmt(d.value);
      return `<li class="bar"><span class="bar-label">${escapeHtml(d.label)}</span><span class="bar-track"><span class="bar-fill" style="width:${pct}%"></span></span><span class="bar-value">${escapeHtml(shown)}</span></li>`;
    });
    const name = c.series.length > 1 && s.name ? `<div class="chart-series">${escapeHtml(s.name)}</div>` : '';
    return `${name}<ul class="bars">${bars.join('')}</ul>`;
  });
  const title = c.title ? `<div class="chart-title">${escapeHtml(c.title)}</div>` : '';
  return `<figure class="chart chart-${oneOf(c.kind, ['bar', 'line', 'pie'], 'bar')}">${title}${series.join('')}</figure>`;
}

// ---------------------------------------------------------------------------- elements

const weight = (w: number | undefined): number => (w !== undefined && Number.isFinite(w) && w > 0 ? w : 1);

function renderElements(elements: readonly Element[], st: State): string {
  return elements.map((el) => renderElement(el, st)).join('');
}

function renderElement(el: Element, st: State): string {
  switch (el.type) {
    case 'markdown': return renderMarkdown(el.text);
    case 'text': return `<div class="plain-text">${escapeHtml(el.text.replace(/\r\n?/g, '\n'))}</div>`;
    case 'notice': return `<div class="notice notice-${oneOf(el.tone, TONES, 'info')}">${lines(el.text)}</div>`;
    case 'divider': return '<hr>';
    case 'fields':
      return `<dl class="fields">${el.fields.map((f) => `<div><dt>${escapeHtml(f.label)}</dt><dd>${lines(f.value)}</dd></div>`).join('')}</dl>`;
    case 'actions': return `<div class="actions">${el.buttons.map((b) => renderButton(b, st)).join('')}</div>`;
    case 'table': return renderTable(el);
    case 'chart': return renderChart(el);
    case 'columns':
      return `<div class="columns">${el.columns
        .map((c) => `<div class="column" style="flex-grow:${weight(c.weight)}">${renderElements(c.elements, st)}</div>`)
        .join('')}</div>`;
    case 'panel':
      return `<details class="panel"${el.expanded ? ' open' : ''}><summary>${escapeHtml(el.title)}</summary><div class="panel-body">${renderElements(el.elements, st)}</div></details>`;
    case 'form':
      // HTML forms cannot nest: a form inside a form joins the outer one.
      if (st.inForm) return renderElements(el.elements, st);
      return `${formOpen(st, ` class="card-form"${attr('data-form', el.name)}`)}${renderElements(el.elements, { ...st, inForm: true })}</form>`;
    case 'input': return renderInput(el);
    case 'select': return renderSelect(el);
    case 'date': return renderDate(el);
    case 'button': return renderButton(el, st);
    default: {
      const unknown: never = el;
      return unknown;
    }
  }
}

export function renderCardHtml(card: CardSpec, ctx: CardHtmlContext): string {
  const st: State = { ctx, postUrl: ctx.postUrl ?? '/local/action', inForm: false, detached: [] };
  const body = renderElements(card.elements, st);
  const h = card.header;
  const color = oneOf(h.color, COLORS, 'blue');
  const sub = h.subtitle ? `<div class="card-subtitle">${escapeHtml(h.subtitle)}</div>` : '';
  const tags = h.tags?.length
    ? `<div class="card-tags">${h.tags.map((t) => `<span class="tag tag-${oneOf(t.color, COLORS, color)}">${escapeHtml(t.text)}</span>`).join('')}</div>`
    : '';
  const id = escapeHtml(String(ctx.messageId));
  return `<article class="card card-${color}" id="msg-${id}" data-message-id="${id}">`
    + `<header class="card-header"><h2 class="card-title">${escapeHtml(h.title)}</h2>${sub}${tags}</header>`
    + `<div class="card-body">${body}</div>${st.detached.join('')}</article>`;
}

// ---------------------------------------------------------------------------- styles

const PALETTE: Readonly<Record<(typeof COLORS)[number], string>> = {
  blue: '#3370ff', green: '#2ea121', orange: '#f80', red: '#f54a45', grey: '#646a73', purple: '#7f3bf5',
};

export const cardCss = `
.card{box-sizing:border-box;width:100%;min-width:300px;max-width:540px;margin:8px 0;background:#fff;border:1px solid #e4e6eb;border-radius:12px;box-shadow:0 1px 3px rgba(31,35,41,.08);overflow:hidden;color:#1f2329;font:14px/1.6 -apple-system,BlinkMacSystemFont,"PingFang SC","Microsoft YaHei","Segoe UI",sans-serif;word-wrap:break-word}
.card *,.card *::before,.card *::after{box-sizing:border-box}
.card-header{padding:12px 16px;color:#fff;background:var(--card-color)}
.card-title{margin:0;font-size:16px;font-weight:600;line-height:1.4}
.card-subtitle{margin-top:2px;font-size:13px;opacity:.9}
.card-tags{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}
.tag{padding:0 8px;border-radius:4px;font-size:12px;line-height:20px;background:rgba(255,255,255,.92);color:var(--tag-color)}
${COLORS.map((c) => `.card-${c}{--card-color:${PALETTE[c]}}.tag-${c}{--tag-color:${PALETTE[c]}}`).join('\n')}
.card-body{padding:12px 16px;display:flex;flex-direction:column;gap:10px}
.card-body>*,.card-form>*,.panel-body>*,.column>*{margin:0}
.card-form,.panel-body,.column{display:flex;flex-direction:column;gap:10px}
.plain-text{white-space:pre-wrap}
.md p{margin:0 0 6px}.md p:last-child{margin-bottom:0}.md ul{margin:0 0 6px;padding-left:20px}
.card a{color:#3370ff;text-decoration:none}.card a:hover{text-decoration:underline}
.card hr{border:0;border-top:1px solid #e4e6eb;margin:2px 0}
.notice{padding:8px 12px;border-radius:8px;border:1px solid;font-size:13px}
.notice-info{background:#f0f4ff;border-color:#c2d4ff;color:#1d3a8a}
.notice-success{background:#effaf0;border-color:#b7e4bd;color:#1f6b2b}
.notice-warning{background:#fff7e8;border-color:#ffd591;color:#8a5300}
.notice-error{background:#fff0f0;border-color:#ffc2c0;color:#a8231f}
.fields{display:grid;grid-template-columns:1fr 1fr;gap:6px 12px}
.fields dt{color:#646a73;font-size:12px}.fields dd{margin:0}
.actions{display:flex;flex-wrap:wrap;gap:8px}
.action-form{display:contents}
.button{display:inline-flex;align-items:center;justify-content:center;min-height:32px;padding:4px 14px;border:1px solid #d0d3d6;border-radius:6px;background:#fff;color:#1f2329;font:inherit;cursor:pointer}
.button:hover{background:#f5f6f7;text-decoration:none}
.btn-primary{background:#3370ff;border-color:#3370ff;color:#fff}.btn-primary:hover{background:#245bdb}
.btn-danger{background:#fff;border-color:#f54a45;color:#f54a45}.btn-danger:hover{background:#fff0f0}
.button:disabled,.button-inert{opacity:.5;cursor:not-allowed}
.field{display:flex;flex-direction:column;gap:4px}
.field-label{font-size:13px;color:#646a73}.req{color:#f54a45;margin-left:2px}
.field input,.field select,.field textarea{width:100%;padding:6px 10px;border:1px solid #d0d3d6;border-radius:6px;font:inherit;background:#fff}
.field input:focus,.field select:focus,.field textarea:focus{outline:none;border-color:#3370ff}
.has-error input,.has-error select,.has-error textarea{border-color:#f54a45}
.field-error{color:#f54a45;font-size:12px}
.columns{display:flex;gap:12px}.column{flex:1 1 0;min-width:0}
.panel{border:1px solid #e4e6eb;border-radius:8px;padding:0 12px}
.panel>summary{padding:8px 0;cursor:pointer;font-weight:600}.panel-body{padding-bottom:10px}
.table-wrap{overflow-x:auto}
.card table{width:100%;border-collapse:collapse;font-size:13px}
.card th,.card td{padding:6px 8px;border-bottom:1px solid #e4e6eb}.card th{background:#f5f6f7;font-weight:600}
.card td.empty{text-align:center;color:#8f959e}
.chart{margin:0}.chart-title{font-weight:600;margin-bottom:6px}.chart-series{font-size:12px;color:#646a73;margin:4px 0}
.bars{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:4px}
.bar{display:grid;grid-template-columns:minmax(60px,30%) 1fr auto;align-items:center;gap:8px;font-size:13px}
.bar-label{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.bar-track{height:10px;background:#f0f1f2;border-radius:5px;overflow:hidden}
.bar-fill{display:block;height:100%;background:var(--card-color);border-radius:5px}
.bar-value{color:#646a73;font-variant-numeric:tabular-nums}
`;
