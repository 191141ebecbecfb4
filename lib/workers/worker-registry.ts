import { eq, inArray } from "drizzle-orm";
import os from "node:os";
import { z } from "zod";
import type { SandpitDb } from "@/lib/db/open-database";
import { workers } from "@/lib/db/schema";
import { processAlive } from "@/lib/os/process-alive";
import type { GpuInventory } from "@/lib/gpus/gpu-inventory";

const STALE_AFTER_MS = 15_000;

/** What a worker runs its sandboxes under, for `GET /api/v1/health`. */
export type WorkerRuntimeInfo = {
  containerRuntime: "runc" | "runsc";
  gvisor: { version: string; platform: string; path: string } | null;
};

/** One entry of `GET /api/v1/health`. */
export const liveWorkerSchema = z.object({
  id: z.string(),
  containerRuntime: z.string().nullable(),
  gvisor: z.object({ version: z.string(), platform: z.string(), path: z.string() }).nullable(),
});
export type LiveWorker = z.infer<typeof liveWorkerSchema>;

export async function registerWorker(db: SandpitDb, workerId: string, gpus: number, runtime?: WorkerRuntimeInfo, gpuInventory?: GpuInventory): Promise<void> {
  const now = Date.now();
  const described = {
    containerRuntime: runtime?.containerRuntime ?? null,
    gvisor: runtime?.gvisor ? JSON.stringify(runtime.gvisor) : null,
    gpuInventory: gpuInventory ? JSON.stringify(gpuInventory) : null,
  };
  await db
    .insert(workers)
    .values({ id: workerId, hostname: os.hostname(), pid: process.pid, startedAt: now, heartbeatAt: now, gpus, ...described })
    .onConflictDoUpdate({ target: workers.id, set: { heartbeatAt: now, pid: process.pid, gpus, ...described } });
}

/** Live workers with their container runtime and gVisor build. */
export async function describeLiveWorkers(db: SandpitDb): Promise<LiveWorker[]> {
  const live = await liveWorkerIds(db);
  return (await db.select().from(workers))
    .filter((worker) => live.has(worker.id))
    .map((worker) => ({
      id: worker.id,
      containerRuntime: worker.containerRuntime,
      gvisor: worker.gvisor ? (JSON.parse(worker.gvisor) as WorkerRuntimeInfo["gvisor"]) : null,
    }));
}

export async function heartbeat(db: SandpitDb, workerId: string): Promise<void> {
  await db.update(workers).set({ heartbeatAt: Date.now() }).where(eq(workers.id, workerId));
}

export async function unregisterWorker(db: SandpitDb, workerId: string): Promise<void> {
  await db.delete(workers).where(eq(workers.id, workerId));
}

/**
 * Workers that are alive: a fresh heartbeat, and on this host a process that still exists
 * (so a worker killed a moment ago is known dead at once, not after its heartbeat goes stale).
 */
export async function liveWorkerIds(db: SandpitDb): Promise<Set<string>> {
  const now = Date.now();
  const host = os.hostname();
  const live = new Set<string>();
  const dead: string[] = [];
  for (const worker of await db.select().from(workers)) {
    const fresh = now - worker.heartbeatAt < STALE_AFTER_MS;
    const running = worker.hostname !== host || processAlive(worker.pid);
    if (fresh && running) live.add(worker.id);
    else dead.push(worker.id);
  }
  if (dead.length) await db.delete(workers).where(inArray(workers.id, dead));
  return live;
}
