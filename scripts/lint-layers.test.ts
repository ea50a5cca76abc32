/**
 * The layering rules in eslint.config.js really bite: portable layers cannot reach Node, drizzle or
 * HTTP, and only the composition roots read the wall clock.
 */
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: new URL('..', import.meta.url).pathname });

async function restricted(filePath: string, code: string, ruleId = 'no-restricted-imports'): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === ruleId).map((m) => m.message);
}

describe('layering lint rules', () => {
  it.each([
    ['src/domain/probe.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n"],
    ['src/domain/probe.ts', "import { eq } from 'drizzle-orm';\nexport const x = eq;\n"],
    ['src/domain/probe.ts', "import { Hono } from 'hono';\nexport const x = Hono;\n"],
    ['cards/probe.ts', "import { createClient } from '@libsql/client';\nexport const x = createClient;\n"],
    ['src/flows/probe.ts', "import { eq } from 'drizzle-orm';\nexport const x = eq;\n"],
    ['src/bot/probe.ts', "import { createHash } from 'node:crypto';\nexport const x = createHash;\n"],
    ['src/http/probe.ts', "import { sql } from 'drizzle-orm';\nexport const x = sql;\n"],
  ])('refuses the import in %s', async (file, code) => {
    expect(await restricted(file, code)).toHaveLength(1);
  });

  it.each([
    ['src/store/probe.ts', "import { eq } from 'drizzle-orm';\nexport const x = eq;\n"],
    ['src/runtime/probe.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n"],
    ['src/http/probe.ts', "import { Hono } from 'hono';\nexport const x = Hono;\n"],
  ])('allows the import in %s', async (file, code) => {
    expect(await restricted(file, code)).toEqual([]);
  });
});

describe('wall-clock lint rule', () => {
  const reads = 'export const a = Date.now();\nexport const b = new Date();\nexport const c = Date();\nexport const clock = Date.now;\n';
  it.each(['src/domain/probe.ts', 'src/platforms/feishu/probe.ts', 'src/store/probe.ts', 'db/seed/probe.ts', 'src/runtime/probe.test.ts', 'scripts/probe.test.ts'])(
    'refuses every wall-clock read in %s',
    async (file) => {
      expect(await restricted(file, reads, 'no-restricted-syntax')).toHaveLength(4);
    },
  );

  it.each(['src/runtime/probe.ts', 'scripts/cli.ts', 'scripts/bench/probe.ts', 'scripts/migrate.ts'])('allows the composition root %s to read it', async (file) => {
    expect(await restricted(file, reads, 'no-restricted-syntax')).toEqual([]);
  });

  it('allows a fixed instant and elapsed time anywhere', async () => {
    const code = "export const t = new Date('2026-10-08T01:00:00Z').getTime();\nexport const d = Date.UTC(2026, 0, 1);\nexport const e = performance.now();\n";
    expect(await restricted('src/domain/probe.ts', code, 'no-restricted-syntax')).toEqual([]);
  });
});
