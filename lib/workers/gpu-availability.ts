import { and, eq, inArray, isNotNull } from "drizzle-orm";
import { z } from "zod";
import type { SandpitDb } from "@/lib/db/open-database";
import { sandboxes, workers } from "@/lib/db/schema";
import { NO_GPUS, type GpuInventory } from "@/lib/gpus/gpu-inventory";
import { liveWorkerIds } from "./worker-registry";

export const gpuDeviceViewSchema = z.object({
  workerId: z.string(),
  index: z.number().int(),
  name: z.string(),
  memoryMb: z.number(),
  slots: z.number().int(),
  slotsFree: z.number().int(),
  passthrough: z.string().nullable(),
});
export type GpuDeviceView = z.infer<typeof gpuDeviceViewSchema>;
export const gpuAvailabilitySchema = z.object({ available: z.boolean(), reason: z.string(), devices: z.array(gpuDeviceViewSchema) });
export type GpuAvailability = z.infer<typeof gpuAvailabilitySchema>;

/** Each serving worker's reported GPU inventory (workers.gpu_inventory, written at its start); a draining one takes no new sandbox. */
export async function liveGpuInventories(db: SandpitDb): Promise<{ workerId: string; inventory: GpuInventory }[]> {
  const live = await liveWorkerIds(db);
  return (await db.select({ id: workers.id, gpuInventory: workers.gpuInventory, draining: workers.draining }).from(workers))
    .filter((worker) => live.has(worker.id) && !worker.draining)
    .map((worker) => ({ workerId: worker.id, inventory: worker.gpuInventory ? (JSON.parse(worker.gpuInventory) as GpuInventory) : NO_GPUS }));
}

/** GPU sandboxes holding a slot, per device index, on one worker. */
export async function usedGpuSlots(db: SandpitDb, workerId: string): Promise<Map<number, number>> {
  const used = new Map<number, number>();
  const rows = await db
    .select({ device: sandboxes.gpuDevice })
    .from(sandboxes)
    .where(and(eq(sandboxes.workerId, workerId), isNotNull(sandboxes.gpuDevice), inArray(sandboxes.status, ["creating", "ready"])));
  for (const { device } of rows) used.set(device!, (used.get(device!) ?? 0) + 1);
  return used;
}

/** The live workers' GPUs with their free slots, for the API, the playground and GET /api/v1/models. */
export async function gpuAvailability(db: SandpitDb): Promise<GpuAvailability> {
  const devices: GpuDeviceView[] = [];
  for (const { workerId, inventory } of await liveGpuInventories(db)) {
    const used = await usedGpuSlots(db, workerId);
    for (const device of inventory.devices) {
      const slots = inventory.passthrough ? inventory.slotsPerDevice : 0;
      devices.push({ workerId, ...device, slots, slotsFree: Math.max(0, slots - (used.get(device.index) ?? 0)), passthrough: inventory.passthrough });
    }
  }
  const usable = devices.filter((device) => device.slots > 0);
  return usable.length
    ? { available: true, reason: `${usable.length} GPU(s), ${usable.reduce((sum, device) => sum + device.slotsFree, 0)} slot(s) free`, devices }
    : {
        available: false,
        reason: devices.length
          ? 'Workers have GPUs but no way to pass them to containers (README "GPU setup").'
          : "No worker has a GPU: GPU sandboxes need a worker on a host with an NVIDIA GPU and nvproxy (gVisor) or the NVIDIA Container Toolkit (runc).",
        devices,
      };
}
