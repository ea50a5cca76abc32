/**
 * A strict checker for Feishu card JSON 2.0 ("schema": "2.0"). Feishu rejects a 2.0 card that
 * carries an unsupported property, so this checker whitelists properties per component tag and
 * reports anything else with its JSON path, plus the documented limits and nesting rules.
 *
 * Sources (stored copies of the official docs, repo wxkingstar/doc-hub-mcp @34b438e, folder
 * feishu/001-开发指南/feishu-cards/build-card-with-json/): card-json-v2-structure.md (root, config,
 * ≤200 components, element_id), card-json-v2-breaking-changes-release-notes.md (unknown property
 * → error; no global fallback/i18n_elements), card-json-v2-components/** (one page per component:
 * its JSON structure and field table), configuring-card-interactions.md (behaviors). The 30 KB
 * limit is from the im-v1 message/create page (see /work/shared/PLATFORMS.md §1).
 *
 * A few "legacy" properties are not in the 2.0 field tables but appear in Feishu's own 2.0
 * examples (button value/url/action_type, config.wide_screen_mode, root i18n_header, div
 * fields, component fallback); they are accepted so that the official examples validate, and
 * are marked LEGACY below. The renderer in ./feishu.ts never emits them.
 */

export const FEISHU_CARD_MAX_BYTES = 30720;
export const FEISHU_CARD_MAX_COMPONENTS = 200;
/** Component docs: "容器类组件最多支持嵌套五层组件". */
export const FEISHU_CARD_MAX_CONTAINER_DEPTH = 5;
/** table.md: "单张卡片最多支持放置五个表格组件". */
export const FEISHU_CARD_MAX_TABLES = 5;
/** input.md: max_length "可取 1~1,000 范围内的整数". */
export const FEISHU_INPUT_MAX_LENGTH = 1000;

// ---------------------------------------------------------------------------- rule language

type Rule =
  | 'string' | 'boolean' | 'number' | 'integer' | 'any'
  | { readonly enum: readonly (string | number | boolean)[] }
  | { readonly int: readonly [number, number] }
  | { readonly pattern: RegExp; readonly what: string }
  | { readonly shape: Shape; readonly required?: readonly string[] }
  | { readonly list: Rule }
  | { readonly dict: Rule }
  | { readonly node: readonly string[] }
  | { readonly nodes: readonly string[] }
  | { readonly behaviors: true };

type Shape = Readonly<Record<string, Rule>>;

interface TagDef {
  readonly props: Shape;
  readonly required?: readonly string[];
}

// ---------------------------------------------------------------------------- shared pieces

const TEXT_TAGS = ['plain_text', 'lark_md'] as const;
const ICON_TAGS = ['standard_icon', 'custom_icon'] as const;
const text: Rule = { node: TEXT_TAGS };
const plainText: Rule = { node: ['plain_text'] };
const icon: Rule = { node: ICON_TAGS };
const i18nText: Rule = { dict: 'string' };
const multiUrl: Rule = { shape: { url: 'string', pc_url: 'string', ios_url: 'string', android_url: 'string' } };
const confirm: Rule = { shape: { title: plainText, text: plainText } };
const behaviors: Rule = { behaviors: true };
const border: Rule = { shape: { color: 'string', corner_radius: 'string' } };
const fallback: Rule = { node: ['fallback_text'] };

/** Every component: tag-independent 2.0 properties (card-json-v2-structure.md). */
const COMMON: Shape = { tag: 'string', element_id: 'string', margin: 'string' };
/** Layout properties of containers with `elements` (breaking-changes: 组件统一支持布局相关能力). */
const LAYOUT: Shape = {
  direction: { enum: ['vertical', 'horizontal'] },
  padding: 'string',
  horizontal_spacing: 'string',
  vertical_spacing: 'string',
  horizontal_align: { enum: ['left', 'center', 'right'] },
  vertical_align: { enum: ['top', 'center', 'bottom'] },
};

