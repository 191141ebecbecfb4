CREATE TABLE `expired_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`expired_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `runs` ADD `owner_key` text DEFAULT '' NOT NULL;--> statement-breakpoint
-- Runs queued before fair shares: a token's runs are its own; anonymous ones share one legacy owner.
UPDATE `runs` SET `owner_key` = 'token:' || `token_id` WHERE `token_id` IS NOT NULL;--> statement-breakpoint
CREATE INDEX `runs_status_owner_seq` ON `runs` (`status`,`owner_key`,`seq`);--> statement-breakpoint
CREATE INDEX `runs_token_queued_at` ON `runs` (`token_id`,`queued_at`);--> statement-breakpoint
CREATE INDEX `runs_finished_at` ON `runs` (`finished_at`);--> statement-breakpoint
CREATE INDEX `sandboxes_token_status` ON `sandboxes` (`token_id`,`status`);