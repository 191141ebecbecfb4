import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { promisify } from "node:util";
import { choosePassthrough, parseGpuDevices, parseNvidiaSmi, type GpuDevice, type GpuInventory } from "@/lib/gpus/gpu-inventory";
import type { DockerEngine } from "../engine/docker-engine";

const CDI_SPECS = ["/etc/cdi/nvidia.yaml", "/etc/cdi/nvidia.json", "/var/run/cdi/nvidia.yaml", "/var/run/cdi/nvidia.json"];

/**
 * This worker's GPUs: GPU_DEVICES when set, else the NVIDIA device nodes described by nvidia-smi; and how they
 * reach a container (lib/gpus/gpu-inventory.ts choosePassthrough): runsc registered with --nvproxy, Docker's
 * `nvidia` runtime, or an NVIDIA CDI spec.
 */
export async function detectGpus(
  engine: DockerEngine,
  host: { containerRuntime: "runc" | "runsc"; runscDockerRuntime: string; gpuDevices: string; slotsPerDevice: number },
): Promise<GpuInventory> {
  let devices: GpuDevice[] = parseGpuDevices(host.gpuDevices);
  let driverVersion: string | null = null;
  if (!devices.length) {
    let nodes: string[] = [];
    try {
      nodes = readdirSync("/dev").filter((name) => /^nvidia\d+$/.test(name));
    } catch {
      // no /dev listing: no GPUs
    }
    if (nodes.length) {
      const smi = await promisify(execFile)("nvidia-smi", ["--query-gpu=index,name,memory.total,driver_version", "--format=csv,noheader,nounits"], {
        timeout: 10_000,
        maxBuffer: 64 * 1024,
      }).catch(() => null);
      ({ devices, driverVersion } = smi ? parseNvidiaSmi(smi.stdout) : { devices: [], driverVersion: null });
      if (!devices.length) devices = nodes.map((node) => ({ index: Number(node.slice("nvidia".length)), name: "NVIDIA GPU", memoryMb: 0 }));
    }
  }
  if (!devices.length) return { devices, driverVersion, passthrough: null, slotsPerDevice: host.slotsPerDevice, unusableReason: null };
  const runsc = await engine.registeredRuntime(host.runscDockerRuntime);
  const { passthrough, reason } = choosePassthrough({
    containerRuntime: host.containerRuntime,
    runscArgs: runsc?.runtimeArgs ?? [],
    registeredRuntimes: await engine.registeredRuntimes(),
    cdiEnabled: CDI_SPECS.some((file) => existsSync(file)),
  });
  return { devices, driverVersion, passthrough, slotsPerDevice: host.slotsPerDevice, unusableReason: reason };
}
