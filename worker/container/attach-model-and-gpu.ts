import type { GpuPassthrough } from "@/lib/gpus/gpu-inventory";
import type { ContainerSpec, DeviceRequest } from "./container-spec";
import type { HardeningPolicy } from "./hardening-policy";

export const MODELS_MOUNT = "/models";

/** A GPU slot the worker assigned (lib/gpus/assign-gpu-slot.ts) and how this host passes devices. */
export type GpuGrant = { deviceIndex: number; memoryFraction: number; passthrough: GpuPassthrough };

const GPU_CAPABILITIES = [["gpu", "compute", "utility"]];

/**
 * The only additions a model or a GPU makes to a container; every hardening setting stays as
 * build-container-spec.ts made it (tests/unit/gpu-container-spec.test.ts holds that).
 * - model: its store folder bind-mounted read-only at /models/NAME, named by MODEL_PATH;
 * - GPU: one device, passed by gVisor's nvproxy (runsc) or by the NVIDIA runtime or CDI (runc), with each
 *   framework's own memory share settings from the environment.
 */
export function attachModelAndGpu(
  request: { model?: { hostPath: string; name: string }; gpu?: GpuGrant },
  policy: HardeningPolicy,
  spec: ContainerSpec,
): ContainerSpec {
  const env = [...spec.env];
  const mounts = [...spec.mounts];
  let { runtime, limits } = spec;
  let devices: DeviceRequest[] | undefined;
  if (request.model) {
    const target = `${MODELS_MOUNT}/${request.model.name}`;
    mounts.unshift({ source: request.model.hostPath, target, readOnly: true });
    env.push(`MODEL_PATH=${target}`);
  }
  if (request.gpu) {
    const { deviceIndex, memoryFraction, passthrough } = request.gpu;
    if (passthrough === "nvproxy") {
      // gVisor takes the device request as `--gpus` does and proxies the driver (runsc registered with --nvproxy).
      runtime = policy.runscDockerRuntime;
      devices = [{ driver: "nvidia", ids: [String(deviceIndex)], capabilities: GPU_CAPABILITIES }];
    } else {
      // runc: the host kernel is shared, as for every runc sandbox; the pids cap is runc's.
      limits = { ...limits, pids: policy.pidsLimit };
      if (passthrough === "cdi") {
        runtime = "runc";
        devices = [{ driver: "cdi", ids: [`nvidia.com/gpu=${deviceIndex}`] }];
      } else {
        runtime = "nvidia";
        devices = [{ driver: "nvidia", ids: [String(deviceIndex)], capabilities: GPU_CAPABILITIES }];
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
  return { ...spec, env, mounts, runtime, limits, ...(devices ? { devices } : {}) };
}
