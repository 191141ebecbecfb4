ALTER TABLE `workers` ADD `container_runtime` text;--> statement-breakpoint
ALTER TABLE `workers` ADD `gvisor` text;