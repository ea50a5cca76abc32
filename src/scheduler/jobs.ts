/**
 * The jobs lvzhi runs on a schedule, for both runtimes: node-cron ticks every minute on Node,
 * Cron Triggers tick at the edge (wrangler.toml); the slots are the same either way.
 */
import { createCalendar, type WorkCalendar } from '../domain/calendar';
import { reminderJob, stageSource } from './reminders.job';
import { stageSections, summaryJobs } from './summaries.job';
import { ledgerEntriesJob, ledgerSections, ledgerSource } from './ledgers.job';
import type { Job } from './tick';

export function defaultJobs(calendar: WorkCalendar = createCalendar()): Job[] {
  // Entries first: a new period's entries exist before the reminders of the same tick look for them.
  return [ledgerEntriesJob, reminderJob(calendar, [stageSource, ledgerSource]), ...summaryJobs(calendar, [stageSections, ledgerSections])];
}
