/**
 * Admin command line: `npm run cli -- <command> [args]`.
 *
 * Commands live in COMMANDS (words → handler); a handler returns the exit code:
 * 0 done, 1 failed (bad data, bad environment), 2 wrong usage.
 */
import { DEFAULT_REMINDER_POLICY, mergePolicy, ReminderPolicyError, type ReminderPolicy } from '../src/domain/reminders';
import { reminderPolicyOverrides, setReminderPolicy } from '../src/store/reminders.repo';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { feishuConfig, parseEnv, type Config } from '../src/config/env';
import { gradeCampaign } from '../src/domain/grading';
import type { GradingResult, UnitResult } from '../src/domain/grading-types';
import { PLAN_STATUS_LABELS, parsePlanItems, type PlanCommand } from '../src/domain/individual-plan';
import type { SchemeFile } from '../src/domain/scheme';
import { createFeishuClient } from '../src/platforms/feishu/client';
import { mapPeopleToFeishu } from '../src/platforms/feishu/people';
import { openDatabase } from '../src/runtime/open-db';
import type { Db } from '../src/store/db';
import { findCampaignUnit, importScores, loadCampaignScheme, loadGradingInput, setUnitFacts, type RowError } from '../src/store/grading.repo';
import { importUnitsAndPeople } from '../src/store/import.repo';
import { actOnPlan, actorByMobile, listPlans } from '../src/store/individual-indicators.repo';
import { getPerson } from '../src/store/org.repo';
import { readScoresFile } from './import/scores-file';
import { readUnitsFile, type ImportError } from './import/units-file';
import { gradeCsv } from './export/grade-csv';

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

interface Context {
  /** Positional arguments after the command words. */
  args: string[];
  flags: Set<string>;
  /** Options that take a value (`--as 138…` or `--as=138…`). */
  options: Map<string, string>;
  env: Record<string, string | undefined>;
  io: Io;
}

interface Command {
  usage: string;
  description: string;
  flags: readonly string[];
  /** Options that take a value; each must be one of VALUE_OPTIONS. */
  options?: readonly string[];
  run: (ctx: Context) => Promise<number>;
}

/** Options that take the next argument as their value, whatever the command. */
const VALUE_OPTIONS = ['--as', '--tier', '--comment', '--stage', '--csv'] as const;
/** Campaign stages, as `reminders policy --stage` names them. */
const STAGES = ['notice', 'self_evaluation', 'on_site', 'rating', 'report', 'rectification', 'grading'] as const;

const PLAN_SCOPE = '<评估编号> <单位编码> <指标编码>';

