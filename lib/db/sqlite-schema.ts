/**
 * The one declaration of every table, in SQLite's terms (times are integer ms, booleans integer 0/1, JSON in text).
 * PostgreSQL mode derives its tables from these (postgres-schema.ts); code imports the tables of its process's
 * dialect from schema.ts.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const RUN_STATUSES = ["queued", "running", "succeeded", "failed", "timed_out", "cancelled", "error"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const TERMINAL_STATUSES: readonly RunStatus[] = ["succeeded", "failed", "timed_out", "cancelled", "error"];

export const runs = sqliteTable(
  "runs",
  {
    // Monotonic position in the queue: FIFO order without trusting clocks.
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    id: text("id").notNull().unique(),
    runtime: text("runtime").notNull(),
    code: text("code").notNull(),
    stdin: text("stdin").notNull().default(""),
    timeoutMs: integer("timeout_ms").notNull(),
    memoryMb: integer("memory_mb").notNull(),
    cpus: integer("cpus_milli").notNull().default(1000),
    model: text("model"),
    /** Set for a run inside a sandbox: it executes in that sandbox's container. */
    sandboxId: text("sandbox_id"),
    /** A shell command to run instead of the code (sandbox runs). */
    command: text("command"),
    /** JSON event passed to a handler (sandbox runs). */
    input: text("input"),
    /** JSON of the handler's result, as the sandbox returned it. */
    response: text("response"),
    tokenId: text("token_id"),
    /** Whose share the run counts against: "token:<id>", or "addr:<client address>" for anonymous runs. */
    ownerKey: text("owner_key").notNull().default(""),
    status: text("status", { enum: RUN_STATUSES }).notNull().default("queued"),
    exitCode: integer("exit_code"),
    oomKilled: integer("oom_killed", { mode: "boolean" }).notNull().default(false),
    truncated: integer("truncated", { mode: "boolean" }).notNull().default(false),
    error: text("error"),
    workerId: text("worker_id"),
    containerRuntime: text("container_runtime"),
    /** The run got a container from the warm pool. */
    warm: integer("warm", { mode: "boolean" }).notNull().default(false),
    /** Docker's id of the run's container (a warm one carries no run label: this is how to find it). */
    containerId: text("container_id"),
    attempts: integer("attempts").notNull().default(0),
    cancelRequested: integer("cancel_requested", { mode: "boolean" }).notNull().default(false),
    outputBytes: integer("output_bytes").notNull().default(0),
    queuedAt: integer("queued_at").notNull(),
    claimedAt: integer("claimed_at"),
    startedAt: integer("started_at"),
    firstOutputAt: integer("first_output_at"),
    finishedAt: integer("finished_at"),
  },
  (table) => [
    index("runs_status_seq").on(table.status, table.seq),
    // Fair shares: per-owner counts of queued/running runs and the oldest queued run of each owner.
    index("runs_status_owner_seq").on(table.status, table.ownerKey, table.seq),
    // The token quota (runs in the last minute) and retention (finished before the cutoff).
    index("runs_token_queued_at").on(table.tokenId, table.queuedAt),
    index("runs_finished_at").on(table.finishedAt),
  ],
);

/** Ids of runs deleted by retention: their share pages answer 410 Gone rather than 404 (never existed). */
export const expiredRuns = sqliteTable(
  "expired_runs",
  {
    id: text("id").primaryKey(),
    expiredAt: integer("expired_at").notNull(),
  },
  // The retention sweep prunes old tombstones by age.
  (table) => [index("expired_runs_expired_at").on(table.expiredAt)],
);

