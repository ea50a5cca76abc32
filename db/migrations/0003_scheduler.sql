CREATE TABLE `job_runs` (
	`job` text NOT NULL,
	`slot` text NOT NULL,
	`status` text NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	`result` text,
	`error` text,
	PRIMARY KEY(`job`, `slot`)
);
--> statement-breakpoint
ALTER TABLE `campaign_stages` ADD `reminder_policy` text;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `reminder_policy` text;