const COMMANDS: Record<string, Command> = {
  'import units': {
    usage: 'import units <文件.xlsx|文件.csv> [--dry-run]',
    description: '导入单位与人员（表头：单位编码、单位名称、组别、主管部门、姓名、手机号、邮箱、角色）；--dry-run 只校验不写入',
    flags: ['--dry-run'],
    run: importUnits,
  },
  grade: {
    usage: 'grade <评估编号> [--json | --csv <文件.csv>]',
    description: '按评估方案计算综合得分、组内排名和等次，按组别列出（排名、单位、得分、等次、说明）；--json 输出完整结果；--csv 导出为 Excel 可打开的 CSV 文件（以 = + - @ 开头的单元格前加 \' 以防公式注入）',
    flags: ['--json'],
    options: ['--csv'],
    run: grade,
  },
  'scores import': {
    usage: 'scores import <评估编号> <文件.xlsx|文件.csv> [--dry-run]',
    description: '导入评分（表头：单位编码、评估主体、指标编码、评分人、分值）。评分人填手机号为实名评分，填答卷编号（如“问卷12”）为匿名问卷；逐行校验，有错则全部不导入',
    flags: ['--dry-run'],
    run: scoresImport,
  },
  'facts set': {
    usage: 'facts set <评估编号> <单位编码> <事实>=<值>...',
    description: '设置单位的事实（一票否决、降级规则读取的数据，如 major-accident=是、complaints=3）',
    flags: [],
    run: factsSet,
  },
  'indicators draft': {
    usage: `indicators draft ${PLAN_SCOPE} <个性指标.json> [--tier <档次>] --as <手机号>`,
    description: '主管部门审核人起草或修改个性指标方案（JSON 数组，每项含 code、title、maxPoints、scoringGuide、evidence，分值合计须等于该指标分值）',
    flags: [],
    options: ['--as', '--tier'],
    run: (ctx) => planCommand(ctx, 'draft'),
  },
  'indicators submit': {
    usage: `indicators submit ${PLAN_SCOPE} --as <手机号>`,
    description: '主管部门审核人提交个性指标方案，交评估组审核',
    flags: [],
    options: ['--as'],
    run: (ctx) => planCommand(ctx, 'submit'),
  },
  'indicators approve': {
    usage: `indicators approve ${PLAN_SCOPE} [--comment <意见>] --as <手机号>`,
    description: '评估组审核通过个性指标方案',
    flags: [],
    options: ['--as', '--comment'],
    run: (ctx) => planCommand(ctx, 'approve'),
  },
  'indicators return': {
    usage: `indicators return ${PLAN_SCOPE} --comment <意见> --as <手机号>`,
    description: '评估组退回个性指标方案（须填写修改意见），主管部门据此起草新版本',
    flags: [],
    options: ['--as', '--comment'],
    run: (ctx) => planCommand(ctx, 'return'),
  },
  'indicators show': {
    usage: 'indicators show <评估编号> <单位编码> [<指标编码>]',
    description: '列出单位个性指标方案的各个版本、状态和审核意见',
    flags: [],
    run: planShow,
  },
  'reminders policy': {
    usage: 'reminders policy <评估编号> [<策略JSON>|--clear] [--stage <阶段>]',
    description: '查看或设置提醒策略（整个评估，或用 --stage 指定阶段，如 self_evaluation）。JSON 中可写 before（提前几个工作日，如 [3,1]）、onDueDay、overdueEvery、escalateToHeadAfter、escalateToLeaderAfter、sendFrom、quietHours、urgentOnDueDay；--clear 恢复默认',
    flags: ['--clear'],
    options: ['--stage'],
    run: remindersPolicy,
  },
  'feishu map-people': {
    usage: 'feishu map-people',
    description: '按手机号（其次邮箱）把人员匹配到飞书账号，并列出未能匹配的人员及原因（需配置 FEISHU_APP_ID 等）',
    flags: [],
    run: feishuMapPeople,
  },
};

export function usage(): string {
  const lines = ['用法：npm run cli -- <命令> [参数]', '', '命令：'];
  for (const c of Object.values(COMMANDS)) lines.push(`  ${c.usage}`, `      ${c.description}`);
  lines.push('', '示例：npm run cli -- import units db/seed/samples/units.csv', '      npm run cli -- grade 1');
  return lines.join('\n');
}

export function formatError(e: ImportError): string {
  if (e.row === null) return e.message;
  return `第${e.row}行${e.column ? ` ${e.column}` : ''}：${e.message}`;
}

async function importUnits({ args, flags, env, io }: Context): Promise<number> {
  const [given, ...rest] = args;
  if (!given || rest.length > 0) {
    io.err(usage());
    return 2;
  }
  const file = userPath(env, given);
  if (!existsSync(file)) {
    io.err(`找不到文件：${given}`);
    return 1;
  }

  const result = await readUnitsFile(file);
  if (!result.ok) {
    for (const e of result.errors) io.err(formatError(e));
    io.err(`共 ${result.errors.length} 处错误，未导入任何数据。`);
    return 1;
  }
  const records = result.records;
  if (flags.has('--dry-run')) {
    const unitCount = new Set(records.flatMap((r) => (r.unit ? [r.unit.code] : []))).size;
    const peopleCount = new Set(records.map((r) => r.mobile)).size;
    io.out(`校验通过：共 ${records.length} 行，涉及单位 ${unitCount} 个、人员 ${peopleCount} 人。（--dry-run：未写入数据库）`);
    return 0;
  }

  return withDatabase(env, io, async (db) => {
    try {
      const c = await importUnitsAndPeople(db, records, Date.now(), null, basename(file));
      io.out(
        `导入完成：新增单位 ${c.unitsCreated} 个，更新 ${c.unitsUpdated} 个；` +
          `新增人员 ${c.peopleCreated} 人，更新 ${c.peopleUpdated} 人；新增角色 ${c.rolesAdded} 个。（共 ${records.length} 行）`,
      );
      return 0;
    } catch (e) {
      io.err(`导入失败：${e instanceof Error ? e.message : String(e)}`);
      io.err('未导入任何数据。');
      return 1;
    }
  });
}

