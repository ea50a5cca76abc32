/** The ledger (台账) flow at HTTP level through app.request(), on the demo seed in a temporary libSQL file. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { and, asc, eq } from 'drizzle-orm';
import { auditLog, campaigns, identities, ledgerAssignments, ledgerDefinitions, ledgerEntries, people, roles, units } from '../../../db/schema';
import { walk, type CardSpec, type DatePicker, type Input, type Select } from '../../../cards/kit';
import { actionOf, createHarness, fieldErrors } from '../../test/harness';
import { assignLedger, ensureLedgerEntries, loadLedgerEntry, returnLedgerEntry } from '../../store/ledger.repo';
import { writeTransaction } from '../../store/serialize';

type H = Awaited<ReturnType<typeof createHarness>>;

const MOBILE = { cdcFiller: '13800000001', cdcHead: '13800000002', libFiller: '13800000003', evaluator: '13800000013', leader: '13800000014' };
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
      'f_within-scope': '请选择「是否按核准的宗旨和业务范围开展活动」',
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
    await writeTransaction(h.db, async (tx) => returnLedgerEntry(tx, { loaded: (await loadLedgerEntry(tx, entry.id))!, comment: '整改率与已整改数不符', actorId: ids.evaluator, platform: 'local', now: h.now() }));
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

  it('refuses numbers that disagree (查实 > 收到) under the field, storing nothing', async () => {
    const entry = await entryOf('县疾病预防控制中心', REGISTRATION);
    const card = (await h.act(ids.cdcFiller, { id: 'ledger.open', value: { entryId: entry.id } })).card!;
    const submit = { id: 'ledger.submit', value: { entryId: entry.id, rev: 0 } };
    const form = { ...validForm(card), 'f_complaints-received': '2', 'f_complaints-substantiated': '3' };
    const refused = await h.act(ids.cdcFiller, submit, form);
    expect(refused.toast).toEqual({ type: 'error', text: '有 1 处需要修改，未报送' });
    expect(fieldErrors(refused.card!)).toEqual({ 'f_complaints-substantiated': '经查实件数不能大于本月收到的投诉举报件数' });
    expect(controls(refused.card!).find((c) => c.name === 'f_complaints-substantiated')).toMatchObject({ value: '3' });
    expect(await entryOf('县疾病预防控制中心', REGISTRATION)).toMatchObject({ status: 'pending', revision: 0, values: {} });
    expect(await ledgerAudit(entry.id)).toHaveLength(0);
    expect((await h.act(ids.cdcFiller, submit, { ...form, 'f_complaints-substantiated': '2' })).toast?.text).toBe('台账已报送');
  });

  it('lets an evaluator return a submitted entry with a reason; the filler gets it back and submits again', async () => {
    const entry = await entryOf('县疾病预防控制中心', HAZARD);
    const form = validForm((await h.act(ids.cdcFiller, { id: 'ledger.open', value: { entryId: entry.id } })).card!);
    expect((await h.act(ids.cdcFiller, { id: 'ledger.submit', value: { entryId: entry.id, rev: 0 } }, form)).toast?.text).toBe('台账已报送');

    // The evaluator's card of the submitted entry carries 退回修改 at the entry's revision.
    const review = (await h.act(ids.evaluator, { id: 'ledger.open', value: { entryId: entry.id } })).card!;
    const back = actionOf(review, 'ledger.return');
    expect(back).toEqual({ id: 'ledger.return', value: { entryId: entry.id, rev: 1 } });

    // No reason: refused in Chinese under the field, nothing stored.
    const empty = await h.act(ids.evaluator, back, { return_reason: '   ' });
    expect(empty.toast).toEqual({ type: 'error', text: '退回时请填写退回原因，说明需要单位修改的内容' });
    expect(fieldErrors(empty.card!)).toEqual({ return_reason: '退回时请填写退回原因，说明需要单位修改的内容' });
    // Only an evaluator may return: the unit's filler and head, a leader and another unit's filler are refused.
    for (const who of [ids.cdcFiller, ids.cdcHead, ids.leader, ids.libFiller]) {
      const refused = await h.act(who, back, { return_reason: '我想改' });
      expect(refused.toast).toEqual({ type: 'error', text: '无权限：您不是该事项的办理人，操作未生效' });
      expect(refused.card).toBeUndefined();
    }
    expect(await entryOf('县疾病预防控制中心', HAZARD)).toMatchObject({ status: 'submitted', revision: 1, returnComment: null });
    expect((await ledgerAudit(entry.id)).map((a) => a.action)).toEqual(['ledger.submit']);

    const before = (await h.messages(ids.cdcFiller)).length;
    const ok = await h.act(ids.evaluator, back, { return_reason: '已整改数与整改率不符，请核实' });
    expect(ok.toast).toEqual({ type: 'success', text: '已退回单位修改' });
    expect(hasForm(ok.card!)).toBe(false);
    expect(JSON.stringify(ok.card)).toContain('退回意见：已整改数与整改率不符，请核实');
    expect(await entryOf('县疾病预防控制中心', HAZARD)).toMatchObject({ status: 'returned', revision: 2, returnComment: '已整改数与整改率不符，请核实' });
    const audit = await ledgerAudit(entry.id);
    expect(audit.map((a) => [a.action, a.actorId])).toEqual([['ledger.submit', ids.cdcFiller], ['ledger.return', ids.evaluator]]);
    expect(audit[1]!.after).toMatchObject({ status: 'returned', revision: 2, comment: '已整改数与整改率不符，请核实' });

    // A second click from the same card changes nothing.
    const twice = await h.act(ids.evaluator, back, { return_reason: '再退一次' });
    expect(twice.toast).toEqual({ type: 'warning', text: '该台账当前不是已报送状态（尚未报送或已退回），无法退回' });
    expect(await ledgerAudit(entry.id)).toHaveLength(2);

    // The filler gets the entry back as a new card: the reason on top, the answers kept, 重新报送 at revision 2.
    const msgs = await h.messages(ids.cdcFiller);
    expect(msgs).toHaveLength(before + 1);
    const back2 = msgs[msgs.length - 1]!;
    expect(back2.subject).toBe(`ledger:${entry.id}`);
    expect(JSON.stringify(back2.card)).toContain('已退回修改：已整改数与整改率不符，请核实。请修改后重新报送。');
    expect(controls(back2.card).find((c) => c.name === 'f_inspections')).toMatchObject({ value: '3' });
    const resubmit = actionOf(back2.card, 'ledger.submit');
    expect(resubmit.value).toEqual({ entryId: entry.id, rev: 2 });
    expect((await h.act(ids.cdcFiller, resubmit, { ...form, f_inspections: '5' }, { messageId: back2.id })).toast?.text).toBe('台账已报送');
    expect(await entryOf('县疾病预防控制中心', HAZARD)).toMatchObject({ status: 'submitted', revision: 3, returnComment: null, values: expect.objectContaining({ inspections: 5 }) });

    // The evaluator's card from revision 1 is stale now: refused, with the current card to act on.
    const stale = await h.act(ids.evaluator, back, { return_reason: '请再核实' });
    expect(stale.toast).toEqual({ type: 'warning', text: '该卡片已过期，请查看最新卡片后再操作' });
    expect(actionOf(stale.card!, 'ledger.return').value).toEqual({ entryId: entry.id, rev: 3 });
    expect(await entryOf('县疾病预防控制中心', HAZARD)).toMatchObject({ status: 'submitted', revision: 3 });
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

  describe('待查阅的台账 on the evaluation office\'s 我的待办', () => {
    const REVIEWS = '待查阅的台账';
    const DAY = 86_400_000;

    async function submitAs(personId: number, entryId: number) {
      const form = validForm((await h.act(personId, { id: 'ledger.open', value: { entryId } })).card!);
      const rev = (await loadLedgerEntry(h.db, entryId))!.state.revision;
      expect((await h.act(personId, { id: 'ledger.submit', value: { entryId, rev } }, form)).toast?.text).toBe('台账已报送');
    }

    /** A person holding only the evaluator role, for one campaign, known to the simulator as p<id>. */
    async function evaluatorOf(campaignId: number, name: string, mobile: string) {
      const [p] = await h.db.insert(people).values({ name, mobile, createdAt: h.now() }).returning({ id: people.id });
      await h.db.insert(identities).values({ personId: p!.id, platform: 'local', externalId: `p${p!.id}` });
      await h.db.insert(roles).values({ personId: p!.id, role: 'evaluator', unitId: null, campaignId, createdAt: h.now() });
      return p!.id;
    }

    it('lists a submitted entry; 查看 opens it with the 退回 form; once returned the unit has it again and the list drops it', async () => {
      expect(JSON.stringify((await help(ids.evaluator)).card)).not.toContain(REVIEWS);
      const entry = await entryOf('县疾病预防控制中心', HAZARD);
      await submitAs(ids.cdcFiller, entry.id);

      const listed = await help(ids.evaluator);
      const listedText = JSON.stringify(listed.card);
      expect(listedText).toContain(`**${REVIEWS}**（近10个工作日报送，共 1 份）`);
      expect(listedText).toContain(`县疾病预防控制中心 · 2026年11月${HAZARD}（2026年11月30日报送）`);
      // Reading is not a task: the evaluator's count is the 启动单位自评 alone.
      expect(listed.card.header.tags?.[0]?.text).toBe('1 项待办');
      // A leader cannot return, and gets no such list.
      expect(JSON.stringify((await help(ids.leader)).card)).not.toContain(REVIEWS);

      const opened = await h.act(ids.evaluator, rowAction(listed.card, HAZARD, 'ledger.open'), {}, { messageId: listed.id });
      expect(opened.toast?.text).toBe('已打开台账');
      expect(opened.card!.header.title).toBe(`2026年11月 ${HAZARD}`);
      const back = actionOf(opened.card!, 'ledger.return');
      expect(back).toEqual({ id: 'ledger.return', value: { entryId: entry.id, rev: 1 } });
      expect((await h.act(ids.evaluator, back, { return_reason: '整改率与已整改数不符，请核实' }, { messageId: listed.id })).toast?.text).toBe('已退回单位修改');

      const fillerMsgs = await h.messages(ids.cdcFiller);
      expect(JSON.stringify(fillerMsgs[fillerMsgs.length - 1]!.card)).toContain('已退回修改：整改率与已整改数不符，请核实。');
      expect(JSON.stringify((await help(ids.cdcFiller)).card)).toContain(`**修改台账**：县疾病预防控制中心 · 2026年11月${HAZARD}`);
      expect(JSON.stringify((await help(ids.evaluator)).card)).not.toContain(REVIEWS);
    });

    it('keeps a submission for 10 working days', async () => {
      await submitAs(ids.cdcFiller, (await entryOf('县疾病预防控制中心', HAZARD)).id);
      h.advance(11 * DAY + 12 * 3_600_000); // Friday 11 December, 21:00: 30 November is still one of the last 10 working days
      expect(JSON.stringify((await help(ids.evaluator)).card)).toContain(`县疾病预防控制中心 · 2026年11月${HAZARD}（2026年11月30日报送）`);
      h.advance(2 * DAY + 12 * 3_600_000); // Monday 14 December, 09:00
      expect(JSON.stringify((await help(ids.evaluator)).card)).not.toContain(REVIEWS);
    });

    it('shows a campaign-scoped evaluator the entries of that campaign only', async () => {
      const [demo] = await h.db.select().from(campaigns);
      const [other] = await h.db.insert(campaigns).values({ schemeId: demo!.schemeId, name: '另一评估', year: 2026, createdAt: h.now() }).returning({ id: campaigns.id });
      const ofDemo = await evaluatorOf(demo!.id, '钱评估', '13900000091');
      const ofOther = await evaluatorOf(other!.id, '赵评估', '13900000092');
      // The registration ledger kept by the 疾控中心 for the demo campaign too, besides its standing one.
      const [registration] = await h.db.select().from(ledgerDefinitions).where(eq(ledgerDefinitions.name, REGISTRATION));
      const standing = await entryOf('县疾病预防控制中心', HAZARD);
      await writeTransaction(h.db, async (tx) => {
        await assignLedger(tx, { definitionId: registration!.id, unitIds: [standing.unitId], campaignId: demo!.id }, h.now());
        await ensureLedgerEntries(tx, h.now());
      });
      const [row] = await h.db.select({ e: ledgerEntries }).from(ledgerEntries)
        .innerJoin(ledgerAssignments, eq(ledgerAssignments.id, ledgerEntries.assignmentId))
        .where(and(eq(ledgerAssignments.campaignId, demo!.id), eq(ledgerEntries.period, '2026-11')));
      const campaignEntry = row!.e;
      expect(campaignEntry).toMatchObject({ unitId: standing.unitId, definitionId: registration!.id, status: 'pending' });
      await submitAs(ids.cdcFiller, standing.id);
      await submitAs(ids.cdcFiller, campaignEntry.id);

      // The office-wide evaluator sees both, the demo campaign's evaluator that campaign's entry alone, the other campaign's none.
      expect(JSON.stringify((await help(ids.evaluator)).card)).toContain('共 2 份');
      const demoHelp = await help(ofDemo);
      const demoText = JSON.stringify(demoHelp.card);
      expect(demoText).toContain('共 1 份');
      expect(demoText).toContain(`县疾病预防控制中心 · 2026年11月${REGISTRATION}（2026年11月30日报送）`);
      expect(demoText).not.toContain(HAZARD);
      expect(rowAction(demoHelp.card, REGISTRATION, 'ledger.open').value).toEqual({ entryId: campaignEntry.id });
      expect(actionOf((await h.act(ofDemo, rowAction(demoHelp.card, REGISTRATION, 'ledger.open'))).card!, 'ledger.return').value).toEqual({ entryId: campaignEntry.id, rev: 1 });
      expect(JSON.stringify((await help(ofOther)).card)).not.toContain(REVIEWS);
      // And what it is not shown, it could not open either.
      expect((await h.act(ofOther, { id: 'ledger.open', value: { entryId: campaignEntry.id } })).toast?.text).toContain('无权限');
    });
  });
});
