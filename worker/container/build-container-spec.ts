import type { ContainerSpec } from "./container-spec";
import { SANDBOX_UID, type HardeningPolicy } from "./hardening-policy";
import { LABELS } from "./labels";
import { attachModelAndGpu, type GpuGrant } from "./attach-model-and-gpu";

/** What the worker asks of a container; buildContainerSpec adds the hardening policy and decides the rest. */
export type ContainerRequest = {
  /**
   * What the container is for: one run (created on demand), the warm pool (it learns its run when
   * taken), or a long-lived sandbox whose runs are exec'd processes.
   */
  role: { run: string } | { pool: true } | { sandbox: string };
  workerId: string;
  instanceId: string;
  image: string;
  memoryMb: number;
  /** CPU share (1 = one core's time). */
  cpus: number;
  /** A model folder from the store, mounted read-only. */
  model?: { hostPath: string; name: string };
  /** A GPU slot for this container (sandboxes only). */
  gpu?: GpuGrant;
  containerRuntime: "runc" | "runsc";
  /**
   * A requirements fetch step's registry proxy: the host folder holding its Unix socket, bind-mounted
   * read-only (the container's only way out; see worker/sandboxes/registry-proxy.ts).
   */
  registryProxy?: { hostDir: string; mountPath: string };
};

const MB = 1024 * 1024;
const SHM_MB = 16;

/** Every single-use container runs its image's warm agent: it waits for the code on stdin (images/*\/warm). */
export const WARM_AGENT = ["/opt/sandpit/warm"];

/** The one function that decides how a container is made (engine-neutral; the engine only translates it). */
export function buildContainerSpec(request: ContainerRequest, policy: HardeningPolicy): ContainerSpec {
  const { role } = request;
  const singleUse = !("sandbox" in role);
  const tmpfs = { sizeMb: policy.tmpfsMb, inodes: policy.tmpfsInodes, exec: true, nosuid: true, nodev: true };
  return attachModelAndGpu(request, policy, {
    image: request.image,
    // A sandbox idles until runs arrive as exec'd processes; a single-use container's agent waits for its code.
    cmd: singleUse ? WARM_AGENT : ["sleep", "infinity"],
    env: policy.env,
    user: policy.user,
    workDir: policy.workDir,
    // stdin carries the code, then the program's own input (see images/base/recv); attached before start.
    stdin: singleUse,
    labels: {
      [LABELS.managed]: "1",
      [LABELS.instance]: request.instanceId,
      [LABELS.worker]: request.workerId,
      ...("run" in role ? { [LABELS.run]: role.run } : "sandbox" in role ? { [LABELS.sandbox]: role.sandbox } : { [LABELS.pool]: "1" }),
    },
    runtime: request.containerRuntime === "runsc" ? policy.runscDockerRuntime : "runc",
    limits: {
      memoryBytes: request.memoryMb * MB,
      swapBytes: 0,
      cpus: request.cpus,
      pids: request.containerRuntime === "runsc" ? policy.runscPidsLimit : policy.pidsLimit,
      nofile: policy.nofile,
      fsizeBytes: policy.fsizeMb * MB,
      shmBytes: SHM_MB * MB,
    },
    oomScoreAdj: policy.oomScoreAdj,
    readOnlyRoot: policy.readOnlyRoot,
    tmpfs: [
      { path: policy.workDir, ...tmpfs, mode: "0700", owner: { uid: SANDBOX_UID, gid: SANDBOX_UID } },
      { path: "/tmp", ...tmpfs, mode: "1777" },
    ],
    capDrop: policy.capDrop,
    noNewPrivileges: policy.noNewPrivileges,
    seccomp: "engine-default",
    network: policy.network,
    ipc: "private",
    // The only host paths a container ever sees: the chosen model (attachModelAndGpu), a fetch step's proxy socket; read-only.
    mounts: request.registryProxy ? [{ source: request.registryProxy.hostDir, target: request.registryProxy.mountPath, readOnly: true as const }] : [],
  });
}