/** Opens the configured database for a command; a bad environment is reported and gives 1. */
/** The environment's settings, or null after saying what is wrong with them. */
function settings(env: Context['env'], io: Io): Config | null {
  const parsed = parseEnv(env);
  if (parsed.ok) return parsed.config;
  io.err('环境变量有误：');
  for (const e of parsed.errors) io.err(`  ${e}`);
  return null;
}

async function withDatabase(env: Context['env'], io: Io, work: (db: Db) => Promise<number>): Promise<number> {
  const config = settings(env, io);
  if (!config) return 1;
  const { db, close } = await openDatabase(config);
  try {
    return await work(db);
  } finally {
    close();
  }
}

function parseCampaignId(text: string | undefined, io: Io): number | null {
  if (text !== undefined && /^[1-9]\d{0,8}$/.test(text)) return Number(text);
  io.err(`评估编号「${text ?? ''}」无效：应为正整数（评估的编号）`);
  return null;
}

/** The path as the user typed it: `npm run cli` runs in the package root. */
function userPath(env: Context['env'], given: string): string {
  const base = env.npm_lifecycle_event === 'cli' && env.INIT_CWD ? env.INIT_CWD : process.cwd();
  return resolve(base, given);
}

async function grade({ args, flags, options, env, io }: Context): Promise<number> {
  const csvFile = options.get('--csv');
  if (args.length !== 1 || (csvFile !== undefined && flags.has('--json'))) {
    io.err(usage());
    return 2;
  }
  const campaignId = parseCampaignId(args[0], io);
  if (campaignId === null) return 1;
  return withDatabase(env, io, async (db) => {
    const loaded = await loadGradingInput(db, campaignId);
    if (!loaded) {
      io.err(`评估（编号 ${campaignId}）不存在`);
      return 1;
    }
    let result: GradingResult;
    try {
      result = gradeCampaign(loaded.scheme, loaded.input);
    } catch (e) {
      io.err(`无法评定：${e instanceof Error ? e.message : String(e)}`);
      return 1;
    }
    if (csvFile !== undefined) {
      try {
        await writeFile(userPath(env, csvFile), gradeCsv(loaded.scheme, result));
      } catch (e) {
        io.err(`无法写入文件「${csvFile}」：请确认所在文件夹存在且可写（${(e as { code?: string }).code ?? String(e)}）`);
        return 1;
      }
      io.out(`已导出 ${result.units.length} 个单位的评定结果到 ${csvFile}`);
    } else if (flags.has('--json')) io.out(JSON.stringify(result, null, 2));
    else for (const line of gradeTable(loaded.campaign.name, loaded.scheme, result)) io.out(line);
    return 0;
  });
}

