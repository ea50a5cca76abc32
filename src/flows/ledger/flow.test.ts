/** The ledger (台账) flow at HTTP level through app.request(), on the demo seed in a temporary libSQL file. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { and, asc, eq } from 'drizzle-orm';
import { auditLog, ledgerDefinitions, ledgerEntries, units } from '../../../db/schema';
import { walk, type CardSpec, type DatePicker, type Input, type Select } from '../../../cards/kit';
import { createHarness, fieldErrors } from '../../test/harness';
import { loadLedgerEntry, returnLedgerEntry } from '../../store/ledger.repo';
import { writeTransaction } from '../../store/serialize';

type H = Awaited<ReturnType<typeof createHarness>>;

const MOBILE = { cdcFiller: '13800000001', cdcHead: '13800000002', libFiller: '13800000003', evaluator: '13800000013' };
const REGISTRATION = '登记管理日常监管台账';
const HAZARD = '月度隐患排查治理情况报告';

const controls = (card: CardSpec) => [...walk(card.elements)].filter((e): e is Input | Select | DatePicker => e.type === 'input' || e.type === 'select' || e.type === 'date');
const hasForm = (card: CardSpec) => [...walk(card.elements)].some((e) => e.type === 'form');

/** A complete, valid answer for every control of the card. */
function validForm(card: CardSpec): Record<string, string> {
  const form: Record<string, string> = {};
  for (const c of controls(card)) {
    if (c.type === 'select') form[c.name] = c.options[c.options.length - 1]!.value;
    else if (c.type === 'date') form[c.name] = '2026-11-20';
    else form[c.name] = c.inputType === 'number' ? '3' : c.inputType === 'url' ? 'https://oa.example.gov.cn/files/ledger.pdf' : '本月按计划开展各项工作，情况正常。';
  }
  return form;
}

/** The action of the 我的待办 row that mentions `text`. */
function rowAction(card: CardSpec, text: string, id: string) {
  for (const el of card.elements) {
    if (el.type !== 'columns' || !JSON.stringify(el).includes(text)) continue;
    for (const b of walk(el.columns.flatMap((c) => c.elements))) if (b.type === 'button' && b.action?.id === id) return { id, value: { ...b.action.value } };
  }
  throw new Error(`no ${id} row mentioning ${text} on "${card.header.title}"`);
}

