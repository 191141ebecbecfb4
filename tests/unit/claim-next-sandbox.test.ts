import { describe, expect, it } from "vitest";
import type { SandpitDb } from "@/lib/db/open-database";
import { sandboxes } from "@/lib/db/schema";
import type { GpuInventory } from "@/lib/gpus/gpu-inventory";
import { claimNextSandbox } from "@/lib/sandboxes/sandbox-lifecycle";
import { freshDatabase, freshDatabaseLocation, openTestDatabase } from "../support/test-database";
import { insertSandbox } from "../support/test-rows";

function freshDb() {
  return freshDatabase();
}

/** Two workers on one database: one without GPUs, one with a T4 it can pass to containers. */
const cpuOnly: GpuInventory = { devices: [], driverVersion: null, passthrough: null, slotsPerDevice: 1, unusableReason: null };
const withT4: GpuInventory = {
  devices: [{ index: 0, name: "Tesla T4", memoryMb: 15360 }],
  driverVersion: "550.54",
  passthrough: "nvproxy",
  slotsPerDevice: 2,
  unusableReason: null,
};
/** Devices it cannot pass: it serves no GPU sandbox either. */
const stuckA100: GpuInventory = { ...withT4, devices: [{ index: 0, name: "A100", memoryMb: 40960 }], passthrough: null, unusableReason: "no runtime" };

const claimAll = async (db: SandpitDb, workerId: string, inventory: GpuInventory) => {
  const claimed: string[] = [];
  const routing = { gpus: inventory, runtimes: null };
  for (let sandbox = await claimNextSandbox(db, workerId, routing); sandbox; sandbox = await claimNextSandbox(db, workerId, routing)) claimed.push(sandbox.id);
  return claimed;
};

describe("claimNextSandbox routes GPU sandboxes to workers that can serve them", () => {
  it("a worker without GPUs claims only CPU sandboxes, leaving the GPU ones (even older ones) waiting", async () => {
    const db = await freshDb();
    await insertSandbox(db, { id: "gpu-t4", gpu: "T4" });
    await insertSandbox(db, { id: "cpu-1", gpu: null });
    await insertSandbox(db, { id: "gpu-any", gpu: "any" });
    await insertSandbox(db, { id: "cpu-2", gpu: null });
    expect(await claimAll(db, "cpu-worker", cpuOnly)).toEqual(["cpu-1", "cpu-2"]);
    expect(await claimAll(db, "stuck-worker", stuckA100)).toEqual([]);
    expect(await claimAll(db, "gpu-worker", withT4)).toEqual(["gpu-t4", "gpu-any"]);
  });

  it("a GPU worker takes CPU work too, oldest first, but never a GPU type it lacks", async () => {
    const db = await freshDb();
    await insertSandbox(db, { id: "gpu-h100", gpu: "H100" });
    await insertSandbox(db, { id: "cpu-1", gpu: null });
    await insertSandbox(db, { id: "gpu-t4", gpu: "t4" });
    expect(await claimAll(db, "gpu-worker", withT4)).toEqual(["cpu-1", "gpu-t4"]);
    expect(await claimAll(db, "cpu-worker", cpuOnly)).toEqual([]);
    const left = await db.select({ id: sandboxes.id, workerId: sandboxes.workerId }).from(sandboxes);
    expect(left.find((row) => row.id === "gpu-h100")?.workerId).toBeNull();
  });

  it("never hands one sandbox to two workers on two connections", async () => {
    const file = await freshDatabaseLocation();
    const a = await openTestDatabase(file);
    const b = await openTestDatabase(file);
    for (let index = 0; index < 6; index++) await insertSandbox(a, { id: `s${index}`, gpu: index % 2 ? "T4" : null });
    const claimed: string[] = [];
    for (let turn = 0; turn < 8; turn++) {
      const sandbox = await claimNextSandbox(turn % 2 ? a : b, `w${turn % 2}`, { gpus: withT4, runtimes: null });
      if (sandbox) claimed.push(sandbox.id);
    }
    expect(claimed).toEqual(["s0", "s1", "s2", "s3", "s4", "s5"]);
  });
});
