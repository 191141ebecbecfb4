import { httpStatusOf } from "@/lib/http/api-error";
import { describe, expect, it } from "vitest";
import { SandpitError } from "@/lib/errors/sandpit-error";
import { assignGpuSlot, checkGpuRequest, gpuBusyError, matchesGpuType, memoryFraction } from "@/lib/gpus/assign-gpu-slot";
import { choosePassthrough, NO_GPUS, parseGpuDevices, parseNvidiaSmi, type GpuInventory } from "@/lib/gpus/gpu-inventory";

const h100s: GpuInventory = {
  devices: [
    { index: 0, name: "NVIDIA H100 80GB HBM3", memoryMb: 81559 },
    { index: 1, name: "NVIDIA H100 80GB HBM3", memoryMb: 81559 },
  ],
  driverVersion: "550.54.15",
  passthrough: "nvproxy",
  slotsPerDevice: 2,
  unusableReason: null,
};

function thrown(work: () => void): SandpitError {
  try {
    work();
  } catch (error) {
    return error as SandpitError;
  }
  throw new Error("did not throw");
}

describe("GPU types", () => {
  it("match a word of the device name, case-insensitively, or any", () => {
    expect(matchesGpuType("T4", "Tesla T4")).toBe(true);
    expect(matchesGpuType("h100", "NVIDIA H100 80GB HBM3")).toBe(true);
    expect(matchesGpuType("A10", "NVIDIA A100-SXM4-40GB")).toBe(false);
    expect(matchesGpuType("A100", "NVIDIA A100-SXM4-40GB")).toBe(true);
    expect(matchesGpuType("any", "Tesla T4")).toBe(true);
    expect(matchesGpuType("T4", "NVIDIA H200")).toBe(false);
  });
});

describe("slot accounting", () => {
  it("fills the least-used matching device first, then reports busy", () => {
    const used = new Map<number, number>();
    const picks: number[] = [];
    for (let i = 0; i < 4; i++) {
      const decision = assignGpuSlot(h100s, used, "H100");
      if (decision.kind !== "assigned") throw new Error(decision.kind);
      expect(decision.memoryFraction).toBe(0.5);
      picks.push(decision.device.index);
      used.set(decision.device.index, (used.get(decision.device.index) ?? 0) + 1);
    }
    expect(picks).toEqual([0, 1, 0, 1]);
    expect(assignGpuSlot(h100s, used, "any")).toEqual({ kind: "busy", matching: 2 });
    used.set(1, 1);
    expect(assignGpuSlot(h100s, used, "any")).toMatchObject({ kind: "assigned", device: { index: 1 } });
  });

  it("says why nothing can be assigned", () => {
    expect(assignGpuSlot(h100s, new Map(), "T4")).toEqual({ kind: "no_match", available: ["NVIDIA H100 80GB HBM3 (80 GiB) ×2"] });
    expect(assignGpuSlot(NO_GPUS, new Map(), "any").kind).toBe("no_gpu");
    expect(assignGpuSlot({ ...h100s, passthrough: null, unusableReason: "no runtime" }, new Map(), "any")).toEqual({ kind: "no_gpu", reason: "no runtime" });
  });

  it("shares memory without overcommitting", () => {
    expect(memoryFraction(1)).toBe(1);
    expect(memoryFraction(3)).toBe(0.33);
    expect(memoryFraction(0)).toBe(1);
  });
});

describe("GPU-unavailable errors", () => {
  it("no GPU anywhere: 400 naming the setup", () => {
    const error = thrown(() => checkGpuRequest([NO_GPUS], "T4"));
    expect(httpStatusOf(error.code)).toBe(400);
    expect(error.details.field).toBe("gpu");
    expect(error.message).toContain("no worker has a GPU");
  });

  it("devices but no passthrough: 400 with the reason", () => {
    const error = thrown(() => checkGpuRequest([{ ...h100s, passthrough: null, unusableReason: "install the toolkit" }], "any"));
    expect(httpStatusOf(error.code)).toBe(400);
    expect(error.message).toContain("install the toolkit");
  });

  it("no such type: 400 listing what there is", () => {
    const error = thrown(() => checkGpuRequest([h100s], "T4"));
    expect(httpStatusOf(error.code)).toBe(400);
    expect(error.message).toContain('"T4"');
    expect(error.message).toContain("H100 80GB HBM3 (80 GiB) ×2");
  });

  it("a servable type passes; all busy past the wait is a 503 to retry", () => {
    expect(() => checkGpuRequest([NO_GPUS, h100s], "h100")).not.toThrow();
    const busy = gpuBusyError("H100", 60);
    expect(httpStatusOf(busy.code)).toBe(503);
    expect(busy.details.retryAfterS).toBeGreaterThan(0);
    expect(busy.message).toContain("60 s");
  });
});

describe("GPU discovery", () => {
  it("reads GPU_DEVICES and refuses malformed entries", () => {
    expect(parseGpuDevices("T4:15360, T4:15360")).toEqual([
      { index: 0, name: "T4", memoryMb: 15360 },
      { index: 1, name: "T4", memoryMb: 15360 },
    ]);
    expect(parseGpuDevices("")).toEqual([]);
    expect(() => parseGpuDevices("T4")).toThrow(/TYPE:MEMORY_MB/);
    expect(() => parseGpuDevices("x".repeat(3000))).toThrow(/2000/);
  });

  it("reads nvidia-smi's CSV", () => {
    expect(parseNvidiaSmi("0, NVIDIA H200, 143771, 565.57.01\n1, NVIDIA H200, 143771, 565.57.01\n")).toEqual({
      devices: [
        { index: 0, name: "NVIDIA H200", memoryMb: 143771 },
        { index: 1, name: "NVIDIA H200", memoryMb: 143771 },
      ],
      driverVersion: "565.57.01",
    });
    expect(parseNvidiaSmi("NVIDIA-SMI has failed").devices).toEqual([]);
  });

  it("prefers nvproxy, then the nvidia runtime, then CDI", () => {
    const host = { containerRuntime: "runsc" as const, runscArgs: ["--nvproxy"], registeredRuntimes: ["runc", "runsc", "nvidia"], cdiEnabled: true };
    expect(choosePassthrough(host).passthrough).toBe("nvproxy");
    expect(choosePassthrough({ ...host, runscArgs: [] }).passthrough).toBe("nvidia-runtime");
    expect(choosePassthrough({ ...host, containerRuntime: "runc" }).passthrough).toBe("nvidia-runtime");
    expect(choosePassthrough({ ...host, runscArgs: [], registeredRuntimes: ["runc"] }).passthrough).toBe("cdi");
    const none = choosePassthrough({ ...host, runscArgs: [], registeredRuntimes: ["runc"], cdiEnabled: false });
    expect(none.passthrough).toBeNull();
    expect(none.reason).toContain("--nvproxy");
  });
});