/** Tags allowed where a component is expected (body.elements and container elements). */
const COMPONENT_TAGS = [
  'markdown', 'div', 'hr', 'img', 'img_combination', 'column_set', 'form', 'collapsible_panel',
  'interactive_container', 'table', 'chart', 'person', 'person_list', 'audio', 'button', 'input',
  'select_static', 'multi_select_static', 'select_person', 'multi_select_person', 'date_picker',
  'picker_time', 'picker_datetime', 'checker', 'overflow', 'select_img',
] as const;
const elements: Rule = { nodes: COMPONENT_TAGS };

/** Interactive components that submit a value inside a form and so need a card-unique `name`. */
const FORM_FIELD_TAGS = new Set([
  'input', 'select_static', 'multi_select_static', 'select_person', 'multi_select_person', 'date_picker',
  'picker_time', 'picker_datetime', 'checker', 'select_img', 'button',
]);
/** Containers that count towards the five-level nesting limit (a column is part of its column_set). */
const DEPTH_TAGS = new Set(['form', 'column_set', 'collapsible_panel', 'interactive_container']);

const textProps: Shape = {
  tag: 'string', element_id: 'string', content: 'string', i18n_content: i18nText,
  text_size: 'string', text_color: 'string', text_align: { enum: ['left', 'center', 'right'] }, lines: 'integer',
};
const iconProps: Shape = { tag: 'string', token: 'string', color: 'string', img_key: 'string', i18n_img_key: i18nText, size: 'string' };
const placeholderFieldProps: Shape = { placeholder: plainText, width: 'string', disabled: 'boolean', confirm, behaviors };
const selectOption: Rule = { shape: { text: plainText, icon, value: 'string' }, required: ['value'] };
const personOption: Rule = { shape: { value: 'string' }, required: ['value'] };

// ---------------------------------------------------------------------------- the whitelist

