/**
 * Node-only: the demo a newcomer sees on first start — every scheme template in ./schemes (the
 * eight evaluation schemes of the seed), six units in two groups with a filler and a head each,
 * an evaluator and a leader, and a campaign on the 事业单位法人履职评估 scheme in its first stage;
 * every ledger template in ./ledgers, with the monthly 隐患 report and the 登记管理 ledger kept
 * by the six units and the current period's entries created.
 * Every step is idempotent, so an interrupted seed completes on the next start.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from '../client';
import { parseSchemeFile, type SchemeFile } from '../../src/domain/scheme';
import { parseLedgerFile, type LedgerFile } from '../../src/domain/ledger';
import { readUnitsFile } from '../../scripts/import/units-file';
import { importUnitsAndPeople } from '../../src/store/import.repo';
import { installScheme } from '../../src/store/scheme.repo';
import { allUnitIds, countCampaigns, createCampaign } from '../../src/store/campaign.repo';
import { appendAudit } from '../../src/store/audit.repo';
import { assignLedger, ensureLedgerEntries, installLedgerDefinition } from '../../src/store/ledger.repo';
import { enqueue } from '../../src/store/outbox.repo';
import { writeTransaction } from '../../src/store/serialize';
import { consoleMessages } from '../../src/flows/campaign/console';
import { shanghaiDate } from '../../src/domain/time';

export const DEMO_UNITS_FILE = fileURLToPath(new URL('./samples/units.csv', import.meta.url));
export const DEMO_SCHEME_FILE = fileURLToPath(new URL('./schemes/haian-legal-person.json', import.meta.url));
export const SCHEME_TEMPLATES_DIR = fileURLToPath(new URL('./schemes/', import.meta.url));
export const LEDGER_TEMPLATES_DIR = fileURLToPath(new URL('./ledgers/', import.meta.url));
/** The ledgers the demo units keep. */
export const DEMO_LEDGER_CODES = ['safety-hazard-monthly-report', 'laiwu-registration-supervision'] as const;

export async function loadSchemeFile(path: string): Promise<SchemeFile> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not readable JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const parsed = parseSchemeFile(raw, path);
  if (!parsed.ok) throw new Error(`scheme file is invalid:\n${parsed.errors.join('\n')}`);
  return parsed.scheme;
}

/** Every template in SCHEME_TEMPLATES_DIR (*.json), validated, in file-name order. */
export async function loadSchemeTemplates(dir = SCHEME_TEMPLATES_DIR): Promise<SchemeFile[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  return Promise.all(names.map((n) => loadSchemeFile(join(dir, n))));
}

export async function loadLedgerFile(path: string): Promise<LedgerFile> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not readable JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const parsed = parseLedgerFile(raw, path);
  if (!parsed.ok) throw new Error(`ledger file is invalid:\n${parsed.errors.join('\n')}`);
  return parsed.ledger;
}

/** Every ledger template in LEDGER_TEMPLATES_DIR (*.json), validated, in file-name order. */
export async function loadLedgerTemplates(dir = LEDGER_TEMPLATES_DIR): Promise<LedgerFile[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  return Promise.all(names.map((n) => loadLedgerFile(join(dir, n))));
}

/** Seeds the demo when the database has no campaign yet. Returns the campaign id, or null when skipped. */
export async function seedDemoIfEmpty(db: Db, now: number): Promise<number | null> {
  if ((await countCampaigns(db)) > 0) return null;
  const scheme = await loadSchemeFile(DEMO_SCHEME_FILE);
  const templates = (await loadSchemeTemplates()).filter((t) => t.code !== scheme.code);
  const ledgers = await loadLedgerTemplates();
  const people = await readUnitsFile(DEMO_UNITS_FILE);
  if (!people.ok) throw new Error(`demo units file is invalid: ${JSON.stringify(people.errors)}`);
  await importUnitsAndPeople(db, people.records, now, null);
  return writeTransaction(db, async (tx) => {
    if ((await countCampaigns(tx)) > 0) return null;
    const { id: schemeId } = await installScheme(tx, scheme, now);
    for (const t of templates) await installScheme(tx, t, now);
    const year = Number(shanghaiDate(now).slice(0, 4));
    const campaignId = await createCampaign(tx, { schemeId, name: `${year}年度事业单位法人履职评估`, year, unitIds: await allUnitIds(tx) }, now);
    await appendAudit(tx, { at: now, actorId: null, platform: 'cli', action: 'campaign.create', subjectType: 'campaign', subjectId: campaignId, after: { schemeId, year, demo: true } });
    await enqueue(tx, await consoleMessages(tx, campaignId, 'send', 'created', now), now);
    for (const l of ledgers) {
      const { id: definitionId } = await installLedgerDefinition(tx, l, now);
      if ((DEMO_LEDGER_CODES as readonly string[]).includes(l.code)) await assignLedger(tx, { definitionId, unitIds: await allUnitIds(tx) }, now);
    }
    await ensureLedgerEntries(tx, now);
    return campaignId;
  });
}
