ALTER TABLE `runs` ADD `model` text;--> statement-breakpoint
ALTER TABLE `workers` ADD `gpus` integer DEFAULT 0 NOT NULL;