/** The ranked table per 组别, in Chinese. */
export function gradeTable(campaignName: string, scheme: SchemeFile, result: GradingResult): string[] {
  const d = scheme.grading?.decimals ?? 2;
  const lines = [`${campaignName}（${scheme.name}，${result.year}年）评定结果`];
  const byGroup = new Map<string, UnitResult[]>();
  for (const u of result.units) {
    let list = byGroup.get(u.group);
    if (!list) byGroup.set(u.group, (list = []));
    list.push(u);
  }
  for (const [group, list] of byGroup) {
    lines.push('', `【${group}】共${list.length}个单位`, '排名 | 单位 | 得分 | 等次 | 说明');
    for (const u of list) {
      // The engine's reasons already name what an incomplete unit is missing.
      const why = u.reasons.join('；');
      const gradeText = u.status === 'incomplete' ? '待补充' : (u.gradeLabel ?? '—');
      lines.push(`${u.rank ?? '—'} | ${u.name} | ${u.score === null ? '—' : u.score.toFixed(d)} | ${gradeText} | ${why}`);
    }
  }
  const incomplete = result.units.filter((u) => u.status === 'incomplete').length;
  const grades = scheme.grading?.grades ?? [];
  const parts = grades.map((g) => `${g.label} ${result.counts[g.code] ?? 0} 个`);
  if (incomplete > 0) parts.push(`待补充 ${incomplete} 个`);
  if (parts.length > 0) lines.push('', `等次分布：${parts.join('，')}`);
  return lines;
}

function formatRowError(e: RowError): string {
  if (e.row === 0) return e.message;
  return `第${e.row}行${e.column ? ` ${e.column}` : ''}：${e.message}`;
}

async function scoresImport({ args, flags, env, io }: Context): Promise<number> {
  const [idText, given, ...rest] = args;
  if (!given || rest.length > 0) {
    io.err(usage());
    return 2;
  }
  const campaignId = parseCampaignId(idText, io);
  if (campaignId === null) return 1;
  const file = userPath(env, given);
  if (!existsSync(file)) {
    io.err(`找不到文件：${given}`);
    return 1;
  }
  const read = await readScoresFile(file);
  return withDatabase(env, io, async (db) => {
    if (!(await loadCampaignScheme(db, campaignId))) {
      io.err(`评估（编号 ${campaignId}）不存在`);
      return 1;
    }
    // The rows that parsed are checked against the campaign too, so every problem is reported at once.
    const opts = { now: Date.now(), actorId: null, newResponseId: () => randomUUID().replaceAll('-', ''), source: basename(file) };
    const checked = await importScores(db, campaignId, read.rows, { ...opts, dryRun: true });
    const errors = [...read.errors, ...(checked.ok ? [] : checked.errors)].sort((a, b) => a.row - b.row);
    if (errors.length > 0) {
      for (const e of errors) io.err(formatRowError(e));
      io.err(`共 ${errors.length} 处错误，未导入任何数据。`);
      return 1;
    }
    if (flags.has('--dry-run')) {
      io.out(`校验通过：共 ${read.rows.length} 行。（--dry-run：未写入数据库）`);
      return 0;
    }
    const done = await importScores(db, campaignId, read.rows, opts);
    if (!done.ok) {
      for (const e of done.errors) io.err(formatRowError(e));
      io.err(`共 ${done.errors.length} 处错误，未导入任何数据。`);
      return 1;
    }
    const c = done.counts;
    io.out(`导入完成：共 ${read.rows.length} 行。实名评分新增 ${c.inserted} 条、修改 ${c.replaced} 条、未变 ${c.unchanged} 条；匿名问卷 ${c.responses} 份${c.responsesReplaced > 0 ? `（替换原有 ${c.responsesReplaced} 份）` : ''}。`);
    return 0;
  });
}

const TRUE_WORDS = new Set(['true', '是', '有', 'yes', 'y', '1']);
const FALSE_WORDS = new Set(['false', '否', '无', 'no', 'n', '0']);

