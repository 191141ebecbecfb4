/**
 * Hardening settings as data, secure by default. build-container-spec.ts is the one place that turns
 * a policy and a run into a Docker create request; nothing else decides how a sandbox is confined.
 */
export type HardeningPolicy = {
  user: string;
  workDir: string;
  readOnlyRoot: boolean;
  network: "none";
  capDrop: string[];
  securityOpt: string[];
  pidsLimit: number;
  cpus: number;
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
  // Docker applies its default seccomp profile unless told otherwise; we never pass seccomp=unconfined.
  securityOpt: ["no-new-privileges"],
  pidsLimit: 128,
  cpus: 1,
  tmpfsMb: 64,
  tmpfsInodes: 16384,
  nofile: 256,
  fsizeMb: 64,
  oomScoreAdj: 1000,
  env: ["PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/sandbox", "LANG=C.UTF-8", "USER=sandbox"],
};
