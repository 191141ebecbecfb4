import type { SandboxRow } from "@/lib/db/schema";
import { matchesGpuType } from "@/lib/gpus/assign-gpu-slot";
import type { GpuInventory } from "@/lib/gpus/gpu-inventory";

/** The columns of a waiting sandbox that routing looks at. */
export type SandboxCandidate = Pick<SandboxRow, "seq" | "runtime" | "gpu" | "requirements" | "createdAt">;

/** What one worker can take of the waiting sandboxes (claimNextSandbox). */
export type SandboxRouting = {
  gpus: GpuInventory;
  /** Runtimes whose image its engine has; null: any. */
  runtimes: readonly string[] | null;
  /** True to leave this sandbox, for now, to a worker that has its requirements image built (see leaveToImageHolder). */
  defer?: (sandbox: SandboxCandidate, now: number) => boolean;
};

/** Whether a worker with `gpus` can pass a GPU of the sandbox's `gpu` type (any sandbox without one: yes). */
export function servesGpuType(gpus: GpuInventory, gpu: string | null): boolean {
  if (!gpu) return true;
  return gpus.passthrough !== null && gpus.devices.some((device) => matchesGpuType(gpu, device.name));
}

/**
 * Requirements-image affinity: a preference, never a requirement. Building a requirements image takes seconds to
 * minutes; a worker that has it built starts the sandbox at once. So a worker without the image leaves a waiting
 * sandbox alone while (a) another serving worker advertises that image (workers.capacity.requirementImages, refreshed
 * with its heartbeat) and (b) the sandbox was created less than the grace period ago (REQUIREMENTS_AFFINITY_S).
 * After the grace any worker that can serve the sandbox takes it (the holder may be busy, draining or gone); a worker
 * that has the image, or a sandbox whose image no one has, is claimed at once.
 */
export function leaveToImageHolder(input: { builtHere: boolean; builtElsewhere: boolean; waitedMs: number; graceMs: number }): boolean {
  return !input.builtHere && input.builtElsewhere && input.waitedMs < input.graceMs;
}
