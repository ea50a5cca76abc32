CREATE TABLE `ledger_assignments` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`definition_id` integer NOT NULL,
	`unit_id` integer NOT NULL,
	`campaign_id` integer,
	`active` integer DEFAULT true NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`definition_id`) REFERENCES `ledger_definitions`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`unit_id`) REFERENCES `units`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_assignments_uq` ON `ledger_assignments` (`definition_id`,`unit_id`,`campaign_id`) WHERE "ledger_assignments"."campaign_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_assignments_standing_uq` ON `ledger_assignments` (`definition_id`,`unit_id`) WHERE "ledger_assignments"."campaign_id" is null;--> statement-breakpoint
CREATE INDEX `ledger_assignments_unit_idx` ON `ledger_assignments` (`unit_id`);--> statement-breakpoint
CREATE TABLE `ledger_definitions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`code` text NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`recurrence` text NOT NULL,
	`due` text NOT NULL,
	`fields` text NOT NULL,
	`reminder_policy` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_definitions_code_version_uq` ON `ledger_definitions` (`code`,`version`);--> statement-breakpoint
CREATE TABLE `ledger_entries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`assignment_id` integer NOT NULL,
	`definition_id` integer NOT NULL,
	`unit_id` integer NOT NULL,
	`period` text NOT NULL,
	`due_date` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`values` text NOT NULL,
	`revision` integer DEFAULT 0 NOT NULL,
	`submitted_by` integer,
	`submitted_at` integer,
	`return_comment` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`assignment_id`) REFERENCES `ledger_assignments`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`definition_id`) REFERENCES `ledger_definitions`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`unit_id`) REFERENCES `units`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`submitted_by`) REFERENCES `people`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_entries_uq` ON `ledger_entries` (`assignment_id`,`period`);--> statement-breakpoint
CREATE INDEX `ledger_entries_status_due_idx` ON `ledger_entries` (`status`,`due_date`);--> statement-breakpoint
CREATE INDEX `ledger_entries_period_idx` ON `ledger_entries` (`period`,`definition_id`);--> statement-breakpoint
CREATE INDEX `ledger_entries_unit_idx` ON `ledger_entries` (`unit_id`,`status`);