/** The layering rules in eslint.config.js really bite: portable layers cannot reach Node, drizzle or HTTP. */
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: new URL('..', import.meta.url).pathname });

async function restricted(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
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
