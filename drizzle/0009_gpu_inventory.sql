ALTER TABLE `sandboxes` ADD `gpu_device` integer;--> statement-breakpoint
ALTER TABLE `workers` ADD `gpu_inventory` text;