async function factsSet({ args, env, io }: Context): Promise<number> {
  const [idText, unitCode, ...pairs] = args;
  if (!unitCode || pairs.length === 0) {
    io.err(usage());
    return 2;
  }
  const campaignId = parseCampaignId(idText, io);
  if (campaignId === null) return 1;
  const raw: Array<[string, string]> = [];
  for (const p of pairs) {
    const at = p.indexOf('=');
    if (at <= 0) {
      io.err(`「${p}」应写成 事实=值，如 complaints=3`);
      return 1;
    }
    raw.push([p.slice(0, at), p.slice(at + 1)]);
  }
  return withDatabase(env, io, async (db) => {
    const loaded = await loadCampaignScheme(db, campaignId);
    if (!loaded) {
      io.err(`评估（编号 ${campaignId}）不存在`);
      return 1;
    }
    const found = await findCampaignUnit(db, campaignId, unitCode);
    if (!found.ok) {
      io.err(found.message);
      return 1;
    }
    const defs = new Map((loaded.scheme.grading?.facts ?? []).map((f) => [f.id, f]));
    const values: Record<string, unknown> = {};
    for (const [fact, text] of raw) {
      const def = defs.get(fact);
      const t = text.trim().toLowerCase();
      if (def?.type === 'number' && /^-?\d+(\.\d+)?$/.test(t)) values[fact] = Number(t);
      else if (def?.type === 'boolean' && TRUE_WORDS.has(t)) values[fact] = true;
      else if (def?.type === 'boolean' && FALSE_WORDS.has(t)) values[fact] = false;
      else values[fact] = text;
    }
    const r = await setUnitFacts(db, campaignId, found.unit.id, values, { now: Date.now(), actorId: null });
    if (!r.ok) {
      for (const e of r.errors) io.err(e);
      return 1;
    }
    const shown = Object.entries(values).map(([k, v]) => `${defs.get(k)?.label ?? k}=${v === true ? '是' : v === false ? '否' : String(v)}`);
    io.out(`已设置 ${found.unit.name}：${shown.join('，')}`);
    return 0;
  });
}

async function planCommand({ args, options, env, io }: Context, kind: PlanCommand['kind']): Promise<number> {
  const [idText, unitCode, slotCode, itemsFile, ...rest] = args;
  if (!slotCode || rest.length > 0 || (kind === 'draft') !== (itemsFile !== undefined)) {
    io.err(usage());
    return 2;
  }
  const mobile = options.get('--as');
  if (!mobile) {
    io.err('请用 --as <手机号> 指明以谁的身份操作');
    return 2;
  }
  const campaignId = parseCampaignId(idText, io);
  if (campaignId === null) return 1;
  let cmd: PlanCommand;
  if (kind === 'draft') {
    const file = userPath(env, itemsFile!);
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      io.err(`无法读取个性指标文件「${itemsFile}」：${e instanceof Error ? e.message : String(e)}`);
      return 1;
    }
    const items = parsePlanItems(raw);
    if (!items.ok) {
      for (const p of items.problems) io.err(p);
      return 1;
    }
    cmd = { kind, items: items.items, tier: options.get('--tier') ?? null };
  } else if (kind === 'submit') cmd = { kind };
  else cmd = { kind, comment: options.get('--comment') ?? '' };
  return withDatabase(env, io, async (db) => {
    const actor = await actorByMobile(db, mobile);
    if (!actor) {
      io.err(`无权限：没有手机号为「${mobile}」的人员`);
      return 1;
    }
    const found = await findCampaignUnit(db, campaignId, unitCode!);
    if (!found.ok) {
      io.err(found.message);
      return 1;
    }
    const r = await actOnPlan(db, { campaignId, unitId: found.unit.id, slotCode }, actor, cmd, Date.now());
    if (!r.ok) {
      io.err(r.message);
      return 1;
    }
    const verb = { draft: '已保存草稿', submit: '已提交评估组审核', approve: '已审核通过', return: '已退回修改' }[kind];
    io.out(`${found.unit.name} 指标 ${slotCode} 个性指标方案第${r.plan.version}版${verb}（${actor.name}）`);
    return 0;
  });
}

