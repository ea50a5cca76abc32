-- Where each audited action came from (local, feishu, dingtalk, cli, scheduler); earlier rows stay null.
-- ADD COLUMN keeps the table, so the append-only triggers of 0001 stay in force.
ALTER TABLE `audit_log` ADD `platform` text;