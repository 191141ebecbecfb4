import { createHash } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { databaseIdentity } from "@/lib/db/database-dialect";
import { fairShareEnvFields, resolveFairShares } from "@/lib/config/fair-share-settings";
import { onOff, parseEnv, positiveInt, resolveSharedSettings, sharedSettingsSchema } from "@/lib/config/shared-settings";

/** The worker process's one validated configuration. */
const workerEnvSchema = sharedSettingsSchema.extend({
  WEB_URL: z.string().url().default("http://127.0.0.1:3000"),
  WORKER_ID: z.string().min(1).max(64).optional(),
  INSTANCE_ID: z.string().min(1).max(64).optional(),
  WORKER_CONCURRENCY: positiveInt(os.availableParallelism()),
  SANDBOX_RUNTIME: z.enum(["auto", "runc", "runsc"]).default("auto"),
  DOCKER_SOCKET: z.string().default("/var/run/docker.sock"),
  IMAGE_PREFIX: z.string().default("sandpit/"),
  OUTPUT_LIMIT_BYTES: positiveInt(1024 * 1024),
  SANDBOX_PIDS_LIMIT: positiveInt(128),
  SANDBOX_RUNSC_PIDS_LIMIT: positiveInt(512),
  // The Docker runtime name that gVisor sandboxes use: `runsc` (setup registers the current build there);
  // `runsc-debian` (Debian's 2022 build, for the benchmark's comparison).
  SANDBOX_RUNSC_DOCKER_RUNTIME: z
    .string()
    .regex(/^[a-z][a-z0-9._-]{0,63}$/)
    .default("runsc"),
  // gVisor allowed to connect to a bind-mounted host Unix socket (--host-uds=open): the requirements fetch step
  // reaches its registry proxy that way. Where Docker lacks it, the fetch step runs under runc.
  REQUIREMENTS_FETCH_DOCKER_RUNTIME: z
    .string()
    .regex(/^[a-z][a-z0-9._-]{0,63}$/)
    .default("runsc-uds"),
  SANDBOX_TMPFS_MB: positiveInt(64),
  SANDBOX_NOFILE: positiveInt(256),
  SANDBOX_FSIZE_MB: positiveInt(64),
  QUEUE_POLL_MS: positiveInt(1000),
  // Warm pool of single-use containers (worker/pool). POOL_MIN idle per runtime at the default limits,
  // up to POOL_MAX per limits when demand calls for it, all within POOL_MEMORY_MB of memory limits.
  POOL_ENABLED: onOff("POOL_ENABLED", "1"),
  POOL_MIN: z.coerce.number().int().min(0).max(64).default(1),
  POOL_MAX: z.coerce.number().int().min(0).max(256).default(4),
  POOL_MEMORY_MB: positiveInt(4096),
  POOL_FILL_CONCURRENCY: positiveInt(2),
  POOL_IDLE_S: positiveInt(60),
  POOL_MAX_AGE_S: positiveInt(600),
  // Limits other than the defaults the pool learns from runs: at most this many, least recently used dropped first.
  POOL_MAX_KEYS: z.coerce.number().int().min(0).max(1000).default(16),
  // Fair shares: the claim holds each owner to its running-runs limit (the web reads the same variables).
  ...fairShareEnvFields,
  // Retention (docs/security.md "Retention"): finished runs older than this are deleted, in batches, every sweep.
  RUN_RETENTION_DAYS: z.coerce.number().positive().default(30),
  RETENTION_SWEEP_S: positiveInt(600),
  WORKER_HEARTBEAT_MS: positiveInt(2000),
  // Silence after which every other worker (on any host) judges this one dead: ends or re-queues its runs and marks
  // its sandboxes lost. At least three heartbeats (checked below), so a missed beat or two never kills a worker.
  WORKER_STALE_AFTER_S: z.coerce.number().int().min(3).max(3600).default(15),
  // How long a sandbox with requirements is left to a worker that has its requirements image built before any
  // worker builds it (lib/workers/sandbox-routing.ts); 0: no preference.
  REQUIREMENTS_AFFINITY_S: z.coerce.number().int().min(0).max(600).default(5),
  // Sandbox requirement images: total size cap (least recently used evicted) and the longest one install may take.
  REQUIREMENTS_CACHE_MB: positiveInt(10240),
  REQUIREMENTS_BUILD_TIMEOUT_S: positiveInt(300),
  // The only package registries requirements come from.
  PIP_INDEX_URL: z.string().url().default("https://pypi.org/simple"),
  NPM_REGISTRY: z.string().url().default("https://registry.npmjs.org/"),
  // Hosts (host[:port], comma-separated) the pip index sends downloads to: with the index's own host, all the
  // requirements fetch proxy lets through for Python.
  PIP_FILE_HOSTS: z
    .string()
    .max(2000)
    .regex(/^[A-Za-z0-9.,:\-\s]*$/, "comma-separated host[:port] entries")
    .default("files.pythonhosted.org"),
  // GPUs by hand (TYPE:MEMORY_MB per device, comma-separated) where discovery cannot see them; empty: discover.
  GPU_DEVICES: z.string().max(2000).default(""),
  // Sandboxes sharing one GPU, each with 1/N of its memory (README "GPU setup"); past that, GPU sandboxes wait.
  GPU_SLOTS_PER_DEVICE: z.coerce.number().int().min(1).max(64).default(1),
  // How long a GPU sandbox waits for a free slot before it fails with a 503.
  GPU_WAIT_S: positiveInt(60),
});

