// Layering rules from ARCHITECTURE.md: portable layers must not reach Node, drizzle or a
// platform SDK, so the Workers build never breaks by accident.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = { group: ['node:*'], message: 'node:* is only allowed in src/runtime/node.ts, scripts and Node-only adapters.' };
const drizzle = { group: ['drizzle-orm', 'drizzle-orm/*', '@libsql/*'], message: 'drizzle and libSQL belong in db/ and src/store/ only.' };
const sdks = { group: ['@larksuiteoapi/*', 'dingtalk-stream', 'exceljs'], message: 'platform SDKs and file libraries belong in their adapter.' };
const hono = { group: ['hono', 'hono/*', '@hono/*'], message: 'the pure layers do not know about HTTP.' };

// Time comes in as a parameter (`now`, `clock`): only the composition roots read the wall clock,
// so no test and no logic depends on today's date. performance.now() (elapsed time) stays allowed.
const wallClock = 'the wall clock is read only in the composition roots (src/runtime/, the CLI entry, benches): take `now`/`clock` as a parameter; in tests use a fixed instant, or performance.now() for a polling deadline.';
const noWallClock = ['error',
  { selector: "MemberExpression[object.name='Date'][property.name='now']", message: `Date.now: ${wallClock}` },
  { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: `new Date(): ${wallClock}` },
  { selector: "CallExpression[callee.name='Date']", message: `Date(): ${wallClock}` },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'db/migrations/**', 'data/**', 'dist/**', '.wrangler/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': noWallClock,
    },
  },
  {
    // The composition roots hand the clock to everything else. Their tests are not roots.
    files: ['src/runtime/**/*.ts', 'scripts/cli.ts', 'scripts/cli/**/*.ts', 'scripts/bench/**/*.ts', 'scripts/migrate.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['src/domain/**/*.ts', 'cards/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [nodeBuiltins, drizzle, sdks, hono] }] },
  },
  {
    files: ['src/flows/**/*.ts', 'src/bot/**/*.ts', 'src/outbox/**/*.ts', 'src/scheduler/**/*.ts', 'src/config/**/*.ts', 'src/http/**/*.ts', 'src/deps.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [nodeBuiltins, drizzle, sdks] }] },
  },
  {
    files: ['src/runtime/worker.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: '@libsql/client', message: 'the worker reaches libSQL over HTTP: @libsql/client/web.' }],
        patterns: [nodeBuiltins, sdks, { group: ['**/open-db', '**/runtime/node', '**/db/migrate', '**/db/seed/demo'], message: 'Node-only modules are not reachable from the worker.' }],
      }],
    },
  },
  {
    // The webhook side of Feishu runs on Workers too: Web Crypto, no Node.
    files: ['src/platforms/feishu/verify.ts', 'src/platforms/feishu/parse.ts', 'src/platforms/feishu/routes.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [nodeBuiltins, drizzle] }] },
  },
  {
    files: ['src/platforms/local/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [nodeBuiltins, drizzle, sdks] }] },
  },
);
