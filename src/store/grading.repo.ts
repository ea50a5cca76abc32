/**
 * Grading from the database: rater scores, unit facts and grade history in, and the engine's
 * input (GradingInput) out, built with a handful of set-based queries per campaign.
 */
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { campaignUnits, campaigns, gradeHistory, people, schemes, scores, unitFacts, units } from '../../db/schema';
import type { GradingInput, GradingUnitInput } from '../domain/grading-types';
import { parseSchemeFile, type SchemeFile } from '../domain/scheme';
import { checkScore, scoringRules, type ScoringRules } from '../domain/score-entry';
import { appendAudit, type AuditSource } from './audit.repo';
import type { Db, Executor } from './db';
import { writeTransaction } from './serialize';

export interface CampaignScheme {
  campaign: { id: number; name: string; year: number; schemeId: number };
  scheme: SchemeFile;
}

/** The campaign and its scheme as stored (schemes.definition), parsed again so defaults apply. */
export async function loadCampaignScheme(db: Executor, campaignId: number): Promise<CampaignScheme | null> {
  const rows = await db
    .select({ id: campaigns.id, name: campaigns.name, year: campaigns.year, schemeId: campaigns.schemeId, definition: schemes.definition })
    .from(campaigns)
    .innerJoin(schemes, eq(schemes.id, campaigns.schemeId))
    .where(eq(campaigns.id, campaignId))
    .limit(1);
  const row = rows[0];
  if (!row) return null;
  const parsed = parseSchemeFile(row.definition, `scheme ${row.schemeId}`);
  if (!parsed.ok) throw new Error(`stored scheme ${row.schemeId} is invalid:\n${parsed.errors.join('\n')}`);
  const { definition: _definition, ...campaign } = row;
  return { campaign, scheme: parsed.scheme };
}

/** Units of the campaign with the given codes, by code (codes not in the campaign are absent). */
export async function campaignUnitsByCode(db: Executor, campaignId: number, codes: readonly string[]): Promise<Map<string, { id: number; name: string }>> {
  const out = new Map<string, { id: number; name: string }>();
  for (const part of chunks([...new Set(codes)], 500)) {
    const rows = await db
      .select({ id: units.id, code: units.code, name: units.name })
      .from(campaignUnits)
      .innerJoin(units, eq(units.id, campaignUnits.unitId))
      .where(and(eq(campaignUnits.campaignId, campaignId), inArray(units.code, part)));
    for (const r of rows) out.set(r.code, { id: r.id, name: r.name });
  }
  return out;
}

