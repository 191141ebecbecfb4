/**
 * How a worker hands NVIDIA GPUs to containers:
 * - `nvproxy`: gVisor's runsc registered with `--nvproxy` (the GPU driver's ioctls are proxied; the host kernel is not shared);
 * - `nvidia-runtime`: runc through the NVIDIA Container Toolkit's `nvidia` Docker runtime;
 * - `cdi`: runc with CDI device names (`nvidia.com/gpu=N`, Docker ≥ 25 with CDI enabled).
 */
export const GPU_PASSTHROUGHS = ["nvproxy", "nvidia-runtime", "cdi"] as const;
export type GpuPassthrough = (typeof GPU_PASSTHROUGHS)[number];

export type GpuDevice = { index: number; name: string; memoryMb: number };

/** What one worker reports (workers.gpu_inventory): its devices, how it passes them, and slots per device. */
export type GpuInventory = {
  devices: GpuDevice[];
  driverVersion: string | null;
  passthrough: GpuPassthrough | null;
  slotsPerDevice: number;
  /** Why a host with devices cannot use them (no runtime able to pass them), for the API's answer. */
  unusableReason: string | null;
};

export const NO_GPUS: GpuInventory = { devices: [], driverVersion: null, passthrough: null, slotsPerDevice: 1, unusableReason: null };

const MAX_GPU_DEVICES_CHARS = 2000;
const DEVICE_ENTRY = /^([A-Za-z0-9][A-Za-z0-9 _.-]{0,63}):(\d{1,7})$/;

/**
 * `GPU_DEVICES`: the devices by hand, for hosts where discovery cannot see them: `TYPE:MEMORY_MB` per device,
 * comma-separated, in device index order (`T4:15360,T4:15360`).
 */
export function parseGpuDevices(value: string): GpuDevice[] {
  if (value.length > MAX_GPU_DEVICES_CHARS) throw new Error(`GPU_DEVICES is over ${MAX_GPU_DEVICES_CHARS} characters`);
  if (!value.trim()) return [];
  return value.split(",").map((entry, index) => {
    const match = DEVICE_ENTRY.exec(entry.trim());
    if (!match) throw new Error(`GPU_DEVICES entry ${JSON.stringify(entry.slice(0, 80))} is not TYPE:MEMORY_MB (like T4:15360)`);
    return { index, name: match[1], memoryMb: Number(match[2]) };
  });
}

/** `nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader,nounits` output. */
export function parseNvidiaSmi(output: string): { devices: GpuDevice[]; driverVersion: string | null } {
  const devices: GpuDevice[] = [];
  let driverVersion: string | null = null;
  for (const line of output.slice(0, 64 * 1024).split("\n")) {
    const fields = line.split(",").map((field) => field.trim());
    if (fields.length < 4 || !/^\d+$/.test(fields[0])) continue;
    devices.push({ index: Number(fields[0]), name: fields[1], memoryMb: Number.parseInt(fields[2], 10) || 0 });
    driverVersion ??= fields[3] || null;
  }
  return { devices, driverVersion };
}

/**
 * Which passthrough this host has, best isolation first: nvproxy when the worker's runsc is registered with
 * `--nvproxy`, else the `nvidia` runtime, else CDI. Null (with the reason) when none is there.
 */
export function choosePassthrough(host: { containerRuntime: "runc" | "runsc"; runscArgs: string[]; registeredRuntimes: string[]; cdiEnabled: boolean }): {
  passthrough: GpuPassthrough | null;
  reason: string | null;
} {
  if (host.containerRuntime === "runsc" && host.runscArgs.some((arg) => arg === "--nvproxy" || arg === "--nvproxy=true"))
    return { passthrough: "nvproxy", reason: null };
  if (host.registeredRuntimes.includes("nvidia")) return { passthrough: "nvidia-runtime", reason: null };
  if (host.cdiEnabled) return { passthrough: "cdi", reason: null };
  return {
    passthrough: null,
    reason:
      "the host has NVIDIA devices but no way to pass them to containers: register runsc with --nvproxy, or install the NVIDIA Container Toolkit (nvidia runtime or CDI)",
  };
}