export type WorkerConfig = ReturnType<typeof loadWorkerConfig>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = parseEnv(workerEnvSchema, env, "worker");
  if (parsed.WORKER_STALE_AFTER_S * 1000 < 3 * parsed.WORKER_HEARTBEAT_MS) {
    throw new Error("Invalid worker configuration:\n  WORKER_STALE_AFTER_S: must be at least three heartbeats (3 × WORKER_HEARTBEAT_MS)");
  }
  const shared = resolveSharedSettings(parsed);
  return {
    ...shared,
    // Workers sharing a database are one installation; another database on the same Docker host is another.
    instanceId: parsed.INSTANCE_ID ?? createHash("sha256").update(databaseIdentity(shared.databasePath, shared.databaseUrl)).digest("hex").slice(0, 16),
    webUrl: parsed.WEB_URL.replace(/\/$/, ""),
    workerId: parsed.WORKER_ID ?? `${os.hostname()}-${process.pid}-${Date.now().toString(36)}`,
    concurrency: parsed.WORKER_CONCURRENCY,
    sandboxRuntime: parsed.SANDBOX_RUNTIME,
    dockerSocket: parsed.DOCKER_SOCKET,
    imagePrefix: parsed.IMAGE_PREFIX,
    outputLimitBytes: parsed.OUTPUT_LIMIT_BYTES,
    sandboxLimits: {
      pidsLimit: parsed.SANDBOX_PIDS_LIMIT,
      runscPidsLimit: parsed.SANDBOX_RUNSC_PIDS_LIMIT,
      runscDockerRuntime: parsed.SANDBOX_RUNSC_DOCKER_RUNTIME,
      tmpfsMb: parsed.SANDBOX_TMPFS_MB,
      nofile: parsed.SANDBOX_NOFILE,
      fsizeMb: parsed.SANDBOX_FSIZE_MB,
    },
    queuePollMs: parsed.QUEUE_POLL_MS,
    pool: {
      enabled: parsed.POOL_ENABLED && parsed.POOL_MAX > 0,
      min: Math.min(parsed.POOL_MIN, parsed.POOL_MAX),
      max: parsed.POOL_MAX,
      maxKeys: parsed.POOL_MAX_KEYS,
      memoryBudgetMb: parsed.POOL_MEMORY_MB,
      fillConcurrency: parsed.POOL_FILL_CONCURRENCY,
      idleMs: parsed.POOL_IDLE_S * 1000,
      maxAgeMs: parsed.POOL_MAX_AGE_S * 1000,
      // The web's default run limits (RUN_MEMORY_DEFAULT_MB is a shared setting): the pool keeps containers ready for exactly these.
      defaultLimits: { memoryMb: shared.runMemoryDefaultMb, cpusMilli: 1000 },
    },
    heartbeatMs: parsed.WORKER_HEARTBEAT_MS,
    staleAfterMs: parsed.WORKER_STALE_AFTER_S * 1000,
    gpu: { devices: parsed.GPU_DEVICES, slotsPerDevice: parsed.GPU_SLOTS_PER_DEVICE, waitMs: parsed.GPU_WAIT_S * 1000 },
    runningShares: runningShares(parsed),
    retention: { maxAgeMs: Math.round(parsed.RUN_RETENTION_DAYS * 86_400_000), sweepMs: parsed.RETENTION_SWEEP_S * 1000 },
    requirements: {
      cacheBytes: parsed.REQUIREMENTS_CACHE_MB * 1024 * 1024,
      buildTimeoutMs: parsed.REQUIREMENTS_BUILD_TIMEOUT_S * 1000,
      usageFile: path.join(shared.dataDir, "requirements-cache.json"),
      fetchDockerRuntime: parsed.REQUIREMENTS_FETCH_DOCKER_RUNTIME,
      pipIndexUrl: parsed.PIP_INDEX_URL,
      pipFileHosts: parsed.PIP_FILE_HOSTS.split(",")
        .map((host) => host.trim())
        .filter(Boolean),
      npmRegistry: parsed.NPM_REGISTRY.endsWith("/") ? parsed.NPM_REGISTRY : `${parsed.NPM_REGISTRY}/`,
      affinityGraceMs: parsed.REQUIREMENTS_AFFINITY_S * 1000,
    },
  };
}

function runningShares(parsed: Parameters<typeof resolveFairShares>[0]) {
  const shares = resolveFairShares(parsed);
  return { ownerMaxRunning: shares.owner.maxRunning, anonymousMaxRunning: shares.anonymous.maxRunning };
}