describe('ledger flow over HTTP', () => {
  let h: H;
  let ids: Record<keyof typeof MOBILE, number>;
  let seq = 0;

  beforeEach(async () => {
    h = await createHarness();
    ids = Object.fromEntries(await Promise.all(Object.entries(MOBILE).map(async ([k, m]) => [k, (await h.personByMobile(m)).id]))) as typeof ids;
  });
  afterEach(async () => h.close());

  async function help(personId: number) {
    const res = await h.app.request('/local/message', { method: 'POST', body: new URLSearchParams({ _actor: `p${personId}`, _nonce: `n${++seq}`, text: '待办' }) });
    expect(res.status).toBe(303);
    await h.flush();
    const msgs = (await h.messages(personId)).filter((m) => m.subject === 'help');
    return msgs[msgs.length - 1]!;
  }

  async function entryOf(unitName: string, ledgerName: string) {
    const [row] = await h.db
      .select({ e: ledgerEntries })
      .from(ledgerEntries)
      .innerJoin(units, eq(units.id, ledgerEntries.unitId))
      .innerJoin(ledgerDefinitions, eq(ledgerDefinitions.id, ledgerEntries.definitionId))
      .where(and(eq(units.name, unitName), eq(ledgerDefinitions.name, ledgerName)));
    if (!row) throw new Error(`no ${ledgerName} entry of ${unitName}`);
    return row.e;
  }

  const ledgerAudit = (entryId: number) => h.db.select().from(auditLog).where(and(eq(auditLog.subjectType, 'ledger_entry'), eq(auditLog.subjectId, String(entryId)))).orderBy(asc(auditLog.id));

  it('opens from 我的待办, refuses a bad form without storing it, then submits once', async () => {
    const before = await entryOf('县疾病预防控制中心', REGISTRATION);
    expect(before).toMatchObject({ period: '2026-11', dueDate: '2026-12-05', status: 'pending', revision: 0, values: {} });

    const helpMsg = await help(ids.cdcFiller);
    expect(helpMsg.card.header.tags?.[0]?.text).toBe('2 项待办');
    const helpText = JSON.stringify(helpMsg.card);
    expect(helpText).toContain(`县疾病预防控制中心 · 2026年11月${REGISTRATION}（截止2026年12月5日）`);
    expect(helpText).toContain(`县疾病预防控制中心 · 2026年11月${HAZARD}（截止2026年11月25日，已逾期）`);

    const opened = await h.act(ids.cdcFiller, rowAction(helpMsg.card, REGISTRATION, 'ledger.open'), {}, { messageId: helpMsg.id });
    expect(opened.toast?.text).toBe('已打开台账');
    const card = opened.card!;
    expect(card.header.title).toBe(`2026年11月 ${REGISTRATION}`);
    expect(controls(card)).toHaveLength(20);
    const submit = [...walk(card.elements)].find((e) => e.type === 'button' && e.action?.id === 'ledger.submit');
    expect(submit).toMatchObject({ action: { value: { entryId: before.id, rev: 0 } } });
    const submitAction = { id: 'ledger.submit', value: { entryId: before.id, rev: 0 } };

    // Two answers wrong: nothing is stored, the card says where, and keeps what was typed.
    const bad = { ...validForm(card), 'f_complaints-received': '三件', 'f_within-scope': '' };
    const refused = await h.act(ids.cdcFiller, submitAction, bad, { messageId: helpMsg.id });
    expect(refused.toast).toEqual({ type: 'error', text: '有 2 处需要修改，未报送' });
    expect(fieldErrors(refused.card!)).toEqual({
      'f_complaints-received': '「本月收到（含转办）投诉举报件数」应填写数字，「三件」不是有效数字',
      'f_within-scope': '请填写「是否按核准的宗旨和业务范围开展活动」',
    });
    expect(controls(refused.card!).find((c) => c.name === 'f_main-work')).toMatchObject({ value: '本月按计划开展各项工作，情况正常。' });
    expect(await entryOf('县疾病预防控制中心', REGISTRATION)).toMatchObject({ status: 'pending', revision: 0, values: {} });
    expect(await ledgerAudit(before.id)).toHaveLength(0);

    const ok = await h.act(ids.cdcFiller, submitAction, validForm(card), { messageId: helpMsg.id });
    expect(ok.toast).toEqual({ type: 'success', text: '台账已报送' });
    expect(hasForm(ok.card!)).toBe(false);
    expect(ok.card!.header.tags?.[0]?.text).toBe('已报送');
    const after = await entryOf('县疾病预防控制中心', REGISTRATION);
    expect(after).toMatchObject({ status: 'submitted', revision: 1, submittedBy: ids.cdcFiller, submittedAt: h.now() });
    expect(after.values).toMatchObject({ 'complaints-received': 3, 'within-scope': false, 'change-registration': '发生变更尚未申请', 'main-work': '本月按计划开展各项工作，情况正常。' });
    const audit = await ledgerAudit(before.id);
    expect(audit.map((a) => [a.action, a.actorId])).toEqual([['ledger.submit', ids.cdcFiller]]);
    expect(audit[0]!.after).toMatchObject({ status: 'submitted', revision: 1, values: after.values });

    // A double click (a new event from the same card) changes nothing.
    const twice = await h.act(ids.cdcFiller, submitAction, { ...validForm(card), 'f_complaints-received': '9' });
    expect(twice.toast).toEqual({ type: 'warning', text: '已提交，无需重复提交' });
    expect(hasForm(twice.card!)).toBe(false);
    expect(await entryOf('县疾病预防控制中心', REGISTRATION)).toMatchObject({ revision: 1, values: after.values });
    expect(await ledgerAudit(before.id)).toHaveLength(1);

    // The submitted entry leaves 我的待办.
    const later = await help(ids.cdcFiller);
    expect(later.card.header.tags?.[0]?.text).toBe('1 项待办');
    expect(JSON.stringify(later.card)).not.toContain(REGISTRATION);
  });

  it('refuses a card older than the entry, and takes the fresh one', async () => {
    const entry = await entryOf('县疾病预防控制中心', HAZARD);
    const opened = await h.act(ids.cdcFiller, { id: 'ledger.open', value: { entryId: entry.id } });
    const form = validForm(opened.card!);
    const v0 = { id: 'ledger.submit', value: { entryId: entry.id, rev: 0 } };
    expect((await h.act(ids.cdcFiller, v0, form)).toast?.type).toBe('success');
    // The evaluators send it back (revision 2): the card built at revision 0 is stale.
    await writeTransaction(h.db, async (tx) => returnLedgerEntry(tx, { loaded: (await loadLedgerEntry(tx, entry.id))!, comment: '整改率与已整改数不符', actorId: ids.evaluator, now: h.now() }));
    const stale = await h.act(ids.cdcFiller, v0, { ...form, f_inspections: '7' });
    expect(stale.toast).toEqual({ type: 'warning', text: '该卡片已过期，请查看最新卡片后再操作' });
    expect(await entryOf('县疾病预防控制中心', HAZARD)).toMatchObject({ status: 'returned', revision: 2 });
    expect((await ledgerAudit(entry.id)).map((a) => a.action)).toEqual(['ledger.submit', 'ledger.return']);
    // The answer carries the current card: the comment, the stored answers and the new revision.
    const fresh = stale.card!;
    expect(JSON.stringify(fresh)).toContain('整改率与已整改数不符');
    expect(controls(fresh).find((c) => c.name === 'f_inspections')).toMatchObject({ value: '3' });
    const again = await h.act(ids.cdcFiller, { id: 'ledger.submit', value: { entryId: entry.id, rev: 2 } }, { ...form, f_inspections: '7' });
    expect(again.toast?.text).toBe('台账已报送');
    expect(await entryOf('县疾病预防控制中心', HAZARD)).toMatchObject({ status: 'submitted', revision: 3, values: expect.objectContaining({ inspections: 7 }) });
  });

  it('lets only the unit filler submit; another unit\'s filler gets 无权限, an evaluator a read-only card', async () => {
    const entry = await entryOf('县疾病预防控制中心', REGISTRATION);
    const open = { id: 'ledger.open', value: { entryId: entry.id } };
    const submit = { id: 'ledger.submit', value: { entryId: entry.id, rev: 0 } };
    const form = validForm((await h.act(ids.cdcFiller, open)).card!);

    const strangerOpen = await h.act(ids.libFiller, open);
    expect(strangerOpen.toast).toEqual({ type: 'error', text: '无权限：您不是该事项的办理人，操作未生效' });
    expect(strangerOpen.card).toBeUndefined();
    const strangerSubmit = await h.act(ids.libFiller, submit, form);
    expect(strangerSubmit.toast?.text).toContain('无权限');
    expect(strangerSubmit.card).toBeUndefined();

    const evaluatorCard = await h.act(ids.evaluator, open);
    expect(hasForm(evaluatorCard.card!)).toBe(false);
    expect(JSON.stringify(evaluatorCard.card)).toContain('单位尚未报送本期台账');
    expect((await h.act(ids.evaluator, submit, form)).toast?.text).toContain('无权限');
    const headCard = await h.act(ids.cdcHead, open);
    expect(hasForm(headCard.card!)).toBe(false);
    expect((await h.act(ids.cdcHead, submit, form)).toast?.text).toContain('无权限');

    expect(await entryOf('县疾病预防控制中心', REGISTRATION)).toMatchObject({ status: 'pending', revision: 0, values: {} });
    expect(await ledgerAudit(entry.id)).toHaveLength(0);
    const missing = await h.act(ids.cdcFiller, { id: 'ledger.open', value: { entryId: 999_999 } });
    expect(missing.toast?.text).toContain('未找到');
  });
});
