/**
 * Hardening settings as data, secure by default. build-container-spec.ts is the one place that turns
 * a policy and a request into a ContainerSpec; nothing else decides how a container is confined.
 */
export type HardeningPolicy = {
  user: string;
  workDir: string;
  readOnlyRoot: boolean;
  network: "none";
  capDrop: string[];
  noNewPrivileges: boolean;
  /** Host pids (processes and threads) of one container under runc: the program's own. */
  pidsLimit: number;
  /**
   * The same cap under gVisor, where the container's pids cgroup also holds the Sentry's and gofer's host
   * threads: about 40 when idle and about 11 more per process started through the engine (ptrace platform).
   * At 128 a sandbox running a handful of processes lost its Sentry and died whole.
   */
  runscPidsLimit: number;
  /** The Docker runtime gVisor sandboxes run under (as registered in daemon.json by scripts/host-setup.sh). */
  runscDockerRuntime: string;
  tmpfsMb: number;
  /** Files per tmpfs: without a cap, empty files cost host kernel memory that `tmpfsMb` does not count (runc). */
  tmpfsInodes: number;
  nofile: number;
  fsizeMb: number;
  oomScoreAdj: number;
  /** The only variables a program sees (the image adds its runtime's own, never the worker's). */
  env: string[];
};

export const SANDBOX_UID = 1000;

export const DEFAULT_HARDENING: HardeningPolicy = {
  user: `${SANDBOX_UID}:${SANDBOX_UID}`,
  workDir: "/sandbox",
  readOnlyRoot: true,
  network: "none",
  capDrop: ["ALL"],
  // The engine's default seccomp profile always applies (ContainerSpec has no way to turn it off).
  noNewPrivileges: true,
  pidsLimit: 128,
  runscPidsLimit: 512,
  runscDockerRuntime: "runsc",
  tmpfsMb: 64,
  tmpfsInodes: 16384,
  nofile: 256,
  fsizeMb: 64,
  oomScoreAdj: 1000,
  env: ["PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/sandbox", "LANG=C.UTF-8", "USER=sandbox"],
};