/** One entry per tag, from the tag's 2.0 doc page (JSON structure block and field table). */
const TAGS: Readonly<Record<string, TagDef>> = {
  // Text elements (plain-text.md; title.md allows lark_md in the header; i18n: configure-multi-language-content.md).
  plain_text: { props: { ...textProps, i18n: i18nText } },
  lark_md: { props: { ...textProps, i18n: i18nText } },
  standard_icon: { props: iconProps },
  custom_icon: { props: iconProps },
  text_tag: { props: { tag: 'string', element_id: 'string', text: plainText, color: 'string' } },
  fallback_text: { props: { tag: 'string', text } },
  column: {
    props: {
      ...COMMON, ...LAYOUT, background_style: 'string', width: 'string', weight: { int: [1, 5] },
      elements, action: { shape: { multi_url: multiUrl } },
    },
  },

  // content-components/
  markdown: { props: { ...COMMON, content: 'string', i18n_content: i18nText, text_align: { enum: ['left', 'center', 'right'] }, text_size: 'string', icon }, required: ['content'] },
  // LEGACY: div.fields appears in plain-text.md's own lark_md example.
  div: { props: { ...COMMON, width: 'string', text, icon, fields: { list: { shape: { is_short: 'boolean', text } } } } },
  hr: { props: COMMON },
  img: {
    props: {
      ...COMMON, img_key: 'string', i18n_img_key: i18nText, alt: plainText, title: text, corner_radius: 'string', scale_type: 'string',
      size: 'string', transparent: 'boolean', preview: 'boolean', mode: 'string', custom_width: 'string', compact_width: 'boolean',
    },
  },
  img_combination: {
    props: {
      ...COMMON, combination_mode: 'string', combination_transparent: 'boolean', corner_radius: 'string',
      img_list: { list: { shape: { img_key: 'string', i18n_img_key: i18nText, transparent: 'boolean' } } },
    },
  },
  table: {
    props: {
      ...COMMON, page_size: { int: [1, 10] }, row_height: 'string', row_max_height: 'string', freeze_first_column: 'boolean',
      header_style: { shape: { text_align: 'string', text_size: 'string', background_style: 'string', text_color: 'string', bold: 'boolean', lines: 'integer' } },
      columns: {
        list: {
          shape: {
            name: 'string', display_name: 'string', width: 'string',
            data_type: { enum: ['text', 'lark_md', 'options', 'number', 'persons', 'date', 'markdown'] },
            vertical_align: 'string', horizontal_align: { enum: ['left', 'center', 'right'] },
            format: { shape: { symbol: 'string', precision: { int: [0, 10] }, separator: 'boolean' } }, date_format: 'string',
          },
          required: ['name'],
        },
      },
      rows: { list: { dict: 'any' } },
    },
    required: ['columns', 'rows'],
  },
  chart: { props: { ...COMMON, chart_spec: { dict: 'any' }, aspect_ratio: 'string', color_theme: 'string', preview: 'boolean', height: 'string' }, required: ['chart_spec'] },
  person: { props: { ...COMMON, user_id: 'string', size: 'string', show_avatar: 'boolean', show_name: 'boolean', style: 'string' } },
  person_list: {
    props: {
      ...COMMON, drop_invalid_user_id: 'boolean', lines: 'integer', show_name: 'boolean', show_avatar: 'boolean', size: 'string',
      persons: { list: { shape: { id: 'string' } } }, icon,
      ud_icon: { shape: { token: 'string', style: { shape: { color: 'string' } } } },
    },
  },
  audio: {
    props: {
      ...COMMON, file_key: 'string', i18n_file_key: i18nText, audio_id: 'string', disabled: 'boolean', disabled_tips: plainText,
      show_progress_bar: 'boolean', show_time: 'boolean', time_display: 'string', time_position: 'string', border, style: 'string',
      padding: 'string', background_style: 'string', fill_color: 'string', width: 'string', fallback,
    },
  },

  // containers/
  column_set: {
    props: {
      ...COMMON, flex_mode: { enum: ['none', 'stretch', 'flow', 'bisect', 'trisect'] }, horizontal_spacing: 'string',
      horizontal_align: { enum: ['left', 'center', 'right'] }, background_style: 'string',
      action: { shape: { multi_url: multiUrl } }, columns: { nodes: ['column'] },
    },
  },
  // LEGACY: form.fallback appears in form-container.md's example.
  form: { props: { ...COMMON, ...LAYOUT, name: 'string', elements, fallback }, required: ['name'] },
  collapsible_panel: {
    props: {
      ...COMMON, ...LAYOUT, expanded: 'boolean', background_color: 'string', border, elements,
      header: {
        shape: {
          title: { node: ['plain_text', 'markdown'] }, background_color: 'string', vertical_align: { enum: ['top', 'center', 'bottom'] },
          padding: 'string', position: 'string', width: 'string', icon, icon_position: { enum: ['left', 'right', 'follow_text'] },
          icon_expanded_angle: 'number',
        },
      },
    },
  },
  interactive_container: {
    props: {
      ...COMMON, ...LAYOUT, width: 'string', height: 'string', background_style: 'string', has_border: 'boolean', border_color: 'string',
      corner_radius: 'string', behaviors, disabled: 'boolean', disabled_tips: plainText, confirm, hover_tips: plainText, elements,
    },
  },

  // interactive-components/
  button: {
    props: {
      ...COMMON, type: { enum: ['default', 'primary', 'danger', 'text', 'primary_text', 'danger_text', 'primary_filled', 'danger_filled', 'laser'] },
      size: { enum: ['tiny', 'small', 'medium', 'large'] }, width: 'string', text: plainText, icon, hover_tips: plainText, disabled: 'boolean',
      disabled_tips: plainText, confirm, behaviors, name: 'string', form_action_type: { enum: ['submit', 'reset'] },
      // LEGACY (1.0 properties in button.md's and input.md's 2.0 examples; form-container.md lists action_type as 历史属性).
      value: 'any', url: 'string', action_type: { enum: ['link', 'request', 'multi', 'form_submit', 'form_reset'] },
    },
  },
  input: {
    props: {
      ...COMMON, ...placeholderFieldProps, name: 'string', required: 'boolean', disabled_tips: plainText, default_value: 'string',
      i18n_default_value: i18nText, max_length: { int: [1, FEISHU_INPUT_MAX_LENGTH] },
      input_type: { enum: ['text', 'multiline_text', 'password'] }, show_icon: 'boolean', rows: 'integer', auto_resize: 'boolean',
      max_rows: 'integer', label: plainText, label_position: { enum: ['top', 'left'] },
      value: 'any', // 历史属性 per input.md
      fallback, // LEGACY: form-container.md example
    },
  },
  select_static: {
    props: {
      ...COMMON, ...placeholderFieldProps, type: { enum: ['default', 'text'] }, name: 'string', required: 'boolean',
      initial_option: 'string', initial_index: 'integer', options: { list: selectOption }, value: 'any',
    },
  },
  multi_select_static: {
    props: {
      ...COMMON, ...placeholderFieldProps, type: { enum: ['default', 'text'] }, name: 'string', required: 'boolean',
      selected_values: { list: 'string' }, options: { list: selectOption },
    },
  },
  select_person: {
    props: {
      ...COMMON, ...placeholderFieldProps, type: { enum: ['default', 'text'] }, name: 'string', required: 'boolean',
      initial_option: 'string', options: { list: personOption }, value: 'any',
    },
  },
  multi_select_person: {
    props: {
      ...COMMON, ...placeholderFieldProps, type: { enum: ['default', 'text'] }, name: 'string', required: 'boolean',
      selected_values: { list: 'string' }, options: { list: personOption },
    },
  },
  date_picker: {
    props: {
      ...COMMON, ...placeholderFieldProps, name: 'string', required: 'boolean',
      initial_date: { pattern: /^\d{4}-\d{2}-\d{2}$/, what: 'a yyyy-MM-dd date' }, value: 'any',
    },
  },
  picker_time: { props: { ...COMMON, ...placeholderFieldProps, name: 'string', required: 'boolean', initial_time: 'string', value: 'any' } },
  picker_datetime: { props: { ...COMMON, ...placeholderFieldProps, name: 'string', required: 'boolean', initial_datetime: 'string', value: 'any' } },
  checker: {
    props: {
      ...COMMON, name: 'string', checked: 'boolean', text, overall_checkable: 'boolean', padding: 'string', confirm, behaviors,
      hover_tips: plainText, disabled: 'boolean', disabled_tips: plainText,
      button_area: { shape: { pc_display_rule: 'string', buttons: { nodes: ['button'] } } },
      checked_style: { shape: { show_strikethrough: 'boolean', opacity: 'number' } },
    },
  },
  overflow: {
    props: {
      ...COMMON, width: 'string', behaviors, confirm, value: 'any',
      options: { list: { shape: { text: plainText, multi_url: multiUrl, value: 'string' } } },
    },
  },
  select_img: {
    props: {
      ...COMMON, multi_select: 'boolean', layout: 'string', name: 'string', required: 'boolean', can_preview: 'boolean',
      aspect_ratio: 'string', disabled: 'boolean', disabled_tips: plainText, value: 'any', behaviors, confirm,
      options: { list: { shape: { img_key: 'string', i18n_img_key: i18nText, value: 'string', disabled: 'boolean', disabled_tips: plainText, hover_tips: plainText } } },
    },
  },
};

