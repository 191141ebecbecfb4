import type { SandpitDb } from "@/lib/db/open-database";
import { runs, sandboxes, type RunRow, type SandboxRow } from "@/lib/db/schema";
import { registerWorker, type WorkerRegistration } from "@/lib/workers/worker-registry";

/**
 * Rows the unit tests set up, as the web would have written them: each a valid row with plain defaults, and every
 * column a test cares about given by the test (`fields` overrides any default). The *Values builders are for a
 * database opened with other tables (claim-next-run-postgres.test.ts's own PostgreSQL connection).
 */
type NewRun = typeof runs.$inferInsert;
type NewSandbox = typeof sandboxes.$inferInsert;

let nextId = 0;

/** A queued run: a bash `true` with 10 s and 256 MB, queued now. */
export function queuedRunValues(fields: Partial<NewRun> = {}): NewRun {
  return { id: `run${nextId++}`, runtime: "bash", code: "true", timeoutMs: 10_000, memoryMb: 256, cpus: 1000, queuedAt: Date.now(), ...fields };
}

/** Inserts a run, queued unless `fields` say otherwise (status, workerId: one a worker has claimed). */
export async function insertRun(db: SandpitDb, fields: Partial<NewRun> = {}): Promise<RunRow> {
  const [run] = await db.insert(runs).values(queuedRunValues(fields)).returning();
  return run;
}

/**
 * A sandbox waiting for a worker: python, 256 MB, one CPU, a minute's lifetime, created now. Its expiresAt is a
 * minute on, whatever the lifetime (a waiting sandbox's is its provisioning deadline; becoming ready sets its own).
 */
export function sandboxValues(fields: Partial<NewSandbox> = {}): NewSandbox {
  const now = Date.now();
  const id = fields.id ?? `sb${nextId++}`;
  return {
    id,
    name: id,
    runtime: "python",
    language: "python",
    memoryMb: 256,
    cpus: 1000,
    lifetimeMs: 60_000,
    createdAt: now,
    expiresAt: now + 60_000,
    ...fields,
  };
}

/** Inserts a sandbox, waiting unless `fields` say otherwise (status "ready" and a workerId: one a worker holds). */
export async function insertSandbox(db: SandpitDb, fields: Partial<NewSandbox> = {}): Promise<SandboxRow> {
  const [sandbox] = await db.insert(sandboxes).values(sandboxValues(fields)).returning();
  return sandbox;
}

/** Registers a worker on this host, as the worker process does at start: no GPUs, the default 15 s stale threshold. */
export async function registerTestWorker(db: SandpitDb, workerId: string, registration: Partial<WorkerRegistration> = {}): Promise<void> {
  await registerWorker(db, workerId, { gpus: 0, staleAfterMs: 15_000, ...registration });
}
