/**
 * End to end in a real browser: the real server (`src/runtime/node.ts`, spawned as `npm start`
 * would) on a temporary libSQL file with the demo seed, driven by Debian's chromium through
 * playwright-core. Walks the 自评 flow the way people do it in the local chat simulator:
 * 启动单位自评 → a refused submit with a field error → 提交签发 → 签发 → the 自评审核 card →
 * 退回修改. Hostile text (a filler's explanation and evidence link, a reviewer's comments, a
 * ledger answer, every text slot of a card) is shown literally and runs nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { actions, button, md, notice, plainText, type CardSpec } from '../../../cards/kit';
import { openDatabase } from '../../runtime/open-db';
import { enqueue } from '../../store/outbox.repo';
import { freePort } from '../../../scripts/bench/setup';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const UNIT = '县疾病预防控制中心';
const PEOPLE = { filler: '王晓燕', head: '李建国', evaluator: '黄淑芬' };
/** Runs if any page puts it into the document as markup: it must stay text. */
const EVIL = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">`;
/** The evidence link an outsider's run used to put a second link, with its own text, in reviewers' cards. */
const LINK_ATTACK = 'https://a.b/x)**[官方文件](https://evil.example/login)';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('local chat simulator in a real browser', () => {
  let tmp = '';
  let child: ChildProcess | undefined;
  let output = '';
  let exited: Promise<void> = Promise.resolve();
  let browser: Browser | undefined;
  let base = '';

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium was not found at ${CHROMIUM}. This browser test needs it: install Debian's chromium ` +
          '(`apt-get install -y chromium`) or set CHROMIUM_PATH to a Chromium/Chrome executable.',
      );
    }
    tmp = await mkdtemp(join(tmpdir(), 'lvzhi-browser-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/runtime/node.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: `file:${join(tmp, 'app.db')}`, SEED_DEMO: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    let exitCode: number | null | undefined;
    exited = new Promise((resolve) => proc.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      resolve();
    }));

    const deadline = performance.now() + 30_000;
    for (;;) {
      if (exitCode !== undefined) throw new Error(`the server exited early (code ${exitCode}):\n${output}`);
      try {
        const res = await fetch(`${base}/healthz`);
        if (res.status === 200) break;
      } catch {
        // not listening yet
      }
      if (performance.now() > deadline) throw new Error(`the server did not answer /healthz within 30 s:\n${output}`);
      await sleep(200);
    }

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killed = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!killed) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  /** A card in the open chat, by (part of) its title. */
  const card = (page: Page, title: string): Locator =>
    page.locator('article.card', { has: page.locator('.card-title', { hasText: title }) }).last();

  /**
   * Opens a person's chat from the front page and waits for a card: cards are delivered by the
   * outbox pump after the action that caused them, so the chat is reloaded until it shows up.
   */
  async function openChat(page: Page, name: string, title: string): Promise<Locator> {
    await page.goto(`${base}/`);
    await page.locator('a[data-person]', { hasText: name }).click();
    await page.waitForURL(/\/chat\/\d+$/);
    await page.locator('header.top strong', { hasText: name }).waitFor();
    const deadline = performance.now() + 20_000;
    for (;;) {
      const found = card(page, title);
      try {
        await found.waitFor({ state: 'visible', timeout: 2_000 });
        // Let a poll-triggered reload (the chat changed while loading) settle before acting.
        await page.waitForLoadState('networkidle');
        return card(page, title);
      } catch (e) {
        if (performance.now() > deadline) throw new Error(`${name}'s chat shows no card "${title}":\n${await page.locator('main').innerText()}`, { cause: e });
        await page.reload();
      }
    }
  }

  /** The page has loaded (an <img onerror> has fired by then) and no hostile text ran. */
  async function expectNothingRan(page: Page): Promise<void> {
    await page.waitForLoadState('load');
    expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
  }

  /** Clicks a posting button (confirm dialogs are accepted) and waits for the redirect's toast. */
  async function act(page: Page, button: Locator, toastText: string): Promise<string> {
    const posted = page.waitForResponse((r) => r.url().endsWith('/local/action') && r.request().method() === 'POST');
    await button.click();
    const res = await posted;
    expect(res.status(), `POST /local/action answered ${res.status()}`).toBe(303);
    await page.waitForURL((u) => u.pathname.startsWith('/chat/') && u.searchParams.has('toast'));
    const toast = page.locator('.toast');
    await toast.waitFor({ state: 'visible' });
    const text = (await toast.innerText()).trim();
    expect(text).toContain(toastText);
    return text;
  }

  it('starts the stage, refuses a bad score, submits, signs and shows the review card', async () => {
    const context = await browser!.newContext({ locale: 'zh-CN', viewport: { width: 720, height: 1000 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));

    // 1. Front page: the seeded campaign and the people; the evaluator starts 单位自评.
    await page.goto(`${base}/`);
    const campaigns = await page.locator('ul.campaigns li').allInnerTexts();
    expect(campaigns).toHaveLength(1);
    expect(campaigns[0]).toContain('履职评估');
    expect(campaigns[0]).toContain('宣传发动');
    const people = await page.locator('a[data-person]').allInnerTexts();
    expect(people).toHaveLength(14);
    expect(people.some((p) => p.includes(PEOPLE.filler) && p.includes(`填报员·${UNIT}`))).toBe(true);
    expect(people.some((p) => p.includes(PEOPLE.head) && p.includes(`单位负责人·${UNIT}`))).toBe(true);
    expect(people.some((p) => p.includes(PEOPLE.evaluator) && p.includes('评估组'))).toBe(true);

    const consoleCard = await openChat(page, PEOPLE.evaluator, '履职评估');
    const due = consoleCard.locator('input[type="date"][name="due"]');
    expect(await due.inputValue()).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // On a phone's width, where the toast wraps onto two lines.
    await page.setViewportSize({ width: 390, height: 700 });
    const started = await act(page, consoleCard.getByRole('button', { name: '启动单位自评' }), '单位自评已启动');
    expect(started).toContain('6 个单位');
    // The toast sits right above the card acted on and scrolls with the page: it never covers
    // the card's title, where the page lands nor when the reader scrolls on.
    const covered = async () => {
      const t = (await page.locator('.toast').boundingBox())!;
      const title = (await card(page, '履职评估').locator('.card-title').boundingBox())!;
      return t.y < title.y + title.height && title.y < t.y + t.height;
    };
    expect(await covered()).toBe(false);
    for (const dy of [30, 30, 30]) {
      await page.evaluate((by) => window.scrollBy(0, by), dy);
      expect(await covered()).toBe(false);
    }
    await page.setViewportSize({ width: 720, height: 1000 });
    expect(dialogs.at(-1)).toContain('确定启动吗');
    // The console now shows progress instead of the start form.
    const refreshed = card(page, '履职评估');
    expect(await refreshed.getByRole('button', { name: '启动单位自评' }).count()).toBe(0);
    expect(await refreshed.locator('table').innerText()).toContain(UNIT);

    // 2. The filler: a refused submit keeps what was typed, then a valid one goes to the head.
    let fill = await openChat(page, PEOPLE.filler, `单位自评 · ${UNIT}`);
    const scores = fill.locator('input[name^="score_"]');
    const scoreCount = await scores.count();
    expect(scoreCount).toBeGreaterThan(0);
    expect(await fill.locator('textarea[name^="expl_"]').count()).toBe(scoreCount);
    expect(await fill.locator('input[name^="evid_"]').count()).toBe(scoreCount);

    const fillAll = async (form: Locator, firstScore: string) => {
      const names = await form.locator('input[name^="score_"]').evaluateAll((els) => els.map((e) => (e as HTMLInputElement).name));
      for (const [i, name] of names.entries()) {
        const id = name.slice('score_'.length);
        await form.locator(`input[name="score_${id}"]`).fill(i === 0 ? firstScore : '8');
        // The first indicator carries hostile text and the link attack; the reviewers see both.
        await form.locator(`textarea[name="expl_${id}"]`).fill(i === 0 ? `说明${EVIL}` : '对照评分细则逐项自查，相关工作均已落实。');
        await form.locator(`input[name="evid_${id}"]`).fill(`https://oa.example.gov.cn/files/evidence-${id}.pdf${i === 0 ? `,${LINK_ATTACK}` : ''}`);
      }
      await form.locator('textarea[name="report"]').fill('本单位严格按照核准的宗旨和业务范围开展工作，机构编制和法人登记管理规范，存在的问题已制定整改措施。');
      return names;
    };

    const scoreNames = await fillAll(fill, '99');
    const firstScore = scoreNames[0]!;
    await act(page, fill.getByRole('button', { name: '提交签发' }), '处需要修改');
    expect(dialogs.at(-1)).toContain('确定提交吗');
    fill = card(page, `单位自评 · ${UNIT}`);
    const errors = await fill.locator('.field-error').allInnerTexts();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('超出范围');
    expect(errors[0]).toContain('99');
    const badField = fill.locator('label.field.has-error');
    expect(await badField.locator(`input[name="${firstScore}"]`).inputValue()).toBe('99');
    expect(await fill.locator(`input[name="${firstScore}"]`).getAttribute('aria-invalid')).toBe('true');
    // What else was typed is echoed back too, hostile text as text.
    expect(await fill.locator('textarea[name="report"]').inputValue()).toContain('本单位严格按照核准的宗旨');
    expect(await fill.locator(`textarea[name="${firstScore.replace('score_', 'expl_')}"]`).inputValue()).toBe(`说明${EVIL}`);
    await expectNothingRan(page);
    expect(await fill.locator(`input[name="${scoreNames[1] ?? firstScore}"]`).inputValue()).toBe(scoreNames[1] ? '8' : '99');

    await fillAll(fill, '8');
    await act(page, fill.getByRole('button', { name: '提交签发' }), '已提交');
    fill = card(page, `单位自评 · ${UNIT}`);
    const fillText = await fill.innerText();
    expect(fillText).toContain('待签发');
    expect(fillText).toContain(`${8 * scoreNames.length} /`);
    expect(await fill.locator('.field-error').count()).toBe(0);
    expect(await fill.getByRole('button', { name: '提交签发' }).count()).toBe(0);
    expect(await fill.locator('input[name^="score_"]').count()).toBe(0);

    // 3. The head 签发.
    const sign = await openChat(page, PEOPLE.head, `自评签发 · ${UNIT}`);
    expect(await sign.innerText()).toContain('请审阅后签发');
    await act(page, sign.getByRole('button', { name: '签发', exact: true }), '已签发');
    expect(dialogs.at(-1)).toContain('确定签发吗');
    expect(await card(page, `自评签发 · ${UNIT}`).innerText()).toContain('第1版已签发');

    // 4. The evaluator's 自评审核 card, with the scores and both decisions.
    const review = await openChat(page, PEOPLE.evaluator, `自评审核 · ${UNIT}`);
    const reviewText = await review.innerText();
    expect(reviewText).toContain('待审核');
    expect(reviewText).toContain('请对照评分细则和佐证材料审核');
    expect(reviewText).toContain(`${8 * scoreNames.length} /`);
    const panelTitles = await review.locator('details.panel > summary').allInnerTexts();
    expect(panelTitles.filter((t) => / · 8\/\d+$/.test(t.trim()))).toHaveLength(scoreNames.length);
    await review.getByRole('button', { name: '审核通过' }).waitFor({ state: 'visible' });
    await review.getByRole('button', { name: '退回修改' }).waitFor({ state: 'visible' });
    expect(await review.getByRole('button', { name: '审核通过' }).isEnabled()).toBe(true);
    expect(await review.getByRole('link', { name: '佐证1（oa.example.gov.cn）' }).first().getAttribute('href')).toMatch(/^https:\/\/oa\.example\.gov\.cn\/files\/evidence-\d+\.pdf$/);
    // The filler's hostile explanation is text; the link attack is one link, to a.b, with lvzhi's words.
    expect(reviewText).toContain(`说明${EVIL}`);
    expect(await review.getByRole('link', { name: '佐证2（a.b）' }).getAttribute('href')).toBe('https://a.b/x%29%2A%2A%5B官方文件%5D%28https://evil.example/login%29');
    expect(await review.getByRole('link', { name: '官方文件' }).count()).toBe(0);
    expect(await review.locator('a[href^="https://evil.example"]').count()).toBe(0);
    await expectNothingRan(page);

    await mkdir(join(REPO_ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(REPO_ROOT, 'test-results', 'simulator-review.png'), fullPage: true });

    // 5. The evaluator returns it with hostile comments; the filler reads them as text.
    await review.locator('textarea[name="comment"]').fill(`总体意见${EVIL}`);
    await review.locator('textarea[name^="cmt_"]').first().fill(`指标意见${EVIL}`);
    await act(page, review.getByRole('button', { name: '退回修改' }), '已退回单位修改');
    await expectNothingRan(page);
    await openChat(page, PEOPLE.filler, `单位自评 · ${UNIT}`);
    // The filler's version 2, delivered by the outbox after the return.
    const returned = page.locator('article.card', { has: page.locator('.tag', { hasText: '第2版' }) }).last();
    const deadline = performance.now() + 20_000;
    while ((await returned.count()) === 0) {
      if (performance.now() > deadline) throw new Error(`${PEOPLE.filler}'s chat shows no version 2:\n${await page.locator('main').innerText()}`);
      await sleep(500);
      await page.reload();
    }
    const returnedText = await returned.innerText();
    expect(returnedText).toContain(`第1版已被评估组退回修改：总体意见${EVIL}`);
    expect(returnedText).toContain(`修改意见：指标意见${EVIL}`);
    await expectNothingRan(page);

    expect(pageErrors).toEqual([]);
    await context.close();
  }, 150_000);

  it('shows a hostile ledger answer and hostile text in every kind of card element literally, running nothing', async () => {
    const context = await browser!.newContext({ locale: 'zh-CN', viewport: { width: 720, height: 1000 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('dialog', (d) => void d.accept());
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));

    // A ledger answer, through the simulator as a filler gives it: 待办 → 去填报 → 报送.
    const filler = '张雅琴';
    await page.goto(`${base}/`);
    await page.locator('a[data-person]', { hasText: filler }).click();
    await page.waitForURL(/\/chat\/\d+$/);
    await page.locator('form.composer input[name="text"]').fill('待办');
    await page.locator('form.composer button').click();
    const help = await openChat(page, filler, '我的待办');
    const messageId = await help.getAttribute('id');
    await act(page, help.getByRole('button', { name: '去填报' }).first(), '已打开台账');
    const entry = page.locator(`article#${messageId}`);
    await entry.locator('details').evaluateAll((ds) => ds.forEach((d) => ((d as HTMLDetailsElement).open = true)));
    for (const field of await entry.locator('form.card-form input:not([type="hidden"]), form.card-form textarea, form.card-form select').all()) {
      const tag = await field.evaluate((e) => e.tagName.toLowerCase());
      const type = await field.getAttribute('type');
      const mode = await field.getAttribute('inputmode');
      if (tag === 'select') await field.selectOption({ index: 1 });
      else if (type === 'date') await field.fill('2026-01-05');
      else if (mode === 'decimal') await field.fill('0');
      else if (mode === 'url') await field.fill('https://oa.example.gov.cn/ledger.pdf');
      else await field.fill(`台账答案${EVIL}`);
    }
    await act(page, entry.getByRole('button', { name: '报送' }), '台账已报送');
    const submitted = page.locator(`article#${messageId}`);
    expect(await submitted.locator('form.card-form').count()).toBe(0);
    await submitted.locator('details').evaluateAll((ds) => ds.forEach((d) => ((d as HTMLDetailsElement).open = true)));
    expect(await submitted.innerText()).toContain(`台账答案${EVIL}`);
    await expectNothingRan(page);

    // Every kind of element, with hostile text in each slot, as a card delivered to a person.
    await page.goto(`${base}/`);
    const leader = page.locator('a[data-person]', { hasText: '林国栋' });
    const leaderId = Number(await leader.getAttribute('data-person'));
    const hostile: CardSpec = {
      header: { title: `恶意卡片${EVIL}`, subtitle: EVIL, tags: [{ text: EVIL }] },
      elements: [
        md(`正文${EVIL}`), plainText(`纯文本${EVIL}`), notice('warning', `提示${EVIL}`),
        { type: 'fields', fields: [{ label: `标签${EVIL}`, value: `字段值${EVIL}` }] },
        { type: 'table', columns: [{ key: 'k', label: `列${EVIL}` }], rows: [{ k: `单元格${EVIL}` }] },
        { type: 'chart', kind: 'bar', title: `图表${EVIL}`, series: [{ name: 's', data: [{ label: `图表标签${EVIL}`, value: 3 }] }] },
        { type: 'panel', title: `面板${EVIL}`, expanded: true, elements: [actions(button({ label: `按钮${EVIL}`, url: 'https://oa.example.gov.cn/' }))] },
        { type: 'form', name: 'f', elements: [
          { type: 'select', name: 's', label: `选择${EVIL}`, options: [{ value: EVIL, label: `选项${EVIL}` }], error: `错误${EVIL}` },
          { type: 'input', name: 'i', label: `输入${EVIL}`, value: `输入值${EVIL}`, placeholder: EVIL },
        ] },
      ],
    };
    const { db, close } = await openDatabase({ DATABASE_URL: `file:${join(tmp, 'app.db')}` });
    try {
      await enqueue(db, [{ dedupeKey: 'browser-test:hostile', kind: 'send', personId: leaderId, subject: 'browser-test:hostile', card: hostile }], 0);
    } finally {
      close();
    }
    const shown = await openChat(page, '林国栋', '恶意卡片');
    const text = await shown.innerText();
    for (const part of ['恶意卡片', '正文', '纯文本', '提示', '标签', '字段值', '列', '单元格', '图表', '图表标签', '面板', '按钮', '选择', '错误', '输入']) {
      expect(text, part).toContain(`${part}${EVIL}`);
    }
    expect(await shown.locator('select[name="s"] option').last().innerText()).toBe(`选项${EVIL}`);
    expect(await shown.locator('input[name="i"]').inputValue()).toBe(`输入值${EVIL}`);
    expect(await shown.locator('script, img').count()).toBe(0);
    await expectNothingRan(page);

    expect(pageErrors).toEqual([]);
    await context.close();
  }, 90_000);
});
