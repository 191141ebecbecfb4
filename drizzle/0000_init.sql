CREATE TABLE `run_chunks` (
	`run_id` text NOT NULL,
	`seq` integer NOT NULL,
	`stream` text NOT NULL,
	`data` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`run_id`, `seq`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `runs` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`runtime` text NOT NULL,
	`code` text NOT NULL,
	`stdin` text DEFAULT '' NOT NULL,
	`timeout_ms` integer NOT NULL,
	`memory_mb` integer NOT NULL,
	`cpus_milli` integer DEFAULT 1000 NOT NULL,
	`status` text DEFAULT 'queued' NOT NULL,
	`exit_code` integer,
	`oom_killed` integer DEFAULT false NOT NULL,
	`truncated` integer DEFAULT false NOT NULL,
	`error` text,
	`worker_id` text,
	`container_runtime` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`cancel_requested` integer DEFAULT false NOT NULL,
	`output_bytes` integer DEFAULT 0 NOT NULL,
	`queued_at` integer NOT NULL,
	`claimed_at` integer,
	`started_at` integer,
	`first_output_at` integer,
	`finished_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `runs_id_unique` ON `runs` (`id`);--> statement-breakpoint
CREATE INDEX `runs_status_seq` ON `runs` (`status`,`seq`);--> statement-breakpoint
CREATE TABLE `workers` (
	`id` text PRIMARY KEY NOT NULL,
	`hostname` text NOT NULL,
	`pid` integer NOT NULL,
	`started_at` integer NOT NULL,
	`heartbeat_at` integer DEFAULT 0 NOT NULL
);
