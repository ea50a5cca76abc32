/**
 * grading: campaigns of 1,000 and 10,000 units in libSQL files (30 leaf indicators, six rater
 * groups, 50 anonymous questionnaire responses per unit, facts for the veto and downgrade, two
 * earlier years of grades, approved tiered individual plans), then the time from the database
 * to final grades: loadGradingInput + gradeCampaign. Generating the data is not timed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gradeCampaign } from '../../src/domain/grading';
import { openDatabase } from '../../src/runtime/open-db';
import { loadGradingInput } from '../../src/store/grading.repo';
import { createGradingBenchDatabase } from './grading-data';

async function measure(url: string, campaignId: number, runs: number) {
  const { db, close } = await openDatabase({ DATABASE_URL: url }, { migrate: false });
  try {
    const times: number[] = [];
    let graded = 0;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const loaded = await loadGradingInput(db, campaignId);
      if (!loaded) throw new Error('campaign not found');
      const t1 = performance.now();
      const result = gradeCampaign(loaded.scheme, loaded.input);
      const t2 = performance.now();
      graded = result.units.filter((u) => u.grade !== null).length;
      times.push((t2 - t0) / 1000);
      console.error(`  run ${i + 1}: load ${((t1 - t0) / 1000).toFixed(3)} s, grade ${((t2 - t1) / 1000).toFixed(3)} s; ${graded} of ${result.units.length} units graded; ${JSON.stringify(result.counts)}`);
    }
    times.sort((a, b) => a - b);
    return { seconds: times[Math.floor(times.length / 2)]!, graded };
  } finally {
    close();
  }
}

export async function run(args: string[]) {
  const sizes = [Number(args[0] ?? 1_000), Number(args[1] ?? 10_000)] as const;
  const runs = 3;
  const dir = mkdtempSync(join(tmpdir(), 'lvzhi-grading-'));
  try {
    const seconds: number[] = [];
    for (const n of sizes) {
      const url = `file:${join(dir, `grading-${n}.db`)}`;
      const g0 = performance.now();
      const { campaignId } = await createGradingBenchDatabase(url, n);
      console.error(`${n} units: generated in ${((performance.now() - g0) / 1000).toFixed(1)} s (not measured); database to grades, median of ${runs}:`);
      const m = await measure(url, campaignId, runs);
      console.error(`${n} units: ${m.seconds.toFixed(3)} s`);
      seconds.push(m.seconds);
    }
    const [s1, s10] = seconds as [number, number];
    return { seconds_1k: Number(s1.toFixed(3)), seconds_10k: Number(s10.toFixed(3)), scaling: Number((s10 / s1).toFixed(2)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
