import { and, eq, gte } from "drizzle-orm";
import os from "node:os";
import { z } from "zod";
import type { SandpitDb } from "@/lib/db/open-database";
import { workers } from "@/lib/db/schema";
import { processAlive } from "@/lib/os/process-alive";
import type { GpuInventory } from "@/lib/gpus/gpu-inventory";
import { parseWorkerCapacity, toCapacityView, workerCapacityViewSchema, type WorkerCapacity } from "./worker-capacity";

type WorkerRow = typeof workers.$inferSelect;

/** What a worker runs its sandboxes under, for `GET /api/v1/health`. */
export type WorkerRuntimeInfo = {
  containerRuntime: "runc" | "runsc";
  gvisor: { version: string; platform: string; path: string } | null;
};

/** One entry of `GET /api/v1/health`. */
export const liveWorkerSchema = z.object({
  id: z.string(),
  hostname: z.string(),
  containerRuntime: z.string().nullable(),
  gvisor: z.object({ version: z.string(), platform: z.string(), path: z.string() }).nullable(),
  /** Claims nothing new; exits once its runs and sandboxes are done (README "Draining a worker"). */
  draining: z.boolean(),
  /** When its last heartbeat arrived (ms since the epoch). */
  heartbeatAt: z.number().int(),
  /** GPUs it can pass to containers. */
  gpus: z.number().int(),
  /** Null for a worker that has not reported its capacity yet. */
  capacity: workerCapacityViewSchema.nullable(),
});
export type LiveWorker = z.infer<typeof liveWorkerSchema>;

export type WorkerRegistration = {
  /** GPUs it can pass to containers. */
  gpus: number;
  runtime?: WorkerRuntimeInfo;
  gpuInventory?: GpuInventory;
  capacity?: WorkerCapacity;
  /** Its WORKER_STALE_AFTER_S in ms: everyone else judges its silence by this. */
  staleAfterMs: number;
};

export async function registerWorker(db: SandpitDb, workerId: string, registration: WorkerRegistration): Promise<void> {
  const now = Date.now();
  const described = {
    pid: process.pid,
    gpus: registration.gpus,
    containerRuntime: registration.runtime?.containerRuntime ?? null,
    gvisor: registration.runtime?.gvisor ? JSON.stringify(registration.runtime.gvisor) : null,
    gpuInventory: registration.gpuInventory ? JSON.stringify(registration.gpuInventory) : null,
    capacity: registration.capacity ? JSON.stringify(registration.capacity) : null,
    staleAfterMs: registration.staleAfterMs,
    draining: false,
  };
  await db
    .insert(workers)
    .values({ id: workerId, hostname: os.hostname(), startedAt: now, heartbeatAt: now, ...described })
    .onConflictDoUpdate({ target: workers.id, set: { heartbeatAt: now, ...described } });
}

/**
 * Records that the worker is alive (and what it holds now, when given). Answers whether it should drain, or
 * null when its row is gone: another worker judged it dead (silent past its stale threshold) and has already
 * ended or re-queued its runs and marked its sandboxes lost, so it must not go on as if nothing happened.
 */
export async function heartbeat(db: SandpitDb, workerId: string, capacity?: WorkerCapacity): Promise<{ draining: boolean } | null> {
  const [row] = await db
    .update(workers)
    .set({ heartbeatAt: Date.now(), ...(capacity ? { capacity: JSON.stringify(capacity) } : {}) })
    .where(eq(workers.id, workerId))
    .returning({ draining: workers.draining });
  return row ?? null;
}

/** Asks a worker to drain (`npm run worker:drain`, or its own SIGUSR2); false when no such worker is registered. */
export async function requestDrain(db: SandpitDb, workerId: string): Promise<boolean> {
  const rows = await db.update(workers).set({ draining: true }).where(eq(workers.id, workerId)).returning({ id: workers.id });
  return rows.length > 0;
}

export async function unregisterWorker(db: SandpitDb, workerId: string): Promise<void> {
  await db.delete(workers).where(eq(workers.id, workerId));
}

