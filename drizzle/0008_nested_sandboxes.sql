ALTER TABLE `api_tokens` ADD `sandbox_id` text;--> statement-breakpoint
ALTER TABLE `api_tokens` ADD `expires_at` integer;--> statement-breakpoint
ALTER TABLE `sandboxes` ADD `parent_sandbox_id` text;--> statement-breakpoint
ALTER TABLE `sandboxes` ADD `root_sandbox_id` text;--> statement-breakpoint
ALTER TABLE `sandboxes` ADD `depth` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `sandboxes` ADD `nested` text;--> statement-breakpoint
CREATE INDEX `sandboxes_parent_status` ON `sandboxes` (`parent_sandbox_id`,`status`);