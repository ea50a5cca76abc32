/** `npm run bench -- <name>`: runs scripts/bench/<name>.ts; its last printed line is one JSON object. */
const BENCHES = ['callback', 'fanout', 'grading', 'ledgers', 'planning', 'reminders', 'worker'] as const;

const benchName = process.argv[2];
if (!benchName || !(BENCHES as readonly string[]).includes(benchName)) {
  console.error(`usage: npm run bench -- <${BENCHES.join('|')}>`);
  process.exit(2);
}
const mod = (await import(`./${benchName}.ts`)) as { run: (args: string[]) => Promise<Record<string, unknown>> };
const result = await mod.run(process.argv.slice(3));
console.log(JSON.stringify({ name: benchName, ...result }));
process.exit(0);
export {};