/**
 * Whether a worker is alive: a heartbeat fresher than its own stale threshold, and, on this host, a process that
 * still exists (so a worker killed a moment ago is known dead at once, not after its heartbeat goes stale). A
 * worker on another host is judged by its heartbeat alone.
 */
export function isWorkerAlive(
  worker: Pick<WorkerRow, "heartbeatAt" | "staleAfterMs" | "hostname" | "pid">,
  now = Date.now(),
  host = os.hostname(),
  trustStaleness = true,
): boolean {
  const fresh = !trustStaleness || now - worker.heartbeatAt < worker.staleAfterMs;
  return fresh && (worker.hostname !== host || processAlive(worker.pid));
}

/** The rows of the live workers. Reading changes nothing: only a worker's recovery deletes dead ones (forgetDeadWorkers). */
export async function liveWorkerRows(db: SandpitDb): Promise<WorkerRow[]> {
  const now = Date.now();
  const host = os.hostname();
  return (await db.select().from(workers)).filter((worker) => isWorkerAlive(worker, now, host));
}

export async function liveWorkerIds(db: SandpitDb): Promise<Set<string>> {
  return new Set((await liveWorkerRows(db)).map((worker) => worker.id));
}

/**
 * Every registered worker, judged by worker `self` (alive by definition): the ids of the live ones, and the rows of
 * the dead (for recovery). `trustStaleness` false: only a gone process on this host counts as death. A worker
 * whose own database connection came back a moment ago passes false, since it may simply have missed the others'
 * beats: a database outage silences every worker at once, and none of them should end the others' runs for it.
 */
export async function judgeWorkers(db: SandpitDb, self: string, trustStaleness = true): Promise<{ live: Set<string>; dead: WorkerRow[]; judgedAt: number }> {
  const now = Date.now();
  const host = os.hostname();
  const live = new Set<string>([self]);
  const dead: WorkerRow[] = [];
  for (const worker of await db.select().from(workers)) {
    if (worker.id === self || isWorkerAlive(worker, now, host, trustStaleness)) live.add(worker.id);
    else dead.push(worker);
  }
  return { live, dead, judgedAt: now };
}

/**
 * Ids of workers that have beaten (or registered) since `at`, as a subquery: alive whatever a judgment made at `at`
 * said. Recovery excludes them in the same statement, so a worker that starts and claims while another worker
 * is recovering never has its fresh claims taken for orphans.
 */
export function workersBeatenSince(db: SandpitDb, at: number) {
  return db.select({ id: workers.id }).from(workers).where(gte(workers.heartbeatAt, at));
}

/**
 * Deletes the rows of workers judged dead, once recovery has settled what they left behind. A row that has
 * beaten since it was judged is kept: a worker restarted under the same WORKER_ID has registered again.
 */
export async function forgetDeadWorkers(db: SandpitDb, dead: Pick<WorkerRow, "id" | "heartbeatAt">[]): Promise<void> {
  for (const worker of dead) await db.delete(workers).where(and(eq(workers.id, worker.id), eq(workers.heartbeatAt, worker.heartbeatAt)));
}

/** Live workers that take new work: not draining. Their capacity routes runs and sandboxes (and admission checks it). */
export async function servingWorkers(db: SandpitDb): Promise<{ id: string; capacity: WorkerCapacity | null }[]> {
  return (await liveWorkerRows(db)).filter((worker) => !worker.draining).map((worker) => ({ id: worker.id, capacity: parseWorkerCapacity(worker.capacity) }));
}

/** Live workers with their runtime, capacity and drain state. */
export async function describeLiveWorkers(db: SandpitDb): Promise<LiveWorker[]> {
  return (await liveWorkerRows(db)).map((worker) => ({
    id: worker.id,
    hostname: worker.hostname,
    containerRuntime: worker.containerRuntime,
    gvisor: worker.gvisor ? (JSON.parse(worker.gvisor) as WorkerRuntimeInfo["gvisor"]) : null,
    draining: worker.draining,
    heartbeatAt: worker.heartbeatAt,
    gpus: worker.gpus,
    capacity: toCapacityView(parseWorkerCapacity(worker.capacity)),
  }));
}