/** A unit of the campaign by its code, or why not (in Chinese). */
export async function findCampaignUnit(db: Executor, campaignId: number, code: string): Promise<{ ok: true; unit: { id: number; name: string } } | { ok: false; message: string }> {
  const unit = (await campaignUnitsByCode(db, campaignId, [code])).get(code);
  if (unit) return { ok: true, unit };
  const known = await db.select({ id: units.id }).from(units).where(eq(units.code, code)).limit(1);
  return { ok: false, message: known.length > 0 ? `单位「${code}」不在本次评估中` : `单位编码「${code}」不存在` };
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Scores

/** A named rater (the key is their person id) or an anonymous questionnaire response (a random id). */
export type Rater = { personId: number } | { responseId: string };

export interface ScoreEntry {
  unitId: number;
  raterGroup: string;
  indicatorCode: string;
  rater: Rater;
  score: number;
}

export interface EntryError {
  /** Index of the entry in the list given. */
  index: number;
  message: string;
}

/** Random response ids only: long enough to be unguessable, and never something that reads as a mobile or a name. */
const RESPONSE_ID = /^(?=.*[A-Za-z])[A-Za-z0-9_-]{8,64}$/;

export function raterKey(r: Rater): string {
  return 'personId' in r ? `p${r.personId}` : `r${r.responseId}`;
}

async function checkEntries(db: Executor, campaignId: number, rules: ScoringRules, entries: readonly ScoreEntry[]): Promise<EntryError[]> {
  const unitIds = new Set<number>();
  const personIds = new Set<number>();
  for (const e of entries) {
    unitIds.add(e.unitId);
    if ('personId' in e.rater) personIds.add(e.rater.personId);
  }
  const inCampaign = new Set<number>();
  for (const part of chunks([...unitIds], 500)) {
    const rows = await db.select({ id: campaignUnits.unitId }).from(campaignUnits).where(and(eq(campaignUnits.campaignId, campaignId), inArray(campaignUnits.unitId, part)));
    for (const r of rows) inCampaign.add(r.id);
  }
  const known = new Set<number>();
  for (const part of chunks([...personIds], 500)) {
    for (const r of await db.select({ id: people.id }).from(people).where(inArray(people.id, part))) known.add(r.id);
  }
  const errors: EntryError[] = [];
  const seen = new Map<string, number>();
  entries.forEach((e, index) => {
    const problems: string[] = [];
    if (!inCampaign.has(e.unitId)) problems.push(`单位（id ${e.unitId}）不在本次评估中`);
    if ('personId' in e.rater && !known.has(e.rater.personId)) problems.push(`评分人（id ${e.rater.personId}）不存在`);
    if ('responseId' in e.rater && !RESPONSE_ID.test(e.rater.responseId)) problems.push('匿名答卷编号须为8–64位随机编码（含字母，由字母、数字、- 或 _ 组成），不能使用姓名或手机号');
    const bad = checkScore(rules, e);
    if (bad) problems.push(bad);
    const key = `${e.unitId}|${e.raterGroup}|${e.indicatorCode}|${raterKey(e.rater)}`;
    const dup = seen.get(key);
    if (dup !== undefined) problems.push(`与第${dup + 1}条重复（同一单位、评估主体、指标和评分人）`);
    else seen.set(key, index);
    for (const message of problems) errors.push({ index, message });
  });
  return errors;
}

export interface ScoreCounts {
  inserted: number;
  replaced: number;
  unchanged: number;
}

type ScoreRow = typeof scores.$inferInsert;

/** Upserts rows (the unique key replaces a re-entered score) and returns what changed, for the audit entry. */
async function writeScores(tx: Executor, campaignId: number, rows: readonly ScoreRow[]): Promise<ScoreCounts & { changes: Array<{ unitId: number; raterGroup: string; indicatorCode: string; raterKey: string; before: number; after: number }> }> {
  const key = (r: { unitId: number; raterGroup: string; indicatorCode: string; raterKey: string }) => `${r.unitId}|${r.raterGroup}|${r.indicatorCode}|${r.raterKey}`;
  const old = new Map<string, number>();
  // Only the raters being written (a few people, or fresh response ids), not a unit's whole questionnaire.
  const raterKeys = [...new Set(rows.map((r) => r.raterKey))];
  for (const part of chunks([...new Set(rows.map((r) => r.unitId))], 500)) {
    for (const keys of chunks(raterKeys, 500)) {
      const existing = await tx
        .select({ unitId: scores.unitId, raterGroup: scores.raterGroup, indicatorCode: scores.indicatorCode, raterKey: scores.raterKey, score: scores.score })
        .from(scores)
        .where(and(eq(scores.campaignId, campaignId), inArray(scores.unitId, part), inArray(scores.raterKey, keys)));
      for (const r of existing) old.set(key(r), r.score);
    }
  }
  const counts = { inserted: 0, replaced: 0, unchanged: 0, changes: [] as Array<{ unitId: number; raterGroup: string; indicatorCode: string; raterKey: string; before: number; after: number }> };
  const changed: ScoreRow[] = [];
  for (const r of rows) {
    const before = old.get(key(r));
    if (before === undefined) counts.inserted++;
    else if (before === r.score) {
      counts.unchanged++;
      continue;
    } else {
      counts.replaced++;
      counts.changes.push({ unitId: r.unitId, raterGroup: r.raterGroup, indicatorCode: r.indicatorCode, raterKey: r.raterKey, before, after: r.score });
    }
    changed.push(r);
  }
  for (const part of chunks(changed, 1000)) {
    await tx
      .insert(scores)
      .values(part)
      .onConflictDoUpdate({
        target: [scores.campaignId, scores.unitId, scores.raterGroup, scores.indicatorCode, scores.raterKey],
        set: { score: sql`excluded.score`, enteredBy: sql`excluded.entered_by`, at: sql`excluded.at` },
      });
  }
  return counts;
}

/**
 * Enters scores: each is checked against the scheme (a known rater group that rates that leaf,
 * 0 ≤ score ≤ the leaf's maxPoints; a tiered leaf is scored on its own maxPoints and scaled to
 * the unit's tier by the engine), the unit must be in the campaign. Either every entry is
 * written, in one transaction with an audit entry, or none and every problem is returned.
 * Re-entering a score (same unit, group, indicator and rater) replaces it.
 */
export async function upsertScores(
  db: Db,
  campaignId: number,
  entries: readonly ScoreEntry[],
  opts: { now: number; actorId: number | null },
): Promise<{ ok: true; counts: ScoreCounts } | { ok: false; errors: EntryError[] }> {
  const loaded = await loadCampaignScheme(db, campaignId);
  if (!loaded) return { ok: false, errors: [{ index: -1, message: `评估（id ${campaignId}）不存在` }] };
  const rules = scoringRules(loaded.scheme);
  const errors = await checkEntries(db, campaignId, rules, entries);
  if (errors.length > 0) return { ok: false, errors };
  const rows: ScoreRow[] = entries.map((e) => ({
    campaignId, unitId: e.unitId, raterGroup: e.raterGroup, indicatorCode: e.indicatorCode, raterKey: raterKey(e.rater),
    score: e.score, enteredBy: 'personId' in e.rater ? e.rater.personId : null, at: opts.now,
  }));
  return writeTransaction(db, async (tx) => {
    const { changes, ...counts } = await writeScores(tx, campaignId, rows);
    await refreshScoreSheets(tx, campaignId, rows.map((r) => r.unitId), opts.now);
    await appendAudit(tx, { at: opts.now, actorId: opts.actorId, platform: 'cli', action: 'scores.enter', subjectType: 'campaign', subjectId: campaignId, before: changes.length > 0 ? { replaced: changes } : null, after: counts });
    return { ok: true as const, counts };
  });
}

/** One row of a score file, as read: the rater is a person's mobile or an anonymous response label. */
export interface ScoreFileRow {
  row: number;
  unitCode: string;
  /** Rater group id or name. */
  group: string;
  indicatorCode: string;
  rater: { mobile: string } | { label: string };
  score: number;
}

export interface RowError {
  row: number;
  column?: string;
  message: string;
}

export interface ScoreImportCounts extends ScoreCounts {
  /** Anonymous responses written, and those they replaced. */
  responses: number;
  responsesReplaced: number;
}

interface PlannedImport {
  named: ScoreRow[];
  /** (unit, group) → label → answers. */
  anonymous: Map<string, { unitId: number; raterGroup: string; responses: Map<string, Array<{ indicatorCode: string; score: number }>> }>;
}

async function planScoreImport(db: Executor, campaignId: number, rows: readonly ScoreFileRow[], now: number): Promise<{ ok: true; plan: PlannedImport } | { ok: false; errors: RowError[] }> {
  const loaded = await loadCampaignScheme(db, campaignId);
  if (!loaded) return { ok: false, errors: [{ row: 0, message: `评估（id ${campaignId}）不存在` }] };
  const rules = scoringRules(loaded.scheme);
  const unitMap = await campaignUnitsByCode(db, campaignId, rows.map((r) => r.unitCode));
  const knownUnitCodes = new Set<string>();
  const outside = rows.map((r) => r.unitCode).filter((c) => !unitMap.has(c));
  for (const part of chunks([...new Set(outside)], 500)) {
    for (const u of await db.select({ code: units.code }).from(units).where(inArray(units.code, part))) knownUnitCodes.add(u.code);
  }
  const mobiles = [...new Set(rows.flatMap((r) => ('mobile' in r.rater ? [r.rater.mobile] : [])))];
  const personByMobile = new Map<string, number>();
  for (const part of chunks(mobiles, 500)) {
    for (const p of await db.select({ id: people.id, mobile: people.mobile }).from(people).where(inArray(people.mobile, part))) personByMobile.set(p.mobile!, p.id);
  }

  const errors: RowError[] = [];
  const plan: PlannedImport = { named: [], anonymous: new Map() };
  const seen = new Map<string, number>();
  for (const r of rows) {
    const rowErrors: RowError[] = [];
    const unit = unitMap.get(r.unitCode);
    if (!unit) rowErrors.push({ row: r.row, column: '单位编码', message: knownUnitCodes.has(r.unitCode) ? `单位「${r.unitCode}」不在本次评估中` : `单位编码「${r.unitCode}」不存在` });
    const group = rules.groupByText.get(r.group);
    if (!group) rowErrors.push({ row: r.row, column: '评估主体', message: `评估主体「${r.group}」不在评估方案中（可选：${[...rules.groups.values()].map((g) => g.group.name).join('、')}）` });
    else {
      const bad = checkScore(rules, { raterGroup: group.id, indicatorCode: r.indicatorCode, score: r.score });
      if (bad) rowErrors.push({ row: r.row, column: bad.startsWith('分值') ? '分值' : bad.startsWith('评估主体') ? '评估主体' : '指标编码', message: bad });
    }
    let personId: number | null = null;
    if ('mobile' in r.rater) {
      personId = personByMobile.get(r.rater.mobile) ?? null;
      if (personId === null) rowErrors.push({ row: r.row, column: '评分人', message: `评分人手机号「${r.rater.mobile}」不是已登记的人员（匿名问卷请填写答卷编号，如“问卷1”）` });
    }
    const raterText = 'mobile' in r.rater ? `m:${r.rater.mobile}` : `a:${r.rater.label}`;
    const key = `${r.unitCode}|${group?.id ?? r.group}|${r.indicatorCode}|${raterText}`;
    const dup = seen.get(key);
    if (dup !== undefined) rowErrors.push({ row: r.row, message: `与第${dup}行重复（同一单位、评估主体、指标和评分人）` });
    else seen.set(key, r.row);
    if (rowErrors.length > 0 || !unit || !group) {
      errors.push(...rowErrors);
      continue;
    }
    if (personId !== null) {
      plan.named.push({ campaignId, unitId: unit.id, raterGroup: group.id, indicatorCode: r.indicatorCode, raterKey: `p${personId}`, score: r.score, enteredBy: personId, at: now });
    } else if ('label' in r.rater) {
      const k = `${unit.id}|${group.id}`;
      let set = plan.anonymous.get(k);
      if (!set) plan.anonymous.set(k, (set = { unitId: unit.id, raterGroup: group.id, responses: new Map() }));
      let answers = set.responses.get(r.rater.label);
      if (!answers) set.responses.set(r.rater.label, (answers = []));
      answers.push({ indicatorCode: r.indicatorCode, score: r.score });
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, plan };
}

/**
 * Imports a score file all-or-nothing: every row is checked first (unit in the campaign, rater
 * group, leaf, range, a named rater's mobile, duplicates) and every problem is returned with its
 * row; otherwise everything is written in one transaction with an audit entry.
 *
 * Named raters (评分人 = a person's 手机号) are upserted by person. Anonymous questionnaire
 * responses (评分人 = an answer-sheet label such as 问卷12) get a fresh random response id per
 * label; the label itself is never stored. The file carries a unit's whole questionnaire for
 * a rater group: its anonymous responses replace the ones stored for that unit and group, so
 * importing the same file twice does not count anyone twice.
 */
export async function importScores(
  db: Db,
  campaignId: number,
  rows: readonly ScoreFileRow[],
  opts: { now: number; actorId: number | null; newResponseId: () => string; source: string; dryRun?: boolean },
): Promise<{ ok: true; counts: ScoreImportCounts } | { ok: false; errors: RowError[] }> {
  const planned = await planScoreImport(db, campaignId, rows, opts.now);
  if (!planned.ok) return planned;
  const { plan } = planned;
  const responses = [...plan.anonymous.values()].reduce((s, a) => s + a.responses.size, 0);
  if (opts.dryRun) return { ok: true, counts: { inserted: 0, replaced: 0, unchanged: 0, responses, responsesReplaced: 0 } };
  return writeTransaction(db, async (tx) => {
    const { changes, ...named } = await writeScores(tx, campaignId, plan.named);
    let responsesReplaced = 0;
    const anonymousRows: ScoreRow[] = [];
    for (const a of plan.anonymous.values()) {
      const removed = await tx
        .delete(scores)
        .where(and(eq(scores.campaignId, campaignId), eq(scores.unitId, a.unitId), eq(scores.raterGroup, a.raterGroup), isNull(scores.enteredBy), sql`${scores.raterKey} LIKE 'r%'`))
        .returning({ raterKey: scores.raterKey });
      responsesReplaced += new Set(removed.map((r) => r.raterKey)).size;
      for (const answers of a.responses.values()) {
        const key = `r${opts.newResponseId()}`;
        if (!RESPONSE_ID.test(key.slice(1))) throw new Error('newResponseId must return 8–64 letters, digits, - or _, with a letter');
        for (const x of answers) anonymousRows.push({ campaignId, unitId: a.unitId, raterGroup: a.raterGroup, indicatorCode: x.indicatorCode, raterKey: key, score: x.score, enteredBy: null, at: opts.now });
      }
    }
    for (const part of chunks(anonymousRows, 1000)) await tx.insert(scores).values(part);
    await refreshScoreSheets(tx, campaignId, [...plan.named.map((r) => r.unitId), ...[...plan.anonymous.values()].map((a) => a.unitId)], opts.now);
    const counts: ScoreImportCounts = { ...named, responses, responsesReplaced };
    await appendAudit(tx, { at: opts.now, actorId: opts.actorId, platform: 'cli', action: 'scores.import', subjectType: 'campaign', subjectId: campaignId, before: changes.length > 0 ? { replaced: changes } : null, after: { source: opts.source, ...counts } });
    return { ok: true as const, counts };
  });
}

// ---------------------------------------------------------------------------------------------
// Facts

/** Why a fact value cannot be set, or null. */
function checkFact(scheme: SchemeFile, fact: string, value: unknown): string | null {
  const facts = scheme.grading?.facts ?? [];
  const def = facts.find((f) => f.id === fact);
  if (!def) return facts.length > 0 ? `事实「${fact}」不在评估方案中（可选：${facts.map((f) => `${f.id}（${f.label}）`).join('、')}）` : `评估方案没有定义任何事实，不能设置「${fact}」`;
  if (def.type === 'number' && (typeof value !== 'number' || !Number.isFinite(value))) return `「${def.label}」（${fact}）应为数字`;
  if (def.type === 'boolean' && typeof value !== 'boolean') return `「${def.label}」（${fact}）应为 是/否（true/false）`;
  return null;
}

/**
 * Sets facts of one unit (replacing earlier values), all or none, with an audit entry that keeps
 * the values replaced. Each fact must be one the scheme's grade rules define, of its type.
 */
export async function setUnitFacts(
  db: Db,
  campaignId: number,
  unitId: number,
  values: Readonly<Record<string, unknown>>,
  opts: { now: number; actorId: number | null },
): Promise<{ ok: true } | { ok: false; errors: string[] }> {
  const loaded = await loadCampaignScheme(db, campaignId);
  if (!loaded) return { ok: false, errors: [`评估（id ${campaignId}）不存在`] };
  const errors: string[] = [];
  const inCampaign = await db.select({ id: campaignUnits.unitId }).from(campaignUnits).where(and(eq(campaignUnits.campaignId, campaignId), eq(campaignUnits.unitId, unitId)));
  if (inCampaign.length === 0) errors.push(`单位（id ${unitId}）不在本次评估中`);
  const entries = Object.entries(values);
  if (entries.length === 0) errors.push('没有要设置的事实');
  for (const [fact, value] of entries) {
    const bad = checkFact(loaded.scheme, fact, value);
    if (bad) errors.push(bad);
  }
  if (errors.length > 0) return { ok: false, errors };
  return writeTransaction(db, async (tx) => {
    const old = await tx.select({ fact: unitFacts.fact, value: unitFacts.value }).from(unitFacts).where(and(eq(unitFacts.campaignId, campaignId), eq(unitFacts.unitId, unitId)));
    const before = Object.fromEntries(old.filter((o) => o.fact in values).map((o) => [o.fact, o.value]));
    await tx
      .insert(unitFacts)
      .values(entries.map(([fact, value]) => ({ campaignId, unitId, fact, value: value as number | boolean, enteredBy: opts.actorId, at: opts.now })))
      .onConflictDoUpdate({ target: [unitFacts.campaignId, unitFacts.unitId, unitFacts.fact], set: { value: sql`excluded.value`, enteredBy: sql`excluded.entered_by`, at: sql`excluded.at` } });
    await appendAudit(tx, { at: opts.now, actorId: opts.actorId, platform: 'cli', action: 'facts.set', subjectType: 'campaign_unit', subjectId: `${campaignId}:${unitId}`, before, after: { ...values } });
    return { ok: true as const };
  });
}

// ---------------------------------------------------------------------------------------------
// Grade history

export interface GradeRecord {
  unitId: number;
  schemeCode: string;
  year: number;
  grade: string;
  source: 'campaign' | 'import';
}

/** Records final grades (one per unit, scheme and year; a correction replaces it, the audit entry keeps the old grade). */
export async function recordGradeHistory(db: Db, records: readonly GradeRecord[], opts: { now: number; actorId: number | null }): Promise<{ recorded: number; changed: number }> {
  if (records.length === 0) return { recorded: 0, changed: 0 };
  return writeTransaction(db, async (tx) => {
    const old = new Map<string, string>();
    const key = (r: { unitId: number; schemeCode: string; year: number }) => `${r.unitId}|${r.schemeCode}|${r.year}`;
    for (const part of chunks([...new Set(records.map((r) => r.unitId))], 500)) {
      const rows = await tx.select({ unitId: gradeHistory.unitId, schemeCode: gradeHistory.schemeCode, year: gradeHistory.year, grade: gradeHistory.grade }).from(gradeHistory).where(inArray(gradeHistory.unitId, part));
      for (const r of rows) old.set(key(r), r.grade);
    }
    const changes = records.filter((r) => old.has(key(r)) && old.get(key(r)) !== r.grade).map((r) => ({ ...r, before: old.get(key(r)) }));
    for (const part of chunks(records, 1000)) {
      await tx
        .insert(gradeHistory)
        .values(part.map((r) => ({ ...r, recordedAt: opts.now })))
        .onConflictDoUpdate({ target: [gradeHistory.unitId, gradeHistory.schemeCode, gradeHistory.year], set: { grade: sql`excluded.grade`, source: sql`excluded.source`, recordedAt: sql`excluded.recorded_at` } });
    }
    await appendAudit(tx, { at: opts.now, actorId: opts.actorId, platform: 'cli', action: 'grade_history.record', subjectType: 'grade_history', subjectId: [...new Set(records.map((r) => `${r.schemeCode}:${r.year}`))].join(','), before: changes.length > 0 ? { changed: changes } : null, after: { recorded: records.length } });
    return { recorded: records.length, changed: changes.length };
  });
}

// ---------------------------------------------------------------------------------------------
// Score sheets: the engine's view of a unit's scores, kept beside the score rows

/**
 * Rebuilds the score sheets of the given units (all units of the campaign when omitted) from
 * their score rows. Every write to `scores` calls this in its transaction, so a sheet never
 * lags its rows; set-based (three nested GROUP BYs), whatever the number of units.
 */
export async function refreshScoreSheets(tx: Executor, campaignId: number, unitIds: readonly number[] | 'all', now: number): Promise<void> {
  const parts = unitIds === 'all' ? [null] : chunks([...new Set(unitIds)], 500);
  for (const part of parts) {
    const only = part === null ? sql`` : sql` AND unit_id IN (${sql.join(part.map((u) => sql`${u}`), sql`, `)})`;
    await tx.run(sql`DELETE FROM score_sheets WHERE campaign_id = ${campaignId}${only}`);
    await tx.run(sql`
      INSERT INTO score_sheets (campaign_id, unit_id, sheet, updated_at)
      SELECT ${campaignId}, unit_id, json_group_object(rater_group, json(codes)), ${now} FROM (
        SELECT unit_id, rater_group, json_group_object(indicator_code, json(vals)) AS codes FROM (
          SELECT unit_id, rater_group, indicator_code, json_group_array(score) AS vals FROM scores
          WHERE campaign_id = ${campaignId}${only}
          GROUP BY unit_id, rater_group, indicator_code
        ) GROUP BY unit_id, rater_group
      ) GROUP BY unit_id`);
  }
}

// ---------------------------------------------------------------------------------------------
// Loading a campaign for the engine

/** One query, one text cell: JSON built by SQLite and parsed once, instead of a row object per row. */
async function jsonCell<T>(db: Executor, query: ReturnType<typeof sql>): Promise<T> {
  const rows = await db.values<[string | null]>(query);
  const cell = rows[0]?.[0];
  return JSON.parse(cell ?? '[]') as T;
}

/**
 * The engine's input for a campaign: its units (in unit id order) with every rater's score,
 * their facts, earlier grades under the same scheme code and the tiers of their approved
 * individual plans. Five queries after the scheme whatever the number of units, each answered
 * as one JSON text: the scores come from the units' score sheets (see refreshScoreSheets).
 */
export async function loadGradingInput(db: Executor, campaignId: number): Promise<(CampaignScheme & { input: GradingInput }) | null> {
  const loaded = await loadCampaignScheme(db, campaignId);
  if (!loaded) return null;
  const { campaign, scheme } = loaded;

  const unitRows = await jsonCell<Array<[number, string, string]>>(db, sql`
    SELECT json_group_array(json_array(id, name, group_name)) FROM (
      SELECT u.id, u.name, u.group_name FROM campaign_units cu JOIN units u ON u.id = cu.unit_id
      WHERE cu.campaign_id = ${campaignId} ORDER BY u.id)`);
  const byId = new Map<number, GradingUnitInput>();
  const list: GradingUnitInput[] = [];
  for (const [unitId, name, group] of unitRows) {
    const u: GradingUnitInput = { unitId, name, group, scores: {} };
    byId.set(unitId, u);
    list.push(u);
  }

  // Sheets are JSON already: concatenated, not re-encoded, into [unitId, sheet, unitId, sheet, …].
  const sheets = await jsonCell<Array<number | GradingUnitInput['scores']>>(db, sql`
    SELECT '[' || group_concat(unit_id || ',' || sheet) || ']' FROM score_sheets WHERE campaign_id = ${campaignId}`);
  for (let i = 0; i + 1 < sheets.length; i += 2) {
    const u = byId.get(sheets[i] as number);
    if (u) u.scores = sheets[i + 1] as GradingUnitInput['scores'];
  }

  const facts = await jsonCell<Array<[number, string, number | boolean]>>(db, sql`
    SELECT json_group_array(json_array(unit_id, fact, json(value))) FROM unit_facts WHERE campaign_id = ${campaignId}`);
  for (const [unitId, fact, value] of facts) {
    const u = byId.get(unitId);
    if (u) (u.facts ??= {})[fact] = value;
  }

  const history = await jsonCell<Array<[number, number, string]>>(db, sql`
    SELECT json_group_array(json_array(unit_id, year, grade)) FROM (
      SELECT gh.unit_id, gh.year, gh.grade FROM grade_history gh
      JOIN campaign_units cu ON cu.unit_id = gh.unit_id AND cu.campaign_id = ${campaignId}
      WHERE gh.scheme_code = ${scheme.code} AND gh.year < ${campaign.year}
      ORDER BY gh.unit_id, gh.year)`);
  for (const [unitId, year, grade] of history) {
    const u = byId.get(unitId);
    if (u) (u.history ??= []).push({ year, grade });
  }

  // The latest approved version of each unit's plan for a slot sets the tier.
  const tiers = await jsonCell<Array<[number, string, string | null]>>(db, sql`
    SELECT json_group_array(json_array(p.unit_id, p.slot_code, p.tier)) FROM individual_indicator_plans p
    WHERE p.campaign_id = ${campaignId} AND p.status = 'approved' AND p.version = (
      SELECT max(q.version) FROM individual_indicator_plans q
      WHERE q.campaign_id = p.campaign_id AND q.unit_id = p.unit_id AND q.slot_code = p.slot_code AND q.status = 'approved')`);
  for (const [unitId, slot, tier] of tiers) {
    const u = byId.get(unitId);
    if (u && tier !== null) (u.tiers ??= {})[slot] = tier;
  }

  return { campaign, scheme, input: { year: campaign.year, units: list } };
}

// ---------------------------------------------------------------------------------------------
// The 自评 as the "self" rater group

/** The rater key of a unit's accepted self-evaluation: one per evaluation, so a later accepted version replaces it. */
export const selfEvaluationRaterKey = (evaluationId: number) => `s${evaluationId}`;

/**
 * When the evaluator accepts a 自评, its claimed scores become the scores of the scheme's
 * rater group with id `self` on the leaves that group rates (inside the caller's transaction,
 * with the acceptance). A scheme without a `self` group takes nothing. A claimed score the
 * group cannot take (not one of a 定性 indicator's levels) is left out and returned, so the
 * caller can say so; it never stops the acceptance.
 */
export async function recordSelfEvaluationScores(
  tx: Executor,
  e: { evaluationId: number; campaignId: number; unitId: number; items: ReadonlyArray<{ code: string; claimedScore: number | null }>; actorId: number; platform: AuditSource; now: number },
): Promise<{ recorded: number; skipped: Array<{ code: string; message: string }> }> {
  const loaded = await loadCampaignScheme(tx, e.campaignId);
  if (!loaded || !loaded.scheme.raterGroups.some((g) => g.id === 'self')) return { recorded: 0, skipped: [] };
  const rules = scoringRules(loaded.scheme);
  const self = rules.groups.get('self')!;
  const rows: ScoreRow[] = [];
  const skipped: Array<{ code: string; message: string }> = [];
  for (const item of e.items) {
    if (item.claimedScore === null || !self.leafCodes.has(item.code)) continue;
    const problem = checkScore(rules, { raterGroup: 'self', indicatorCode: item.code, score: item.claimedScore });
    if (problem) {
      skipped.push({ code: item.code, message: problem });
      continue;
    }
    rows.push({ campaignId: e.campaignId, unitId: e.unitId, raterGroup: 'self', indicatorCode: item.code, raterKey: selfEvaluationRaterKey(e.evaluationId), score: item.claimedScore, enteredBy: e.actorId, at: e.now });
  }
  if (rows.length === 0) return { recorded: 0, skipped };
  const { changes, ...counts } = await writeScores(tx, e.campaignId, rows);
  await refreshScoreSheets(tx, e.campaignId, [e.unitId], e.now);
  await appendAudit(tx, { at: e.now, actorId: e.actorId, platform: e.platform, action: 'scores.from_self_evaluation', subjectType: 'self_evaluation', subjectId: e.evaluationId, before: changes.length > 0 ? { replaced: changes } : null, after: { ...counts, skipped } });
  return { recorded: rows.length, skipped };
}
