/**
 * The jobs lvzhi runs on a schedule, for both runtimes: node-cron ticks every minute on Node,
 * Cron Triggers tick at the edge (wrangler.toml); the slots are the same either way.
 */
import { createCalendar, type WorkCalendar } from '../domain/calendar';
import { reminderJob, stageSource } from './reminders.job';
import { stageSections, summaryJobs } from './summaries.job';
import type { Job } from './tick';

export function defaultJobs(calendar: WorkCalendar = createCalendar()): Job[] {
  return [reminderJob(calendar, [stageSource]), ...summaryJobs(calendar, [stageSections])];
}
