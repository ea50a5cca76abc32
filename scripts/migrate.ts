/** `npm run db:migrate`: applies db/migrations to DATABASE_URL (a file, or a remote libSQL before deploy). */
import { parseEnv } from '../src/config/env';
import { openDatabase } from '../src/runtime/open-db';

const env = parseEnv(process.env);
if (!env.ok) {
  console.error(`数据库迁移未执行：环境变量无效。\n${env.errors.map((e) => `  - ${e}`).join('\n')}`);
  process.exit(1);
}
try {
  const { close } = await openDatabase(env.config, { migrate: true });
  close();
  console.log(`数据库已迁移到最新版本：${env.config.DATABASE_URL}`);
} catch (e) {
  console.error(`数据库迁移失败：${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
