import { z } from "zod";

/** The most requirement image tags one worker advertises (most recently used first): bounds its row and each heartbeat. */
export const MAX_ADVERTISED_IMAGES = 200;

/** Idle warm containers the worker holds for one pool key. */
export const poolKeyStateSchema = z.object({
  runtime: z.string(),
  memoryMb: z.number().int(),
  cpusMilli: z.number().int(),
  idle: z.number().int(),
});
export type PoolKeyState = z.infer<typeof poolKeyStateSchema>;

/**
 * What a worker can serve and how busy it is, written at registration and refreshed with its heartbeat
 * (workers.capacity). Routing reads `runtimes` and `requirementImages`; the rest is for operators (GET /api/v1/health).
 */
export const workerCapacitySchema = z.object({
  /** Runtimes whose image this worker's container engine has: it claims runs and sandboxes of these only. */
  runtimes: z.array(z.string()),
  /** The host's CPU cores and memory, as the worker's OS sees them. */
  cores: z.number().int(),
  memoryMb: z.number().int(),
  /** Runs it executes at once (WORKER_CONCURRENCY), and how many it is executing now. */
  concurrency: z.number().int(),
  activeRuns: z.number().int(),
  /** Sandboxes it holds (creating or ready). */
  liveSandboxes: z.number().int(),
  /** Its warm pool: idle containers per key (empty when the pool is off or drained). */
  pool: z.array(poolKeyStateSchema),
  /** Tags of the requirement images it has built (worker/sandboxes/requirements-image.ts), at most MAX_ADVERTISED_IMAGES. */
  requirementImages: z.array(z.string()).max(MAX_ADVERTISED_IMAGES),
});
export type WorkerCapacity = z.infer<typeof workerCapacitySchema>;

/** A worker's stored capacity; null for one that has not reported any (or wrote something this version cannot read). */
export function parseWorkerCapacity(json: string | null): WorkerCapacity | null {
  if (!json) return null;
  try {
    const parsed = workerCapacitySchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Capacity as GET /api/v1/health shows it: requirement images as a count (the tags are hashes, useful to no reader). */
export const workerCapacityViewSchema = workerCapacitySchema.omit({ requirementImages: true }).extend({ requirementImages: z.number().int() });
export type WorkerCapacityView = z.infer<typeof workerCapacityViewSchema>;

export function toCapacityView(capacity: WorkerCapacity | null): WorkerCapacityView | null {
  return capacity && { ...capacity, requirementImages: capacity.requirementImages.length };
}
