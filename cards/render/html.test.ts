import { describe, it, expect } from 'vitest';
import { actions, button, md, mdLink, notice, plainText, type CardSpec, type Element } from '../kit';
import { cardCss, escapeHtml, renderCardHtml } from './html';

const ctx = { messageId: 42, actor: 'u-1', nonce: 'n0nce' };
const card = (...elements: Element[]): CardSpec => ({ header: { title: '测试卡片' }, elements });
const render = (...elements: Element[]): string => renderCardHtml(card(...elements), ctx);

const unescape = (s: string): string =>
  s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The parsed `_action` values of every action button, in order. */
const actionValues = (html: string): unknown[] =>
  [...html.matchAll(/name="_action" value="([^"]*)"/g)].map((m) => JSON.parse(unescape(m[1] ?? '')));

const count = (html: string, re: RegExp): number => (html.match(re) ?? []).length;

describe('escapeHtml', () => {
  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });
});

describe('renderCardHtml', () => {
  it('renders the article with header, subtitle, tags and color', () => {
    const html = renderCardHtml(
      { header: { title: 'T', subtitle: 'S', color: 'green', tags: [{ text: '待提交', color: 'orange' }] }, elements: [] },
      ctx,
    );
    expect(html).toMatch(/^<article class="card card-green" id="msg-42" data-message-id="42">/);
    expect(html).toContain('<span class="tag tag-orange">待提交</span>');
    expect(html).toContain('<div class="card-subtitle">S</div>');
  });

  it('escapes scripts and quotes in titles, markdown, input values and button values', () => {
    const evil = `<script>alert("x")</script>'`;
    const value = { note: evil, n: 1 };
    const html = renderCardHtml(
      {
        header: { title: evil, subtitle: evil, tags: [{ text: evil }] },
        elements: [
          md(evil),
          { type: 'form', name: evil, elements: [
            { type: 'input', name: 'a"b', label: evil, value: `"><script>x</script>`, placeholder: evil },
            { type: 'input', name: 'c', label: 'c', inputType: 'multiline', value: `</textarea><script>x</script>` },
            button({ label: evil, submit: true, action: { id: 'self-eval.save', value } }),
          ] },
          { type: 'table', columns: [{ key: 'k', label: evil }], rows: [{ k: evil }] },
        ],
      },
      ctx,
    );
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('</textarea><script');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;');
    expect(html).toContain('name="a&quot;b"');
    expect(html).toContain('value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
    expect(actionValues(html)).toEqual([{ id: 'self-eval.save', value }]);
  });

  it('escapes every text slot: no tag of a hostile text survives anywhere', () => {
    const evil = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">`;
    const html = renderCardHtml(
      {
        header: { title: evil, subtitle: evil, tags: [{ text: evil }] },
        elements: [
          md(evil), plainText(evil), notice('error', evil),
          { type: 'fields', fields: [{ label: evil, value: evil }] },
          { type: 'table', columns: [{ key: 'k', label: evil }], rows: [{ k: evil }] },
          { type: 'chart', kind: 'bar', title: evil, series: [{ name: evil, data: [{ label: evil, value: 1 }] }, { name: 's2', data: [] }] },
          { type: 'panel', title: evil, elements: [actions(button({ label: evil, url: 'https://a.example.cn/', confirm: { title: evil, text: evil } }))] },
          { type: 'form', name: evil, elements: [
            { type: 'input', name: evil, label: evil, placeholder: evil, value: evil, error: evil },
            { type: 'input', name: 'm', label: 'm', inputType: 'multiline', value: `</textarea>${evil}` },
            { type: 'select', name: evil, label: evil, options: [{ value: evil, label: evil }], value: evil, error: evil },
            { type: 'date', name: evil, label: evil, value: evil, error: evil },
            button({ label: evil, submit: true, action: { id: 'x', value: { v: evil } } }),
          ] },
        ],
      },
      ctx,
    );
    expect(html).not.toMatch(/<(script|img)\b/i);
    // Each of the 35 places (the confirm's title and text, names and values among them) holds the
    // text escaped once, not dropped.
    expect(count(html, /&lt;script&gt;window\.__pwned=1&lt;\/script&gt;/g)).toBe(35);
  });

  it('renders plain text exactly: escaped, never markup, line breaks and leading blanks kept', () => {
    const html = render(plainText('  **不加粗** [x](https://e.cn)\r\n<b>y</b>'));
    expect(html).toContain('<div class="plain-text">  **不加粗** [x](https://e.cn)\n&lt;b&gt;y&lt;/b&gt;</div>');
    expect(cardCss).toContain('.plain-text{white-space:pre-wrap}');
  });

  it('renders an evidence link of the outsider attack as one link whose text lvzhi wrote', () => {
    const html = render(md(`**佐证材料**：${mdLink('佐证1（a.b）', 'https://a.b/x)**[官方文件](https://evil.example/login)')}`));
    expect(count(html, /<a\b/g)).toBe(1);
    expect(html).toContain('<a href="https://a.b/x%29%2A%2A%5B官方文件%5D%28https://evil.example/login%29" target="_blank" rel="noopener">佐证1（a.b）</a>');
    expect(html).not.toMatch(/>官方文件</);
  });

  it('renders a form as one <form> with hidden fields, nested inputs and both submit buttons', () => {
    const save = { id: 'self-eval.save', value: { evaluationId: 7, version: 1, rev: 3 } };
    const submit = { id: 'self-eval.submit', value: { evaluationId: 7, version: 1, rev: 3 } };
    const html = render({
      type: 'form',
      name: 'self-eval',
      elements: [
        { type: 'input', name: 'summary', label: '工作总结', inputType: 'multiline', required: true },
        { type: 'panel', title: '更多', elements: [{ type: 'date', name: 'day', label: '日期', value: '2024-01-02' }] },
        { type: 'columns', columns: [{ weight: 2, elements: [{ type: 'input', name: 'score', label: '分数', inputType: 'number' }] }] },
        actions(button({ label: '保存草稿', submit: true, action: save }), button({ label: '提交', style: 'primary', submit: true, action: submit })),
      ],
    });
    expect(count(html, /<form\b/g)).toBe(1);
    const form = html.slice(html.indexOf('<form'), html.indexOf('</form>'));
    expect(form).toContain('action="/local/action"');
    expect(form).toContain('enctype="application/x-www-form-urlencoded"');
    expect(form).toContain('data-form="self-eval"');
    expect(form).toContain('<input type="hidden" name="_message" value="42">');
    expect(form).toContain('<input type="hidden" name="_actor" value="u-1">');
    expect(form).toContain('<input type="hidden" name="_nonce" value="n0nce">');
    expect(form).toMatch(/<textarea name="summary" rows="3">/);
    expect(form).toContain('<input type="date" name="day" value="2024-01-02">');
    expect(form).toMatch(/<input type="text" name="score" inputmode="decimal"/);
    expect(form).toContain('style="flex-grow:2"');
    expect(actionValues(form)).toEqual([save, submit]);
    expect(html).not.toMatch(/type="number"|\srequired[\s>]/);
  });

  it('gives a standalone action button its own form posting to postUrl', () => {
    const open = { id: 'campaign.open-self-eval', value: { campaignId: 5 } };
    const html = renderCardHtml(card(actions(button({ label: '开始自评', action: open }))), { ...ctx, postUrl: '/x?a=1&b=2' });
    expect(count(html, /<form\b/g)).toBe(1);
    expect(html).toContain('action="/x?a=1&amp;b=2"');
    expect(html).toContain('name="_nonce" value="n0nce"');
    expect(html).toMatch(/<form[^>]*>(<input type="hidden"[^>]*>){3}<button type="submit"/);
    expect(actionValues(html)).toEqual([open]);
  });

  it('posts a non-submit action button inside a form through a separate hidden form', () => {
    const html = render({
      type: 'form',
      name: 'f',
      elements: [button({ label: '退回', action: { id: 'self-eval.return', value: { evaluationId: 1, version: 1, rev: 0 } } })],
    });
    expect(count(html, /<form\b/g)).toBe(2);
    expect(html).toContain('form="msg-42-action-1"');
    expect(html).toMatch(/<form[^>]* id="msg-42-action-1"[^>]*hidden>/);
  });

  it('renders confirm as an escaped onclick, plus disabled and style', () => {
    const html = render(
      button({ label: '提交', style: 'danger', disabled: true, action: { id: 'x', value: {} }, confirm: { title: '确认"提交"？', text: '<b>不可撤回</b>' } }),
    );
    const onclick = /onclick="([^"]*)"/.exec(html)?.[1];
    expect(onclick).toBeDefined();
    expect(onclick).not.toMatch(/[<>"]/);
    expect(unescape(onclick ?? '')).toBe(`return confirm(${JSON.stringify('确认"提交"？\n<b>不可撤回</b>')})`);
    expect(html).toMatch(/<button [^>]*class="button btn-danger"[^>]* disabled>/);
  });

  it('renders url buttons as links only for http(s)', () => {
    const html = render(actions(button({ label: '打开', url: 'https://example.com/?a=1&b=2' }), button({ label: '坏链接', url: 'javascript:alert(1)' })));
    expect(html).toContain('<a class="button btn-default" href="https://example.com/?a=1&amp;b=2" target="_blank" rel="noopener">打开</a>');
    expect(html).not.toContain('javascript:');
    expect(html).toContain('坏链接</span>');
  });

  it('renders field errors with role=alert and a required star', () => {
    const html = render({ type: 'input', name: 'n', label: '姓名', required: true, error: '请填写<姓名>' });
    expect(html).toContain('<label class="field has-error">');
    expect(html).toContain('<span class="req">*</span>');
    expect(html).toContain('<div class="field-error" role="alert">请填写&lt;姓名&gt;</div>');
    expect(render({ type: 'input', name: 'n', label: '姓名' })).not.toContain('role="alert"');
  });

  it('renders a safe markdown subset', () => {
    const html = render(md('**粗体** 和 [链接](https://a.example/x?y=1&z=2)\n第二行\n\n- 一\n- 二\n[坏](javascript:alert(1)) <b>x</b>'));
    expect(html).toContain('<strong>粗体</strong>');
    expect(html).toContain('<a href="https://a.example/x?y=1&amp;z=2" target="_blank" rel="noopener">链接</a>');
    expect(html).toContain('<br>第二行</p>');
    expect(html).toContain('<ul><li>一</li><li>二</li></ul><p>[坏](javascript:alert(1)) &lt;b&gt;x&lt;/b&gt;</p>');
    expect(html).not.toMatch(/href="javascript/i);
    expect(count(html, /<p>/g)).toBe(2);
  });

  it('renders select options with the selected one and a placeholder only when unset', () => {
    const options = [{ value: 'a', label: '甲' }, { value: 'b', label: '乙' }];
    const set = render({ type: 'select', name: 's', label: '选项', options, value: 'b' });
    expect(set).toContain('<select name="s"><option value="a">甲</option><option value="b" selected>乙</option></select>');
    const unset = render({ type: 'select', name: 's', label: '选项', options });
    expect(unset).toContain('<select name="s"><option value="">请选择</option><option value="a">甲</option>');
    expect(unset).not.toContain('selected');
    const multi = render({ type: 'select', name: 'm', label: '多选', options, multiple: true, value: 'a,b' });
    expect(multi).toContain('<select name="m" multiple><option value="a" selected>甲</option><option value="b" selected>乙</option>');
  });

  it('renders chart bars proportional to the max value, and pie shares', () => {
    const data = [{ label: '甲', value: 10 }, { label: '乙', value: 5 }, { label: '丙', value: 0 }];
    const bar = render({ type: 'chart', kind: 'bar', title: '得分', series: [{ name: 's', data }] });
    expect(bar).toContain('<div class="chart-title">得分</div>');
    expect([...bar.matchAll(/width:([\d.]+)%/g)].map((m) => m[1])).toEqual(['100', '50', '0']);
    const pie = render({ type: 'chart', kind: 'pie', series: [{ name: 's', data: [{ label: 'a', value: 1 }, { label: 'b', value: 3 }] }] });
    expect([...pie.matchAll(/width:([\d.]+)%/g)].map((m) => m[1])).toEqual(['25', '75']);
    expect(pie).toContain('3（75%）');
  });

  it('renders tables, panels, fields, notices and dividers', () => {
    const html = render(
      { type: 'table', columns: [{ key: 'name', label: '姓名' }, { key: 'score', label: '分数', align: 'right' }], rows: [{ name: '张三', score: 90 }] },
      { type: 'panel', title: '详情', expanded: true, elements: [{ type: 'divider' }] },
      { type: 'fields', fields: [{ label: '部门', value: '办公室' }] },
      { type: 'notice', tone: 'warning', text: '注意\n截止' },
    );
    expect(html).toContain('<thead><tr><th style="text-align:left">姓名</th><th style="text-align:right">分数</th></tr></thead>');
    expect(html).toContain('<tbody><tr><td style="text-align:left">张三</td><td style="text-align:right">90</td></tr></tbody>');
    expect(html).toContain('<details class="panel" open><summary>详情</summary><div class="panel-body"><hr></div></details>');
    expect(html).toContain('<dl class="fields"><div><dt>部门</dt><dd>办公室</dd></div></dl>');
    expect(html).toContain('<div class="notice notice-warning">注意<br>截止</div>');
  });
});

describe('cardCss', () => {
  it('styles header colors, notices, errors and bars', () => {
    for (const sel of ['.card-red{', '.notice-error{', '.field-error{', '.bar-fill{', '.card table{']) expect(cardCss).toContain(sel);
  });
});
