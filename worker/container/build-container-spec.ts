import type Dockerode from "dockerode";
import { SANDBOX_UID, type HardeningPolicy } from "./hardening-policy";

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
  /** Per-run CPU share; the policy's `cpus` applies when absent. */
  cpus?: number;
  /** A model folder from the store, mounted read-only. */
  model?: { hostPath: string; name: string };
  containerRuntime: "runc" | "runsc";
  /**
   * A requirements fetch step's registry proxy: the host folder holding its Unix socket, bind-mounted
   * read-only (the container's only way out; see worker/sandboxes/registry-proxy.ts).
   */
  registryProxy?: { hostDir: string; mountPath: string };
};

export const MODELS_MOUNT = "/models";

export const LABELS = {
  managed: "sandpit.managed",
  /** One Sandpit installation (database) per value, so two installations on one Docker host never reap each other's sandboxes. */
  instance: "sandpit.instance",
  run: "sandpit.run",
  /** A warm pool container of the worker it names; it belongs to that worker until the worker dies. */
  pool: "sandpit.pool",
  sandbox: "sandpit.sandbox",
  worker: "sandpit.worker",
} as const;

const MB = 1024 * 1024;

/** Every single-use container runs its image's warm agent: it waits for the code on stdin (images/*\/warm). */
export const WARM_AGENT = ["/opt/sandpit/warm"];

/** The one function that decides how a sandbox container is created. */
export function buildContainerSpec(request: ContainerRequest, policy: HardeningPolicy): Dockerode.ContainerCreateOptions {
  const memoryBytes = request.memoryMb * MB;
  const tmpfs = (extra: string) => `rw,nosuid,nodev,exec,size=${policy.tmpfsMb}m,nr_inodes=${policy.tmpfsInodes},${extra}`;
  const { role } = request;
  const singleUse = !("sandbox" in role);
  return {
    Image: request.image,
    // A sandbox idles until runs arrive as exec'd processes; a single-use container's agent waits for its code.
    Cmd: singleUse ? WARM_AGENT : ["sleep", "infinity"],
    User: policy.user,
    WorkingDir: policy.workDir,
    Env: policy.env,
    // stdin carries the code, then the program's own input (see images/base/recv); attached before start.
    AttachStdin: singleUse,
    AttachStdout: singleUse,
    AttachStderr: singleUse,
    OpenStdin: singleUse,
    StdinOnce: singleUse,
    Tty: false,
    NetworkDisabled: true,
    Labels: {
      [LABELS.managed]: "1",
      [LABELS.instance]: request.instanceId,
      [LABELS.worker]: request.workerId,
      ...("run" in role ? { [LABELS.run]: role.run } : "sandbox" in role ? { [LABELS.sandbox]: role.sandbox } : { [LABELS.pool]: "1" }),
    },
    HostConfig: {
      Runtime: request.containerRuntime === "runsc" ? policy.runscDockerRuntime : "runc",
      NetworkMode: policy.network,
      ReadonlyRootfs: policy.readOnlyRoot,
      Tmpfs: {
        [policy.workDir]: tmpfs(`uid=${SANDBOX_UID},gid=${SANDBOX_UID},mode=0700`),
        "/tmp": tmpfs("mode=1777"),
      },
      CapDrop: policy.capDrop,
      SecurityOpt: policy.securityOpt,
      PidsLimit: request.containerRuntime === "runsc" ? policy.runscPidsLimit : policy.pidsLimit,
      Memory: memoryBytes,
      // Equal to Memory: no swap, so a memory bomb is OOM-killed instead of thrashing the host.
      MemorySwap: memoryBytes,
      NanoCpus: Math.round((request.cpus ?? policy.cpus) * 1e9),
      // The only host path a sandbox ever sees: the chosen model, read-only.
      Mounts: [
        ...(request.model ? [{ Type: "bind" as const, Source: request.model.hostPath, Target: `${MODELS_MOUNT}/${request.model.name}`, ReadOnly: true }] : []),
        ...(request.registryProxy ? [{ Type: "bind" as const, Source: request.registryProxy.hostDir, Target: request.registryProxy.mountPath, ReadOnly: true }] : []),
      ],
      Ulimits: [
        { Name: "nofile", Soft: policy.nofile, Hard: policy.nofile },
        { Name: "fsize", Soft: policy.fsizeMb * MB, Hard: policy.fsizeMb * MB },
      ],
      OomScoreAdj: policy.oomScoreAdj,
      IpcMode: "private",
      ShmSize: 16 * MB,
      // Output is streamed over attach and kept by Sandpit; Docker keeping a second copy on disk is waste.
      LogConfig: { Type: "none", Config: {} },
      AutoRemove: false, // we read OOMKilled before removing
      Privileged: false,
    },
  };
}
