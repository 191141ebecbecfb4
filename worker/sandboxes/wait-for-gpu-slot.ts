import { eq } from "drizzle-orm";
import type { SandpitDb } from "@/lib/db/open-database";
import { sandboxes } from "@/lib/db/schema";
import { assignGpuSlot, describeDevices, gpuBusyError } from "@/lib/gpus/assign-gpu-slot";
import type { GpuInventory } from "@/lib/gpus/gpu-inventory";
import { usedGpuSlots } from "@/lib/workers/gpu-availability";
import { takeTurns } from "@/lib/os/take-turns";
import type { GpuGrant } from "../container/attach-model-and-gpu";

const POLL_MS = 500;

/** This worker's slot assignments take turns: count the free slots, then record the one taken, with nothing between. */
const assignTurns = takeTurns();

/**
 * Takes a GPU slot for a sandbox being provisioned, queueing while every matching slot is busy (a slot frees when
 * a GPU sandbox ends), up to `waitMs`; then fails with gpuBusyError's message (a 503). The slot is recorded on the
 * sandbox row (sandboxes.gpu_device) in the same turn that counted the free ones (assignTurns: only this worker assigns
 * its slots), so two provisions on this worker never take the same slot.
 */
export async function waitForGpuSlot(
  db: SandpitDb,
  workerId: string,
  gpus: { inventory: GpuInventory; waitMs: number },
  sandbox: { id: string; gpu: string },
  signal: AbortSignal,
): Promise<GpuGrant> {
  const deadline = Date.now() + gpus.waitMs;
  for (;;) {
    const decision = await assignTurns(async () => {
      const decided = assignGpuSlot(gpus.inventory, await usedGpuSlots(db, workerId), sandbox.gpu);
      if (decided.kind === "assigned") await db.update(sandboxes).set({ gpuDevice: decided.device.index }).where(eq(sandboxes.id, sandbox.id));
      return decided;
    });
    if (decision.kind === "assigned") {
      return { deviceIndex: decision.device.index, memoryFraction: decision.memoryFraction, passthrough: gpus.inventory.passthrough! };
    }
    if (decision.kind === "no_gpu") throw new Error(`gpu: ${decision.reason}`);
    if (decision.kind === "no_match")
      throw new Error(`gpu: this worker has no ${sandbox.gpu} GPU; it has ${describeDevices(gpus.inventory.devices).join(", ")}`);
    if (Date.now() + POLL_MS > deadline) throw gpuBusyError(sandbox.gpu, Math.round(gpus.waitMs / 1000));
    if (signal.aborted) throw new Error("provisioning was cancelled while waiting for a GPU slot");
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
