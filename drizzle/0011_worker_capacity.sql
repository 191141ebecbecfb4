ALTER TABLE `workers` ADD `capacity` text;--> statement-breakpoint
ALTER TABLE `workers` ADD `stale_after_ms` integer DEFAULT 15000 NOT NULL;--> statement-breakpoint
ALTER TABLE `workers` ADD `draining` integer DEFAULT false NOT NULL;