/** Output kept as numbered chunks so a late viewer can replay from any offset. */
export const runChunks = sqliteTable(
  "run_chunks",
  {
    runId: text("run_id")
      .notNull()
      .references(() => runs.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    stream: text("stream", { enum: ["stdout", "stderr"] }).notNull(),
    data: text("data").notNull(),
    at: integer("at").notNull(),
  },
  (table) => [primaryKey({ columns: [table.runId, table.seq] })],
);

export const workers = sqliteTable("workers", {
  id: text("id").primaryKey(),
  hostname: text("hostname").notNull(),
  pid: integer("pid").notNull(),
  startedAt: integer("started_at").notNull(),
  heartbeatAt: integer("heartbeat_at")
    .notNull()
    .default(sql`0`),
  gpus: integer("gpus").notNull().default(0),
  /** runc or runsc: what this worker's sandboxes run under. */
  containerRuntime: text("container_runtime"),
  /** JSON `{version, platform, path}` of the registered runsc build when containerRuntime is runsc. */
  gvisor: text("gvisor"),
  /** JSON GpuInventory (lib/gpus/gpu-inventory.ts): devices, passthrough, slots per device. */
  gpuInventory: text("gpu_inventory"),
  /** JSON WorkerCapacity (lib/workers/worker-capacity.ts): runtimes, cores, memory, pool, built images; refreshed with the heartbeat. */
  capacity: text("capacity"),
  /** Silence longer than this (ms) since heartbeatAt means the worker is dead: its own WORKER_STALE_AFTER_S. */
  staleAfterMs: integer("stale_after_ms").notNull().default(15_000),
  /** Set by `npm run worker:drain` (or SIGUSR2): the worker claims nothing new and exits once its work is done. */
  draining: integer("draining", { mode: "boolean" }).notNull().default(false),
});

export type RunRow = typeof runs.$inferSelect;
export type RunChunkRow = typeof runChunks.$inferSelect;

export const SANDBOX_STATUSES = ["creating", "ready", "deleted", "expired", "error"] as const;
export type SandboxStatus = (typeof SANDBOX_STATUSES)[number];

/** A long-lived hardened container that runs can execute in, until deleted or expired. */
export const sandboxes = sqliteTable(
  "sandboxes",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    id: text("id").notNull().unique(),
    name: text("name").notNull(),
    tokenId: text("token_id"),
    runtime: text("runtime").notNull(),
    language: text("language").notNull(),
    code: text("code"),
    command: text("command"),
    memoryMb: integer("memory_mb").notNull(),
    cpus: integer("cpus_milli").notNull(),
    lifetimeMs: integer("lifetime_ms").notNull(),
    env: text("env").notNull().default("{}"),
    requirements: text("requirements").notNull().default("[]"),
    denoFlags: text("deno_flags").notNull().default("[]"),
    files: text("files").notNull().default("[]"),
    model: text("model"),
    gpu: text("gpu"),
    /** The GPU device index the worker assigned (one slot of it), while the sandbox lives. */
    gpuDevice: integer("gpu_device"),
    status: text("status", { enum: SANDBOX_STATUSES }).notNull().default("creating"),
    error: text("error"),
    /** Who the failure is on: `rejected` (the caller's requirements; 400) or `platform` (503). */
    errorKind: text("error_kind", { enum: ["rejected", "platform"] }),
    requirementsCached: integer("requirements_cached", { mode: "boolean" }),
    workerId: text("worker_id"),
    containerId: text("container_id"),
    createdAt: integer("created_at").notNull(),
    readyAt: integer("ready_at"),
    expiresAt: integer("expires_at").notNull(),
    endedAt: integer("ended_at"),
    /** Nesting: the sandbox that created this one (through its channel), the top of its tree, and how far down it is. */
    parentSandboxId: text("parent_sandbox_id"),
    rootSandboxId: text("root_sandbox_id"),
    depth: integer("depth").notNull().default(0),
    /** JSON NestedBudget (lib/sandboxes/nested-budget.ts) when this sandbox may create children; null: no channel. */
    nested: text("nested"),
  },
  (table) => [
    index("sandboxes_status").on(table.status, table.expiresAt),
    index("sandboxes_token_status").on(table.tokenId, table.status),
    index("sandboxes_parent_status").on(table.parentSandboxId, table.status),
  ],
);

/** API tokens: only the SHA-256 of a token is kept. */
export const apiTokens = sqliteTable("api_tokens", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  tokenHash: text("token_hash").notNull().unique(),
  createdAt: integer("created_at").notNull(),
  lastUsedAt: integer("last_used_at"),
  revokedAt: integer("revoked_at"),
  /** A nested sandbox's token: it acts only on this sandbox's descendants, and only while this sandbox lives. */
  sandboxId: text("sandbox_id"),
  expiresAt: integer("expires_at"),
});

export type SandboxRow = typeof sandboxes.$inferSelect;
export type ApiTokenRow = typeof apiTokens.$inferSelect;
