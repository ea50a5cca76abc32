/**
 * The neutral card model. Text is Chinese (zh-CN); the optional `…En` companions carry the
 * English (en-US) a platform shows to people whose client is set to English (Feishu's
 * i18n_content). User data (unit names, explanations) is never translated. Builders produce a CardSpec; renderers turn it into HTML (the
 * simulator), Feishu card JSON 2.0 or DingTalk cards. It carries only what all of them can
 * express: forms with named inputs, selects and date pickers, buttons with an action and an
 * optional confirm dialog, tables, charts, columns and collapsible panels.
 */
import { safeHttpLink } from '../src/domain/text';

export type Tone = 'info' | 'success' | 'warning' | 'error';
export type HeaderColor = 'blue' | 'green' | 'orange' | 'red' | 'grey' | 'purple';

/** A callback: the action id from cards/actions.ts and its value (small, flat, strings/numbers). */
export interface ActionRef {
  readonly id: string;
  readonly value: Readonly<Record<string, string | number>>;
}

export interface Button {
  readonly type: 'button';
  readonly label: string;
  readonly labelEn?: string;
  readonly style?: 'default' | 'primary' | 'danger';
  readonly action?: ActionRef;
  readonly url?: string;
  /** Inside a form: submit the form's values with the action. */
  readonly submit?: boolean;
  readonly confirm?: { readonly title: string; readonly text: string };
  readonly disabled?: boolean;
}

export interface Input {
  readonly type: 'input';
  readonly name: string;
  readonly label: string;
  readonly labelEn?: string;
  readonly inputType?: 'text' | 'multiline' | 'number' | 'url';
  readonly value?: string;
  readonly placeholder?: string;
  readonly required?: boolean;
  readonly maxLength?: number;
  /** A validation message shown under the field after a refused submit. */
  readonly error?: string;
}

export interface Select {
  readonly type: 'select';
  readonly name: string;
  readonly label: string;
  readonly options: ReadonlyArray<{ readonly value: string; readonly label: string }>;
  readonly value?: string;
  readonly multiple?: boolean;
  readonly required?: boolean;
  readonly error?: string;
}

export interface DatePicker {
  readonly type: 'date';
  readonly name: string;
  readonly label: string;
  /** yyyy-MM-dd in Asia/Shanghai. */
  readonly value?: string;
  readonly required?: boolean;
  readonly error?: string;
}

/**
 * Our markdown subset: paragraphs, "- " lists, **bold** and [text](http(s) link). Builders write
 * it; text people typed goes into `text`, fields or notices instead, or into `mdLink`.
 */
export interface Markdown { readonly type: 'markdown'; readonly text: string; readonly textEn?: string }
/** Text shown exactly as given (line breaks and leading blanks kept), never read as markup. */
export interface Text { readonly type: 'text'; readonly text: string }
export interface Notice { readonly type: 'notice'; readonly tone: Tone; readonly text: string; readonly textEn?: string }
export interface Divider { readonly type: 'divider' }
export interface Fields {
  readonly type: 'fields';
  readonly fields: ReadonlyArray<{ readonly label: string; readonly value: string }>;
}
export interface Actions { readonly type: 'actions'; readonly buttons: readonly Button[] }
export interface Table {
  readonly type: 'table';
  readonly columns: ReadonlyArray<{ readonly key: string; readonly label: string; readonly align?: 'left' | 'right' | 'center' }>;
  readonly rows: ReadonlyArray<Readonly<Record<string, string | number>>>;
  readonly pageSize?: number;
}
export interface Chart {
  readonly type: 'chart';
  readonly kind: 'bar' | 'line' | 'pie';
  readonly title?: string;
  readonly series: ReadonlyArray<{ readonly name: string; readonly data: ReadonlyArray<{ readonly label: string; readonly value: number }> }>;
}
export interface Columns {
  readonly type: 'columns';
  readonly columns: ReadonlyArray<{ readonly weight?: number; readonly elements: readonly Element[] }>;
}
export interface Panel {
  readonly type: 'panel';
  readonly title: string;
  readonly expanded?: boolean;
  readonly elements: readonly Element[];
}
export interface Form {
  readonly type: 'form';
  readonly name: string;
  readonly elements: readonly Element[];
}

export type Element =
  | Markdown | Text | Notice | Divider | Fields | Actions | Table | Chart | Columns | Panel | Form
  | Input | Select | DatePicker | Button;

export interface CardSpec {
  readonly header: {
    readonly title: string;
    readonly titleEn?: string;
    readonly subtitle?: string;
    readonly color?: HeaderColor;
    readonly tags?: ReadonlyArray<{ readonly text: string; readonly textEn?: string; readonly color?: HeaderColor }>;
  };
  readonly elements: readonly Element[];
  /** Shown in chat lists and notifications. */
  readonly summary?: string;
}

export const md = (text: string, textEn?: string): Markdown => (textEn === undefined ? { type: 'markdown', text } : { type: 'markdown', text, textEn });
export const plainText = (text: string): Text => ({ type: 'text', text });
export const notice = (tone: Tone, text: string, textEn?: string): Notice => (textEn === undefined ? { type: 'notice', tone, text } : { type: 'notice', tone, text, textEn });
export const divider = (): Divider => ({ type: 'divider' });
export const fields = (pairs: ReadonlyArray<readonly [string, string]>): Fields => ({
  type: 'fields',
  fields: pairs.map(([label, value]) => ({ label, value })),
});
export const button = (b: Omit<Button, 'type'>): Button => ({ type: 'button', ...b });
export const actions = (...buttons: Button[]): Actions => ({ type: 'actions', buttons });

/**
 * A markdown link whose text lvzhi writes, never the person who typed the address: the address
 * is checked again (stored data may predate the checks) and made safe to sit in markdown. An
 * address that is not a safe http(s) link gives the text alone.
 */
export function mdLink(text: string, url: string): string {
  const label = text.replace(/[[\]\n]/g, ' ');
  const safe = safeHttpLink(url);
  return safe === null ? label : `[${label}](${safe})`;
}

/** Walks every element, nested ones included (for limits and tests). */
export function* walk(elements: readonly Element[]): Generator<Element> {
  for (const el of elements) {
    yield el;
    if (el.type === 'form' || el.type === 'panel') yield* walk(el.elements);
    else if (el.type === 'columns') for (const c of el.columns) yield* walk(c.elements);
    else if (el.type === 'actions') yield* el.buttons;
  }
}
