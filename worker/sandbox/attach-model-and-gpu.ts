import type Dockerode from "dockerode";
import type { GpuPassthrough } from "@/lib/gpus/gpu-inventory";
import type { HardeningPolicy } from "./hardening-policy";

export const MODELS_MOUNT = "/models";

/** A GPU slot the worker assigned (lib/gpus/assign-gpu-slot.ts) and how this host passes devices. */
export type GpuGrant = { deviceIndex: number; memoryFraction: number; passthrough: GpuPassthrough };

/**
 * The only additions a model or a GPU makes to a sandbox's container; every hardening setting stays as
 * build-container-spec.ts made it (tests/unit/gpu-container-spec.test.ts holds that).
 * - model: its store folder bind-mounted read-only at /models/NAME, named by MODEL_PATH;
 * - GPU: one device, passed by gVisor's nvproxy (runsc) or by the NVIDIA runtime or CDI (runc), with each
 *   framework's own memory share settings from the environment.
 */
export function attachModelAndGpu(
  request: { model?: { hostPath: string; name: string }; gpu?: GpuGrant },
  policy: HardeningPolicy,
  spec: Dockerode.ContainerCreateOptions,
): Dockerode.ContainerCreateOptions {
  const env = [...(spec.Env ?? [])];
  const host: Dockerode.HostConfig = { ...spec.HostConfig, Mounts: [...(spec.HostConfig?.Mounts ?? [])] };
  if (request.model) {
    const target = `${MODELS_MOUNT}/${request.model.name}`;
    host.Mounts!.unshift({ Type: "bind", Source: request.model.hostPath, Target: target, ReadOnly: true });
    env.push(`MODEL_PATH=${target}`);
  }
  if (request.gpu) {
    const { deviceIndex, memoryFraction, passthrough } = request.gpu;
    const capabilities = [["gpu", "compute", "utility"]];
    if (passthrough === "nvproxy") {
      // gVisor takes the device request as `--gpus` does and proxies the driver (runsc registered with --nvproxy).
      host.Runtime = policy.runscDockerRuntime;
      host.DeviceRequests = [{ Driver: "nvidia", DeviceIDs: [String(deviceIndex)], Capabilities: capabilities }];
    } else {
      // runc: the host kernel is shared, as for every runc sandbox; the pids cap is runc's.
      host.PidsLimit = policy.pidsLimit;
      if (passthrough === "cdi") {
        host.Runtime = "runc";
        host.DeviceRequests = [{ Driver: "cdi", DeviceIDs: [`nvidia.com/gpu=${deviceIndex}`] }];
      } else {
        host.Runtime = "nvidia";
        host.DeviceRequests = [{ Driver: "nvidia", DeviceIDs: [String(deviceIndex)], Capabilities: capabilities }];
        env.push(`NVIDIA_VISIBLE_DEVICES=${deviceIndex}`, "NVIDIA_DRIVER_CAPABILITIES=compute,utility");
      }
    }
    env.push(
      // The one device the container sees is its device 0.
      "CUDA_VISIBLE_DEVICES=0",
      // PyTorch has no variable for a memory cap: the GPU image's sitecustomize applies this one
      // (torch.cuda.set_per_process_memory_fraction) when torch is imported.
      `SANDPIT_GPU_MEMORY_FRACTION=${memoryFraction}`,
      "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True",
      `XLA_PYTHON_CLIENT_MEM_FRACTION=${memoryFraction}`,
      "TF_FORCE_GPU_ALLOW_GROWTH=true",
    );
  }
  return { ...spec, Env: env, HostConfig: host };
}
