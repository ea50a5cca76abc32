/**
 * Admin command line: `npm run cli -- <command> [args]`.
 *
 * Commands live in COMMANDS (words → handler); a handler returns the exit code:
 * 0 done, 1 failed (bad data, bad environment), 2 wrong usage.
 */
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { feishuConfig, parseEnv } from '../src/config/env';
import { createFeishuClient } from '../src/platforms/feishu/client';
import { mapPeopleToFeishu } from '../src/platforms/feishu/people';
import { openDatabase } from '../src/runtime/open-db';
import { importUnitsAndPeople } from '../src/store/import.repo';
import { readUnitsFile, type ImportError } from './import/units-file';

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

interface Context {
  /** Positional arguments after the command words. */
  args: string[];
  flags: Set<string>;
  env: Record<string, string | undefined>;
  io: Io;
}

interface Command {
  usage: string;
  description: string;
  flags: readonly string[];
  run: (ctx: Context) => Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  'import units': {
    usage: 'import units <文件.xlsx|文件.csv> [--dry-run]',
    description: '导入单位与人员（表头：单位编码、单位名称、组别、主管部门、姓名、手机号、邮箱、角色）；--dry-run 只校验不写入',
    flags: ['--dry-run'],
    run: importUnits,
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
  lines.push('', '示例：npm run cli -- import units db/seed/samples/units.csv');
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
  // `npm run cli` runs in the package root; resolve the path from where the user typed it.
  const base = env.npm_lifecycle_event === 'cli' && env.INIT_CWD ? env.INIT_CWD : process.cwd();
  const file = resolve(base, given);
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

  const parsed = parseEnv(env);
  if (!parsed.ok) {
    io.err('环境变量有误：');
    for (const e of parsed.errors) io.err(`  ${e}`);
    return 1;
  }
  const { db, close } = await openDatabase(parsed.config);
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
  } finally {
    close();
  }
}

async function feishuMapPeople({ args, env, io }: Context): Promise<number> {
  if (args.length > 0) {
    io.err(usage());
    return 2;
  }
  const parsed = parseEnv(env);
  if (!parsed.ok) {
    io.err('环境变量有误：');
    for (const e of parsed.errors) io.err(`  ${e}`);
    return 1;
  }
  const feishu = feishuConfig(parsed.config);
  if (!feishu) {
    io.err('未配置飞书：请设置 FEISHU_APP_ID 和 FEISHU_APP_SECRET（见 docs/feishu.md）。');
    return 1;
  }
  const { db, close } = await openDatabase(parsed.config);
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
  const words = argv.filter((a) => !a.startsWith('-'));
  const flags = new Set(argv.filter((a) => a.startsWith('-')));
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
  const unknown = [...flags].filter((f) => !command.flags.includes(f));
  if (unknown.length > 0) {
    io.err(`未知选项：${unknown.join(' ')}`);
    io.err(usage());
    return 2;
  }
  return command.run({ args: words.slice(name.split(' ').length), flags, env, io });
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
