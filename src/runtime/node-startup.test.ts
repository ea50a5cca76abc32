/**
 * Start-up sends first: what node.ts loads before its first outbox pass (its static imports,
 * followed through every module they import statically) is only what sending needs. The bot,
 * the flows, the HTTP app, the scheduler, the demo seed and the Feishu SDK (0.5–0.8 s to load)
 * come in by dynamic import afterwards; a static import of any of them would make a restarted
 * process hold its queued cards until they are loaded.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Every module reached from `entry` by static value imports (not `import type`, not `import()`). */
function staticGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/^\s*(?:import|export)\s+(?!type\b)(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) {
      const spec = m[1]!;
      if (!spec.startsWith('.')) {
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
        continue;
      }
      const base = resolve(dirname(file), spec);
      const target = [`${base}.ts`, `${base}.tsx`, join(base, 'index.ts'), base].find((f) => existsSync(f) && f.match(/\.tsx?$/));
      if (target) visit(target);
    }
  };
  visit(entry);
  return { files, packages };
}

describe('node start-up', () => {
  it('loads only what sending needs before the first outbox pass', () => {
    const { files, packages } = staticGraph(join(ROOT, 'src/runtime/node.ts'));
    const reached = [...files].map((f) => relative(ROOT, f));
    // The sending path itself is there (so the walk does follow imports)…
    expect(reached).toEqual(expect.arrayContaining(['src/outbox/sender.ts', 'src/platforms/feishu/client.ts', 'src/platforms/feishu/sender.ts', 'cards/render/feishu.ts', 'src/runtime/open-db.ts']));
    // …and nothing that only answering people, scheduling or the long connection needs.
    expect(reached.filter((f) => /^src\/(flows|bot|http|scheduler)\/|^db\/seed\/|^src\/platforms\/feishu\/ws\.ts$/.test(f))).toEqual([]);
    expect([...packages].filter((p) => ['@larksuiteoapi/node-sdk', '@hono/node-server', 'hono', 'node-cron', 'exceljs'].includes(p))).toEqual([]);
  });
});