// ---------------------------------------------------------------------------- root shapes

const headerShape: Shape = {
  title: text, subtitle: text, text_tag_list: { nodes: ['text_tag'] }, i18n_text_tag_list: { dict: { nodes: ['text_tag'] } },
  template: { enum: ['blue', 'wathet', 'turquoise', 'green', 'yellow', 'orange', 'red', 'carmine', 'violet', 'purple', 'indigo', 'grey', 'default'] },
  icon, padding: 'string',
};

const configShape: Shape = {
  streaming_mode: 'boolean',
  streaming_config: {
    shape: { print_frequency_ms: { dict: 'number' }, print_step: { dict: 'number' }, print_strategy: { enum: ['fast', 'delay'] } },
  },
  summary: { shape: { content: 'string', i18n_content: i18nText } },
  locales: { list: 'string' },
  enable_forward: 'boolean',
  update_multi: { enum: [true] }, // 2.0 "仅支持设为 true"
  width_mode: { enum: ['default', 'compact', 'fill'] },
  use_custom_translation: 'boolean',
  enable_forward_interaction: 'boolean',
  style: {
    shape: {
      text_size: { dict: { shape: { default: 'string', pc: 'string', mobile: 'string' } } },
      color: { dict: { shape: { light_mode: 'string', dark_mode: 'string' } } },
    },
  },
  wide_screen_mode: 'boolean', // LEGACY: rich-text.md's audio example
};

