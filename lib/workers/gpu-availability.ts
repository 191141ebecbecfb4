import { gt, sql } from "drizzle-orm";
import { z } from "zod";
import type { SandpitDb } from "@/lib/db/open-database";
import { workers } from "@/lib/db/schema";

export const gpuAvailabilitySchema = z.object({ available: z.boolean(), reason: z.string() });
export type GpuAvailability = z.infer<typeof gpuAvailabilitySchema>;

/** Whether any live worker reported a GPU (it does so at start, from Docker's registered runtimes and /dev/nvidia*). */
export function gpuAvailability(db: SandpitDb): GpuAvailability {
  const freshAfter = Date.now() - 15_000;
  const row = db
    .select({ gpus: sql<number>`coalesce(max(${workers.gpus}), 0)` })
    .from(workers)
    .where(gt(workers.heartbeatAt, freshAfter))
    .get();
  return row && row.gpus > 0
    ? { available: true, reason: `${row.gpus} GPU(s) available` }
    : { available: false, reason: "No worker has a GPU: GPU runs need a worker on a host with an NVIDIA GPU and the nvidia container runtime." };
}