async function planShow({ args, env, io }: Context): Promise<number> {
  const [idText, unitCode, slotCode, ...rest] = args;
  if (!unitCode || rest.length > 0) {
    io.err(usage());
    return 2;
  }
  const campaignId = parseCampaignId(idText, io);
  if (campaignId === null) return 1;
  return withDatabase(env, io, async (db) => {
    if (!(await loadCampaignScheme(db, campaignId))) {
      io.err(`评估（编号 ${campaignId}）不存在`);
      return 1;
    }
    const found = await findCampaignUnit(db, campaignId, unitCode);
    if (!found.ok) {
      io.err(found.message);
      return 1;
    }
    const plans = await listPlans(db, { campaignId, unitId: found.unit.id, ...(slotCode ? { slotCode } : {}) });
    if (plans.length === 0) {
      io.out(`${found.unit.name} 尚无个性指标方案`);
      return 0;
    }
    const names = new Map<number, string>();
    const nameOf = async (id: number | null) => {
      if (id === null) return '';
      if (!names.has(id)) names.set(id, (await getPerson(db, id))?.name ?? `#${id}`);
      return names.get(id)!;
    };
    for (const p of plans) {
      const decided = p.decidedBy === null ? '' : `，审核人 ${await nameOf(p.decidedBy)}${p.comment ? `，意见：${p.comment}` : ''}`;
      io.out(`${found.unit.name} 指标 ${p.slotCode} 第${p.version}版：${PLAN_STATUS_LABELS[p.status]}${p.tier ? `，档次 ${p.tier}` : ''}，起草人 ${await nameOf(p.draftedBy)}${decided}`);
      for (const it of p.items) io.out(`  ${it.code} ${it.title}（${it.maxPoints}分）评分细则：${it.scoringGuide}${it.evidence ? `；佐证材料：${it.evidence}` : ''}`);
    }
    return 0;
  });
}

