CREATE TABLE `grade_history` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`unit_id` integer NOT NULL,
	`scheme_code` text NOT NULL,
	`year` integer NOT NULL,
	`grade` text NOT NULL,
	`source` text NOT NULL,
	`recorded_at` integer NOT NULL,
	FOREIGN KEY (`unit_id`) REFERENCES `units`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `grade_history_uq` ON `grade_history` (`unit_id`,`scheme_code`,`year`);--> statement-breakpoint
CREATE TABLE `individual_indicator_plans` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`campaign_id` integer NOT NULL,
	`unit_id` integer NOT NULL,
	`slot_code` text NOT NULL,
	`version` integer NOT NULL,
	`status` text NOT NULL,
	`items` text NOT NULL,
	`tier` text,
	`drafted_by` integer NOT NULL,
	`decided_by` integer,
	`comment` text DEFAULT '' NOT NULL,
	`created_at` integer NOT NULL,
	`decided_at` integer,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`unit_id`) REFERENCES `units`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`drafted_by`) REFERENCES `people`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`decided_by`) REFERENCES `people`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `individual_indicator_plans_uq` ON `individual_indicator_plans` (`campaign_id`,`unit_id`,`slot_code`,`version`);--> statement-breakpoint
CREATE TABLE `score_sheets` (
	`campaign_id` integer NOT NULL,
	`unit_id` integer NOT NULL,
	`sheet` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`campaign_id`, `unit_id`),
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`unit_id`) REFERENCES `units`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `scores` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`campaign_id` integer NOT NULL,
	`unit_id` integer NOT NULL,
	`rater_group` text NOT NULL,
	`indicator_code` text NOT NULL,
	`rater_key` text NOT NULL,
	`score` real NOT NULL,
	`entered_by` integer,
	`at` integer NOT NULL,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`unit_id`) REFERENCES `units`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`entered_by`) REFERENCES `people`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `scores_uq` ON `scores` (`campaign_id`,`unit_id`,`rater_group`,`indicator_code`,`rater_key`);--> statement-breakpoint
CREATE TABLE `unit_facts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`campaign_id` integer NOT NULL,
	`unit_id` integer NOT NULL,
	`fact` text NOT NULL,
	`value` text NOT NULL,
	`entered_by` integer,
	`at` integer NOT NULL,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`unit_id`) REFERENCES `units`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`entered_by`) REFERENCES `people`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `unit_facts_uq` ON `unit_facts` (`campaign_id`,`unit_id`,`fact`);