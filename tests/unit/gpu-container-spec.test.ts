import { describe, expect, it } from "vitest";
import type { GpuPassthrough } from "@/lib/gpus/gpu-inventory";
import { buildContainerSpec as buildNeutralSpec, type ContainerRequest } from "@/worker/container/build-container-spec";
import { DEFAULT_HARDENING, type HardeningPolicy } from "@/worker/container/hardening-policy";
import { toDockerCreateOptions } from "@/worker/engine/docker-engine";

/** The spec as Docker receives it: what the GPU path must get right is what reaches the engine. */
const buildContainerSpec = (request: ContainerRequest, policy: HardeningPolicy) => toDockerCreateOptions(buildNeutralSpec(request, policy));

const base: ContainerRequest = {
  role: { sandbox: "s1" },
  workerId: "w1",
  instanceId: "i1",
  image: "sandpit/python-gpu",
  memoryMb: 4096,
  cpus: 1,
  containerRuntime: "runsc",
};
const plain = buildContainerSpec(base, DEFAULT_HARDENING);
const withGpu = (passthrough: GpuPassthrough, containerRuntime: "runc" | "runsc" = "runsc") =>
  buildContainerSpec({ ...base, containerRuntime, gpu: { deviceIndex: 1, memoryFraction: 0.5, passthrough } }, DEFAULT_HARDENING);

/** Everything but what a GPU is allowed to change. */
function hardening(spec: ReturnType<typeof buildContainerSpec>) {
  const { Runtime: _runtime, DeviceRequests: _devices, PidsLimit: _pids, ...host } = spec.HostConfig!;
  const { Env: _env, HostConfig: _host, ...rest } = spec;
  return { rest, host };
}

describe("GPU container spec", () => {
  it("changes nothing but the runtime, the device request, the environment (and runc's pids cap)", () => {
    for (const passthrough of ["nvproxy", "nvidia-runtime", "cdi"] as const) {
      const spec = withGpu(passthrough);
      expect(hardening(spec), passthrough).toEqual(hardening(plain));
      expect(spec.Env!.slice(0, plain.Env!.length)).toEqual(plain.Env);
      expect(spec.HostConfig).toMatchObject({
        CapDrop: ["ALL"],
        SecurityOpt: ["no-new-privileges"],
        Privileged: false,
        NetworkMode: "none",
        ReadonlyRootfs: true,
      });
    }
  });

  it("under nvproxy stays in gVisor with the device requested the way --gpus does", () => {
    const spec = withGpu("nvproxy");
    expect(spec.HostConfig!.Runtime).toBe("runsc");
    expect(spec.HostConfig!.PidsLimit).toBe(DEFAULT_HARDENING.runscPidsLimit);
    expect(spec.HostConfig!.DeviceRequests).toEqual([{ Driver: "nvidia", DeviceIDs: ["1"], Capabilities: [["gpu", "compute", "utility"]] }]);
    expect(
      buildContainerSpec(
        { ...base, gpu: { deviceIndex: 0, memoryFraction: 1, passthrough: "nvproxy" } },
        { ...DEFAULT_HARDENING, runscDockerRuntime: "runsc-gpu" },
      ).HostConfig!.Runtime,
    ).toBe("runsc-gpu");
  });

  it("with the NVIDIA runtime runs under it (runc underneath) with runc's pids cap", () => {
    const spec = withGpu("nvidia-runtime");
    expect(spec.HostConfig!.Runtime).toBe("nvidia");
    expect(spec.HostConfig!.PidsLimit).toBe(DEFAULT_HARDENING.pidsLimit);
    expect(spec.HostConfig!.DeviceRequests).toEqual([{ Driver: "nvidia", DeviceIDs: ["1"], Capabilities: [["gpu", "compute", "utility"]] }]);
    expect(spec.Env).toEqual(expect.arrayContaining(["NVIDIA_VISIBLE_DEVICES=1", "NVIDIA_DRIVER_CAPABILITIES=compute,utility"]));
  });

  it("with CDI names the device the CDI way under runc", () => {
    const spec = withGpu("cdi");
    expect(spec.HostConfig!.Runtime).toBe("runc");
    expect(spec.HostConfig!.DeviceRequests).toEqual([{ Driver: "cdi", DeviceIDs: ["nvidia.com/gpu=1"] }]);
  });

  it("gives each sandbox its device as device 0 and its memory share through the frameworks' settings", () => {
    const env = withGpu("nvproxy").Env!;
    expect(env).toEqual(
      expect.arrayContaining([
        "CUDA_VISIBLE_DEVICES=0",
        "SANDPIT_GPU_MEMORY_FRACTION=0.5",
        "XLA_PYTHON_CLIENT_MEM_FRACTION=0.5",
        "TF_FORCE_GPU_ALLOW_GROWTH=true",
      ]),
    );
    expect(plain.Env!.some((entry) => entry.startsWith("CUDA_") || entry.startsWith("NVIDIA_"))).toBe(false);
    expect(plain.HostConfig!.DeviceRequests).toBeUndefined();
  });

  it("mounts a model read-only and names it in MODEL_PATH", () => {
    const spec = buildContainerSpec({ ...base, model: { hostPath: "/srv/models/org/m", name: "org/m" } }, DEFAULT_HARDENING);
    expect(spec.HostConfig!.Mounts).toEqual([{ Type: "bind", Source: "/srv/models/org/m", Target: "/models/org/m", ReadOnly: true }]);
    expect(spec.Env).toContain("MODEL_PATH=/models/org/m");
    expect(plain.Env!.some((entry) => entry.startsWith("MODEL_PATH="))).toBe(false);
  });
});