async function feishuMapPeople({ args, env, io }: Context): Promise<number> {
  if (args.length > 0) {
    io.err(usage());
    return 2;
  }
  const config = settings(env, io);
  if (!config) return 1;
  const feishu = feishuConfig(config);
  if (!feishu) {
    io.err('未配置飞书：请设置 FEISHU_APP_ID 和 FEISHU_APP_SECRET（见 docs/feishu.md）。');
    return 1;
  }
  const { db, close } = await openDatabase(config);
  try {
    const client = createFeishuClient({ appId: feishu.appId, appSecret: feishu.appSecret, domain: feishu.domain });
    const report = await mapPeopleToFeishu({ db, clock: () => Date.now() }, client);
    io.out(`已匹配 ${report.mapped.length} 人：${report.mapped.map((m) => `${m.name}（${m.by === 'mobile' ? '手机号' : '邮箱'}）`).join('、') || '无'}`);
    if (report.unmapped.length > 0) {
      io.out(`未能匹配 ${report.unmapped.length} 人（他们的卡片仍在本地模拟器中）：`);
      for (const u of report.unmapped) io.out(`  ${u.name}：${u.reason}`);
    }
    return 0;
  } catch (e) {
    io.err(`匹配失败：${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    close();
  }
}

/** Runs one command line; returns the exit code. */
export async function main(argv: readonly string[], env: Record<string, string | undefined>, io: Io): Promise<number> {
  const words: string[] = [];
  const flags = new Set<string>();
  const options = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if ((VALUE_OPTIONS as readonly string[]).includes(name)) {
      const value = name !== a ? a.slice(eq + 1) : argv[++i];
      if (value === undefined) {
        io.err(`选项 ${name} 缺少取值`);
        io.err(usage());
        return 2;
      }
      options.set(name, value);
    } else if (a.startsWith('-')) flags.add(a);
    else words.push(a);
  }
  if (flags.has('-h') || flags.has('--help')) {
    io.out(usage());
    return 0;
  }
  const name = Object.keys(COMMANDS)
    .sort((a, b) => b.split(' ').length - a.split(' ').length)
    .find((k) => k.split(' ').every((w, i) => words[i] === w));
  const command = name === undefined ? undefined : COMMANDS[name];
  if (name === undefined || !command) {
    if (words.length > 0) io.err(`未知命令：${words.join(' ')}`);
    io.err(usage());
    return 2;
  }
  const unknown = [...flags, ...options.keys()].filter((f) => !command.flags.includes(f) && !(command.options ?? []).includes(f));
  if (unknown.length > 0) {
    io.err(`未知选项：${unknown.join(' ')}`);
    io.err(usage());
    return 2;
  }
  return command.run({ args: words.slice(name.split(' ').length), flags, options, env, io });
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(resolve(entry)).href) {
  const io: Io = { out: (l) => console.log(l), err: (l) => console.error(l) };
  main(process.argv.slice(2), process.env, io).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(`出错了：${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      process.exitCode = 1;
    },
  );
}


function describePolicy(p: ReminderPolicy): string {
  return [
    `截止前 ${p.before.length ? p.before.join('、') : '—'} 个工作日提醒`,
    p.onDueDay ? `截止当天提醒${p.urgentOnDueDay ? '（加急）' : ''}` : '截止当天不提醒',
    p.overdueEvery > 0 ? `逾期后每 ${p.overdueEvery} 个工作日提醒` : '逾期后不再提醒',
    p.escalateToHeadAfter === null ? '不通知单位负责人' : `逾期 ${p.escalateToHeadAfter} 个工作日起通知单位负责人`,
    p.escalateToLeaderAfter === null ? '不报领导' : `逾期 ${p.escalateToLeaderAfter} 个工作日起每日汇总报领导`,
    `每天 ${p.sendFrom} 起发送${p.quietHours ? `，${p.quietHours.from}–${p.quietHours.to} 免打扰` : ''}`,
  ].join('；');
}

async function remindersPolicy({ args, flags, options, env, io }: Context): Promise<number> {
  const [idText, json] = args;
  const campaignId = parseCampaignId(idText, io);
  if (campaignId === null) return 1;
  const stageText = options.get('--stage');
  const stage = stageText === undefined ? undefined : (STAGES as readonly string[]).includes(stageText) ? (stageText as (typeof STAGES)[number]) : null;
  if (stage === null) {
    io.err(`阶段「${stageText}」无效：可选 ${STAGES.join('、')}`);
    return 1;
  }
  let override: unknown = undefined;
  if (flags.has('--clear')) override = null;
  else if (json !== undefined) {
    try {
      override = JSON.parse(json);
    } catch {
      io.err('提醒策略不是有效的 JSON，例如：{"before":[5,2],"escalateToHeadAfter":2}');
      return 1;
    }
  }
  return withDatabase(env, io, async (db) => {
    const current = await reminderPolicyOverrides(db, campaignId, stage);
    if (!current) {
      io.err(`评估（编号 ${campaignId}）不存在`);
      return 1;
    }
    const layers = (c: { campaign: unknown; stage: unknown }) => [c.campaign, c.stage].filter((x) => x !== null && x !== undefined);
    if (override !== undefined) {
      const next = stage ? { campaign: current.campaign, stage: override } : { campaign: override, stage: current.stage };
      try {
        layers(next).reduce<ReminderPolicy>((p, o) => mergePolicy(p, o), DEFAULT_REMINDER_POLICY);
      } catch (e) {
        io.err('提醒策略无效，未保存：');
        for (const line of policyIssues(e)) io.err(`  ${line}`);
        return 1;
      }
      if (!(await setReminderPolicy(db, { campaignId, ...(stage ? { stage } : {}), policy: override, actorId: null, now: Date.now() }))) {
        io.err(`评估（编号 ${campaignId}）没有阶段 ${stage}`);
        return 1;
      }
      Object.assign(current, stage ? { stage: override } : { campaign: override });
      io.out(override === null ? '已恢复默认提醒策略。' : '提醒策略已保存。');
    }
    let effective: ReminderPolicy;
    try {
      effective = layers(current).reduce<ReminderPolicy>((p, o) => mergePolicy(p, o), DEFAULT_REMINDER_POLICY);
    } catch (e) {
      // Saved layers that no longer fit together (a campaign change after a stage's override).
      io.err(`${stage ? `阶段 ${stage} ` : ''}已保存的提醒策略合起来无效，请重新设置：`);
      for (const line of policyIssues(e)) io.err(`  ${line}`);
      return 1;
    }
    io.out(`${stage ? `阶段 ${stage} ` : ''}当前提醒策略：${describePolicy(effective)}`);
    return 0;
  });
}

/** The Chinese lines of a refused reminder policy (src/domain/reminders.ts writes them). */
function policyIssues(e: unknown): string[] {
  return e instanceof ReminderPolicyError ? e.issues : [e instanceof Error ? e.message : String(e)];
}
