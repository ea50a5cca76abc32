/** `npm run db:migrate`: applies db/migrations to DATABASE_URL (a file, or a remote libSQL before deploy). */
import { parseEnv, redactDatabaseUrl } from '../src/config/env';
import { openDatabase } from '../src/runtime/open-db';

const env = parseEnv(process.env);
if (!env.ok) {
  console.error(`数据库迁移未执行：环境变量无效。\n${env.errors.map((e) => `  - ${e}`).join('\n')}`);
  process.exit(1);
}
try {
  const { close } = await openDatabase(env.config, { migrate: true });
  close();
  console.log(`数据库已迁移到最新版本：${redactDatabaseUrl(env.config.DATABASE_URL)}`);
} catch (e) {
  const why = (e instanceof Error ? e.message : String(e)).replaceAll(env.config.DATABASE_URL, redactDatabaseUrl(env.config.DATABASE_URL));
  console.error(`数据库迁移失败：${why}`);
  process.exit(1);
}
