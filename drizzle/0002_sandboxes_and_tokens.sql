CREATE TABLE `api_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`token_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_token_hash_unique` ON `api_tokens` (`token_hash`);--> statement-breakpoint
CREATE TABLE `sandboxes` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`name` text NOT NULL,
	`token_id` text,
	`runtime` text NOT NULL,
	`language` text NOT NULL,
	`code` text,
	`command` text,
	`memory_mb` integer NOT NULL,
	`cpus_milli` integer NOT NULL,
	`lifetime_ms` integer NOT NULL,
	`env` text DEFAULT '{}' NOT NULL,
	`requirements` text DEFAULT '[]' NOT NULL,
	`deno_flags` text DEFAULT '[]' NOT NULL,
	`files` text DEFAULT '[]' NOT NULL,
	`model` text,
	`gpu` text,
	`status` text DEFAULT 'creating' NOT NULL,
	`error` text,
	`requirements_cached` integer,
	`worker_id` text,
	`container_id` text,
	`created_at` integer NOT NULL,
	`ready_at` integer,
	`expires_at` integer NOT NULL,
	`ended_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sandboxes_id_unique` ON `sandboxes` (`id`);--> statement-breakpoint
CREATE INDEX `sandboxes_status` ON `sandboxes` (`status`,`expires_at`);--> statement-breakpoint
ALTER TABLE `runs` ADD `sandbox_id` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `command` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `input` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `response` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `token_id` text;