/**
 * What a container is, in the worker's own words: built by buildContainerSpec (the one place that decides
 * it), turned into an engine's request only by that engine (worker/engine/docker-engine.ts for Docker).
 * Every confinement decision is a field here, so an engine adds none of its own and drops none.
 */
export type ContainerSpec = {
  image: string;
  cmd: string[];
  /** The only variables the process sees besides those the image sets. */
  env: string[];
  /** "uid:gid". */
  user: string;
  workDir: string;
  /**
   * stdin, stdout and stderr attached before start, stdin closed once its writer ends: the warm agent reads
   * the code from it. False for a long-lived sandbox, whose processes are exec'd.
   */
  stdin: boolean;
  labels: Record<string, string>;
  /** The engine's name for the OCI runtime: "runc", or a gVisor runtime ("runsc", "runsc-uds", ...). */
  runtime: string;
  limits: ContainerLimits;
  /** The kernel's OOM killer picks this container first (1000: always before anything on the host). */
  oomScoreAdj: number;
  readOnlyRoot: boolean;
  /** The only writable places: memory-backed and size-capped. */
  tmpfs: TmpfsMount[];
  /** Linux capabilities dropped ("ALL"). */
  capDrop: string[];
  noNewPrivileges: boolean;
  /** The engine's default syscall filter; there is no way to ask for none. */
  seccomp: "engine-default";
  /** No network interface but loopback. */
  network: "none";
  /** A private IPC namespace (no shared memory with the host or other containers). */
  ipc: "private";
  /** Host folders, read-only: a model from the store, a registry proxy's socket folder. */
  mounts: BindMount[];
  /** Host devices passed in (a GPU sandbox's one GPU; see attach-model-and-gpu.ts); absent: none. */
  devices?: DeviceRequest[];
};

/**
 * A device by the engine's device driver: "nvidia" (the NVIDIA runtime's or gVisor nvproxy's device request, ids
 * are GPU indexes) or "cdi" (Container Device Interface names such as nvidia.com/gpu=0).
 */
export type DeviceRequest = { driver: "nvidia" | "cdi"; ids: string[]; capabilities?: string[][] };

export type ContainerLimits = {
  memoryBytes: number;
  /** Swap on top of memory: 0, so a memory bomb is OOM-killed instead of thrashing the host. */
  swapBytes: number;
  cpus: number;
  /** Processes and threads (host pids; under gVisor the Sentry's and gofer's threads count too). */
  pids: number;
  /** Open files per process. */
  nofile: number;
  /** The largest file a process may write. */
  fsizeBytes: number;
  /** Size of /dev/shm. */
  shmBytes: number;
};

export type TmpfsMount = {
  path: string;
  sizeMb: number;
  /** Files at most: without a cap, empty files cost host kernel memory that `sizeMb` does not count (runc). */
  inodes: number;
  /** Octal permission bits of the mount's root, like "0700". */
  mode: string;
  owner?: { uid: number; gid: number };
  exec: boolean;
  nosuid: boolean;
  nodev: boolean;
};

export type BindMount = { source: string; target: string; readOnly: true };
