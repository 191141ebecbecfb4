import { SandpitError } from "@/lib/errors/sandpit-error";
import { quoteClientInput } from "@/lib/http/quote-client-input";
import type { GpuDevice, GpuInventory } from "./gpu-inventory";

/**
 * `gpu` as requests give it: a type like "T4" or "H100", or "any". A type matches a device whose name has it as a
 * word, case-insensitively ("T4" matches "Tesla T4", "H100" matches "NVIDIA H100 80GB HBM3", "A10" not "A100").
 */
export function matchesGpuType(wanted: string, deviceName: string): boolean {
  if (wanted.toLowerCase() === "any") return true;
  return deviceName
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .includes(wanted.toLowerCase());
}

export type SlotDecision =
  | { kind: "assigned"; device: GpuDevice; memoryFraction: number }
  /** Every matching device's slots are taken: wait for one. */
  | { kind: "busy"; matching: number }
  | { kind: "no_match"; available: string[] }
  | { kind: "no_gpu"; reason: string };

/**
 * Picks the least-used matching device with a free slot. `used` counts the live GPU sandboxes per device index.
 * Each slot's share of device memory is 1 / slotsPerDevice (rounded down to a hundredth, so shares never overcommit).
 */
export function assignGpuSlot(inventory: GpuInventory, used: ReadonlyMap<number, number>, wanted: string): SlotDecision {
  if (!inventory.devices.length) return { kind: "no_gpu", reason: "this worker has no GPU" };
  if (!inventory.passthrough) return { kind: "no_gpu", reason: inventory.unusableReason ?? "this worker cannot pass its GPUs to containers" };
  const matching = inventory.devices.filter((device) => matchesGpuType(wanted, device.name));
  if (!matching.length) return { kind: "no_match", available: describeDevices(inventory.devices) };
  const free = matching
    .map((device) => ({ device, taken: used.get(device.index) ?? 0 }))
    .filter(({ taken }) => taken < inventory.slotsPerDevice)
    .sort((a, b) => a.taken - b.taken || a.device.index - b.device.index);
  if (!free.length) return { kind: "busy", matching: matching.length };
  return { kind: "assigned", device: free[0].device, memoryFraction: memoryFraction(inventory.slotsPerDevice) };
}

export function memoryFraction(slotsPerDevice: number): number {
  return Math.floor(100 / Math.max(1, slotsPerDevice)) / 100;
}

export function describeDevices(devices: GpuDevice[]): string[] {
  const counts = new Map<string, number>();
  for (const device of devices) {
    const label = `${device.name} (${Math.round(device.memoryMb / 1024)} GiB)`;
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return [...counts].map(([label, count]) => (count > 1 ? `${label} ×${count}` : label));
}

/**
 * Whether any live worker could ever serve `wanted` (the web's check at create: a request no worker can serve
 * fails at once). Busy slots are not an error here: the sandbox waits for one (see gpuBusyError).
 */
export function checkGpuRequest(inventories: GpuInventory[], wanted: string): void {
  const usable = inventories.filter((inventory) => inventory.devices.length > 0);
  if (!usable.length) {
    throw new SandpitError("validation", 'gpu: no worker has a GPU: GPU sandboxes need a worker on a host with an NVIDIA GPU (README "GPU setup")', {
      field: "gpu",
    });
  }
  const passing = usable.filter((inventory) => inventory.passthrough);
  if (!passing.length)
    throw new SandpitError("validation", `gpu: ${usable[0].unusableReason ?? "no worker can pass its GPUs to containers"}`, { field: "gpu" });
  if (!passing.some((inventory) => inventory.devices.some((device) => matchesGpuType(wanted, device.name)))) {
    const available = describeDevices(passing.flatMap((inventory) => inventory.devices));
    throw new SandpitError("validation", `gpu: no worker has a ${quoteClientInput(wanted)} GPU; available: ${available.join(", ")} (or ask for "any")`, {
      field: "gpu",
    });
  }
}

/** A GPU sandbox that waited its whole wait for a slot: the GPUs exist but are all busy. */
export function gpuBusyError(wanted: string, waitedS: number): SandpitError {
  return new SandpitError(
    "unavailable",
    `gpu: every ${wanted === "any" ? "GPU" : quoteClientInput(wanted)} slot stayed busy for ${waitedS} s; try again later`,
    {
      field: "gpu",
      retryAfterS: 30,
    },
  );
}