const rootShape: Shape = {
  schema: { enum: ['2.0'] },
  config: { shape: configShape },
  card_link: { shape: { url: 'string', pc_url: 'string', ios_url: 'string', android_url: 'string' } },
  header: { shape: headerShape, required: ['title'] },
  body: { shape: { ...LAYOUT, elements } },
  i18n_header: { dict: { shape: headerShape, required: ['title'] } }, // LEGACY: column-set.md's example
};

// ---------------------------------------------------------------------------- walking

interface FormScope {
  readonly path: string;
  submit: boolean;
}

interface Where {
  /** Tags of the tagged ancestors, outermost first. */
  readonly ancestors: readonly string[];
  readonly form: FormScope | null;
}

interface State {
  readonly errors: string[];
  tables: number;
  readonly elementIds: Map<string, string>;
  readonly names: Map<string, string>;
}

const ROOT: Where = { ancestors: [], form: null };
const ELEMENT_ID = /^[A-Za-z][A-Za-z0-9_]{0,19}$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);
const keyPath = (path: string, key: string): string => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`);

/** Values JSON cannot carry (functions, undefined, NaN…) would be dropped or altered on the wire. */
function checkJsonValue(v: unknown, path: string, st: State): void {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) st.errors.push(`${path}: ${v} is not a JSON number`);
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((x, i) => checkJsonValue(x, `${path}[${i}]`, st));
    return;
  }
  if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) checkJsonValue(x, keyPath(path, k), st);
    return;
  }
  st.errors.push(`${path}: ${describe(v)} is not a JSON value`);
}

function checkShape(v: unknown, shape: Shape, required: readonly string[] | undefined, path: string, st: State, where: Where): void {
  if (!isObject(v)) {
    st.errors.push(`${path}: expected an object, got ${describe(v)}`);
    return;
  }
  for (const [k, x] of Object.entries(v)) {
    const rule = shape[k];
    if (rule === undefined) st.errors.push(`${keyPath(path, k)}: unknown property "${k}"`);
    else checkRule(x, rule, keyPath(path, k), st, where);
  }
  for (const k of required ?? []) if (!(k in v)) st.errors.push(`${keyPath(path, k)}: required property is missing`);
}

function checkBehaviors(v: unknown, path: string, st: State): void {
  if (!Array.isArray(v)) {
    st.errors.push(`${path}: expected an array, got ${describe(v)}`);
    return;
  }
  v.forEach((b, i) => {
    const p = `${path}[${i}]`;
    if (!isObject(b)) {
      st.errors.push(`${p}: expected an object, got ${describe(b)}`);
      return;
    }
    // configuring-card-interactions.md documents exactly these two behaviour types.
    if (b.type === 'callback') {
      checkShape(b, { type: 'string', value: 'any' }, ['value'], p, st, ROOT);
      // The doc types value as Object; image-picker.md's own example passes a string, so both are accepted.
      if ('value' in b && !isObject(b.value) && typeof b.value !== 'string') st.errors.push(`${p}.value: a callback value must be an object`);
    } else if (b.type === 'open_url') {
      checkShape(b, { type: 'string', default_url: 'string', android_url: 'string', ios_url: 'string', pc_url: 'string' }, ['default_url'], p, st, ROOT);
    } else {
      st.errors.push(`${p}.type: unknown behaviour type ${JSON.stringify(b.type)} (expected "callback" or "open_url")`);
    }
  });
}

function checkRule(v: unknown, rule: Rule, path: string, st: State, where: Where): void {
  if (typeof rule === 'string') {
    switch (rule) {
      case 'any': checkJsonValue(v, path, st); return;
      case 'integer':
        if (!Number.isInteger(v)) st.errors.push(`${path}: expected an integer, got ${JSON.stringify(v) ?? describe(v)}`);
        return;
      case 'number':
        if (typeof v !== 'number' || !Number.isFinite(v)) st.errors.push(`${path}: expected a number, got ${describe(v)}`);
        return;
      default:
        if (typeof v !== rule) st.errors.push(`${path}: expected a ${rule}, got ${describe(v)}`);
        return;
    }
  }
  if ('enum' in rule) {
    if (!rule.enum.includes(v as string)) st.errors.push(`${path}: ${JSON.stringify(v) ?? describe(v)} is not one of ${rule.enum.map((x) => JSON.stringify(x)).join(', ')}`);
  } else if ('int' in rule) {
    const [min, max] = rule.int;
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) st.errors.push(`${path}: expected an integer in [${min}, ${max}], got ${JSON.stringify(v) ?? describe(v)}`);
  } else if ('pattern' in rule) {
    if (typeof v !== 'string' || !rule.pattern.test(v)) st.errors.push(`${path}: expected ${rule.what}, got ${JSON.stringify(v) ?? describe(v)}`);
  } else if ('shape' in rule) {
    checkShape(v, rule.shape, rule.required, path, st, where);
  } else if ('list' in rule) {
    if (!Array.isArray(v)) st.errors.push(`${path}: expected an array, got ${describe(v)}`);
    else v.forEach((x, i) => checkRule(x, rule.list, `${path}[${i}]`, st, where));
  } else if ('dict' in rule) {
    if (!isObject(v)) st.errors.push(`${path}: expected an object, got ${describe(v)}`);
    else for (const [k, x] of Object.entries(v)) checkRule(x, rule.dict, keyPath(path, k), st, where);
  } else if ('node' in rule) {
    checkNode(v, rule.node, path, st, where);
  } else if ('nodes' in rule) {
    if (!Array.isArray(v)) st.errors.push(`${path}: expected an array, got ${describe(v)}`);
    else v.forEach((x, i) => checkNode(x, rule.nodes, `${path}[${i}]`, st, where));
  } else {
    checkBehaviors(v, path, st);
  }
}

function checkNode(v: unknown, allowed: readonly string[], path: string, st: State, where: Where): void {
  if (!isObject(v)) {
    st.errors.push(`${path}: expected an object, got ${describe(v)}`);
    return;
  }
  // The docs' own structure blocks use `{}` for optional text objects (hover_tips, disabled_tips).
  if (!('tag' in v) && Object.keys(v).length === 0 && !allowed.some((t) => COMPONENT_TAGS.includes(t as never))) return;
  checkElementId(v, path, st);
  const tag = v.tag;
  if (typeof tag !== 'string') {
    st.errors.push(`${path}.tag: missing tag (expected one of ${allowed.join(', ')})`);
    return;
  }
  const def = TAGS[tag];
  if (!def) {
    st.errors.push(`${path}.tag: unknown tag "${tag}"`);
    return;
  }
  if (!allowed.includes(tag)) {
    st.errors.push(`${path}.tag: "${tag}" is not allowed here (expected one of ${allowed.join(', ')})`);
    return;
  }
  const inner = enterNode(tag, v, path, st, where);
  checkShape(v, def.props, def.required, path, st, inner);
  if (tag === 'form' && inner.form && !inner.form.submit) {
    st.errors.push(`${path}: a form needs at least one button with form_action_type "submit"`);
  }
}

function checkElementId(v: Record<string, unknown>, path: string, st: State): void {
  if (!('element_id' in v)) return;
  const id = v.element_id;
  if (typeof id !== 'string' || !ELEMENT_ID.test(id)) {
    st.errors.push(`${path}.element_id: ${JSON.stringify(id)} must start with a letter and hold at most 20 letters, digits or underscores`);
    return;
  }
  const first = st.elementIds.get(id);
  if (first !== undefined) st.errors.push(`${path}.element_id: "${id}" is already used at ${first}`);
  else st.elementIds.set(id, path);
}

/** Structural rules that depend on where a node sits; returns the scope for its children. */
function enterNode(tag: string, v: Record<string, unknown>, path: string, st: State, where: Where): Where {
  const ancestors = where.ancestors;
  const containers = ancestors.filter((t) => DEPTH_TAGS.has(t)).length;
  if (DEPTH_TAGS.has(tag) && containers >= FEISHU_CARD_MAX_CONTAINER_DEPTH) {
    st.errors.push(`${path}: containers nest at most ${FEISHU_CARD_MAX_CONTAINER_DEPTH} levels deep`);
  }
  if (tag === 'form' || tag === 'table') {
    // form-container.md / table.md: "只可放在卡片根节点下"; the form doc also forbids form/table inside a form.
    if (ancestors.length > 0) st.errors.push(`${path}: ${tag} is only allowed at the body root (found inside ${ancestors.join(' > ')})`);
  }
  if (tag === 'table') {
    st.tables += 1;
    if (st.tables > FEISHU_CARD_MAX_TABLES) st.errors.push(`${path}: a card holds at most ${FEISHU_CARD_MAX_TABLES} tables`);
    if (Array.isArray(v.columns) && v.columns.length > 50) st.errors.push(`${path}.columns: a table holds at most 50 columns`);
  }
  // form-container.md field table: "不支持内嵌表格、图表、和表单容器组件".
  if (tag === 'chart' && where.form) st.errors.push(`${path}: chart is not allowed inside a form`);
  if (tag === 'multi_select_static' && !where.form) st.errors.push(`${path}: multi_select_static is only allowed inside a form`);
  if (tag === 'form' || (where.form && FORM_FIELD_TAGS.has(tag))) checkName(tag, v, path, st);
  if (tag === 'button' && where.form) {
    const submit = v.form_action_type === 'submit' || v.action_type === 'form_submit';
    if (submit) where.form.submit = true;
    if (!('form_action_type' in v) && !('action_type' in v)) st.errors.push(`${path}: a button inside a form needs form_action_type`);
  }
  if ('placeholder' in v && isObject(v.placeholder) && typeof v.placeholder.content === 'string' && [...v.placeholder.content].length > 100) {
    st.errors.push(`${path}.placeholder.content: at most 100 characters`);
  }
  if (tag === 'button' && isObject(v.text) && typeof v.text.content === 'string' && [...v.text.content].length > 100) {
    st.errors.push(`${path}.text.content: at most 100 characters`);
  }
  // single/multi-select-dropdown-menu.md: option values must not repeat within one select.
  if ((tag === 'select_static' || tag === 'multi_select_static') && Array.isArray(v.options)) {
    const seen = new Set<unknown>();
    v.options.forEach((o, i) => {
      if (!isObject(o) || !('value' in o)) return;
      if (seen.has(o.value)) st.errors.push(`${path}.options[${i}].value: ${JSON.stringify(o.value)} repeats another option`);
      seen.add(o.value);
    });
  }
  const form = tag === 'form' ? { path, submit: false } : where.form;
  return { ancestors: [...ancestors, tag], form };
}

/** form-container.md: names are required in a form and unique within the whole card. */
function checkName(tag: string, v: Record<string, unknown>, path: string, st: State): void {
  const name = v.name;
  if (typeof name !== 'string' || name === '') {
    st.errors.push(`${path}.name: ${tag === 'form' ? 'a form' : `${tag} inside a form`} needs a non-empty name`);
    return;
  }
  const first = st.names.get(name);
  if (first !== undefined) st.errors.push(`${path}.name: "${name}" is already used at ${first}`);
  else st.names.set(name, path);
}

function checkRoot(card: unknown, st: State): void {
  if (!isObject(card)) {
    st.errors.push(`$: expected a card object, got ${describe(card)}`);
    return;
  }
  if (card.schema !== '2.0') st.errors.push(`$.schema: must be "2.0", got ${JSON.stringify(card.schema) ?? 'nothing'}`);
  checkShape(card, rootShape, undefined, '$', st, ROOT);
  const link = card.card_link;
  // card-json-v2-structure.md: url, or all three of pc_url, ios_url and android_url.
  if (isObject(link) && !('url' in link) && !['pc_url', 'ios_url', 'android_url'].every((k) => k in link)) {
    st.errors.push('$.card_link: needs url, or all of pc_url, ios_url and android_url');
  }
}

// ---------------------------------------------------------------------------- API

export interface FeishuCardMeasure {
  /** UTF-8 bytes of the JSON text. */
  readonly bytes: number;
  /** Objects with a `tag` inside the card structure (text elements included, as the doc counts them). */
  readonly components: number;
}

const encoder = new TextEncoder();

export function measureFeishuCard(card: unknown): FeishuCardMeasure {
  let json: string;
  try {
    json = JSON.stringify(card) ?? '';
  } catch {
    json = '';
  }
  return { bytes: encoder.encode(json).length, components: countTagged(card) };
}

function countTagged(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + countTagged(x), 0);
  if (!isObject(v)) return 0;
  let n = typeof v.tag === 'string' ? 1 : 0;
  for (const [k, x] of Object.entries(v)) {
    // Free-form data (VChart spec, callback values, table rows) is not card structure.
    if (k === 'chart_spec' || k === 'value' || k === 'rows') continue;
    n += countTagged(x);
  }
  return n;
}

/** Whether the card is within the size and component limits (the two limits splitting can fix). */
export function fitsFeishuLimits(card: unknown): boolean {
  const { bytes, components } = measureFeishuCard(card);
  return bytes <= FEISHU_CARD_MAX_BYTES && components <= FEISHU_CARD_MAX_COMPONENTS;
}

/** Every problem except the size and component limits, each prefixed with its JSON path. */
export function checkFeishuCardStructure(card: unknown): string[] {
  const st: State = { errors: [], tables: 0, elementIds: new Map(), names: new Map() };
  checkRoot(card, st);
  return st.errors;
}

/** Every problem found, each prefixed with its JSON path; [] means the card is acceptable. */
export function validateFeishuCard(card: unknown): string[] {
  const errors = checkFeishuCardStructure(card);
  const { bytes, components } = measureFeishuCard(card);
  if (components > FEISHU_CARD_MAX_COMPONENTS) errors.push(`$: ${components} components, at most ${FEISHU_CARD_MAX_COMPONENTS} allowed`);
  if (bytes > FEISHU_CARD_MAX_BYTES) errors.push(`$: ${bytes} bytes of JSON, at most ${FEISHU_CARD_MAX_BYTES} allowed`);
  return errors;
}
