import { and, asc, eq, inArray, isNotNull, isNull, lt, notInArray } from "drizzle-orm";
import type { SandpitDb } from "@/lib/db/open-database";
import { runs, sandboxes, type SandboxRow, type SandboxStatus } from "@/lib/db/schema";
import { revokeSandboxTokens } from "@/lib/auth/api-tokens";
import { NO_GPUS } from "@/lib/gpus/gpu-inventory";
import { servesGpuType, type SandboxRouting } from "@/lib/workers/sandbox-routing";
import { workersBeatenSince } from "@/lib/workers/worker-registry";
import { liveDescendants } from "./nested-budget";

/** How many of the oldest waiting sandboxes a worker looks through for one it can serve. */
const CLAIM_SCAN = 100;

/**
 * The worker's side of a sandbox's life: claim, ready, failed, expired, ended.
 * A worker claims the oldest waiting sandbox it can serve (lib/workers/sandbox-routing.ts): of a runtime whose image
 * it has, without `gpu` or with a GPU type matching a device it can pass to containers, and not one it defers to a
 * worker that has the sandbox's requirements image built. So a GPU sandbox waits for a worker with such a GPU (the
 * web checked at create that one exists) instead of failing on the first worker that looks; a busy slot is waited
 * for after the claim (wait-for-gpu-slot.ts).
 */
export async function claimNextSandbox(
  db: SandpitDb,
  workerId: string,
  routing: SandboxRouting = { gpus: NO_GPUS, runtimes: null },
): Promise<SandboxRow | undefined> {
  const servesGpus = routing.gpus.passthrough !== null && routing.gpus.devices.length > 0;
  if (routing.runtimes?.length === 0) return undefined;
  const candidates = await db
    .select({ seq: sandboxes.seq, runtime: sandboxes.runtime, gpu: sandboxes.gpu, requirements: sandboxes.requirements, createdAt: sandboxes.createdAt })
    .from(sandboxes)
    .where(
      and(
        eq(sandboxes.status, "creating"),
        isNull(sandboxes.workerId),
        routing.runtimes ? inArray(sandboxes.runtime, [...routing.runtimes]) : undefined,
        servesGpus ? undefined : isNull(sandboxes.gpu),
      ),
    )
    .orderBy(asc(sandboxes.seq))
    .limit(CLAIM_SCAN);
  const now = Date.now();
  for (const candidate of candidates) {
    if (!servesGpuType(routing.gpus, candidate.gpu) || routing.defer?.(candidate, now)) continue;
    const [claimed] = await db
      .update(sandboxes)
      .set({ workerId })
      .where(and(eq(sandboxes.seq, candidate.seq), isNull(sandboxes.workerId)))
      .returning();
    if (claimed) return claimed;
  }
  return undefined;
}

export async function markSandboxReady(db: SandpitDb, id: string, containerId: string, requirementsCached: boolean): Promise<SandboxRow | undefined> {
  const [sandbox] = await db.select().from(sandboxes).where(eq(sandboxes.id, id)).limit(1);
  if (!sandbox) return undefined;
  const now = Date.now();
  let expiresAt = now + sandbox.lifetimeMs;
  if (sandbox.parentSandboxId) {
    // A child never outlives its parent; one whose parent ended while it was being made is not made ready.
    const [parent] = await db.select().from(sandboxes).where(eq(sandboxes.id, sandbox.parentSandboxId)).limit(1);
    if (!parent || parent.status !== "ready") return undefined;
    expiresAt = Math.min(expiresAt, parent.expiresAt);
  }
  const [ready] = await db
    .update(sandboxes)
    .set({ status: "ready", containerId, requirementsCached, readyAt: now, expiresAt })
    .where(and(eq(sandboxes.id, id), eq(sandboxes.status, "creating")))
    .returning();
  return ready;
}

export async function endSandbox(
  db: SandpitDb,
  id: string,
  status: Extract<SandboxStatus, "error" | "expired" | "deleted">,
  error: string | null = null,
  errorKind: SandboxRow["errorKind"] = error ? "platform" : null,
): Promise<SandboxRow | undefined> {
  const [ended] = await db
    .update(sandboxes)
    .set({ status, error, errorKind, endedAt: Date.now() })
    .where(and(eq(sandboxes.id, id), inArray(sandboxes.status, ["creating", "ready"])))
    .returning();
  return ended;
}

/**
 * Ends a sandbox and every live sandbox below it (those as `deleted`: their parent took them with it), and
 * revokes their tokens. Returns the rows it ended, the sandbox itself first when it was still live.
 * Single statements in an order where stopping between any two is harmless (no transaction: PostgreSQL mode):
 * the tree is read, the tokens revoked (nothing in the tree can act any more), the descendants ended in one
 * UPDATE, the sandbox itself last. Stopped early, the sandbox is still live and still due: the caller's retry
 * or the worker's expiry sweep (dueSandboxes) ends it again. A child made after the tree was read is left live
 * under an ended parent; the worker's orphanedChildren sweep ends it.
 */
export async function endSandboxTree(
  db: SandpitDb,
  id: string,
  status: Extract<SandboxStatus, "error" | "expired" | "deleted">,
  error: string | null = null,
): Promise<SandboxRow[]> {
  const descendants = await liveDescendants(db, id);
  const descendantIds = descendants.map((row) => row.id);
  await revokeSandboxTokens(db, [id, ...descendantIds]);
  const endedBelow = descendantIds.length
    ? await db
        .update(sandboxes)
        .set({ status: "deleted", error: `its parent sandbox ${id} was ${status}`, errorKind: null, endedAt: Date.now() })
        .where(and(inArray(sandboxes.id, descendantIds), inArray(sandboxes.status, ["creating", "ready"])))
        .returning()
    : [];
  const top = await endSandbox(db, id, status, error);
  // Deepest last, as liveDescendants found them.
  endedBelow.sort((a, b) => descendantIds.indexOf(a.id) - descendantIds.indexOf(b.id));
  return top ? [top, ...endedBelow] : endedBelow;
}

/** Live sandboxes of this worker whose parent has ended (a parent ended while its child was being made, or by another worker). */
export async function orphanedChildren(db: SandpitDb, workerId: string): Promise<SandboxRow[]> {
  const children = await db
    .select()
    .from(sandboxes)
    .where(and(eq(sandboxes.workerId, workerId), inArray(sandboxes.status, ["creating", "ready"]), isNotNull(sandboxes.parentSandboxId)));
  if (!children.length) return [];
  const parentIds = [...new Set(children.map((child) => child.parentSandboxId!))];
  const live = await liveSandboxIds(db, parentIds);
  return children.filter((child) => !live.has(child.parentSandboxId!));
}

/** Ready sandboxes of this worker whose lifetime is over. */
export async function dueSandboxes(db: SandpitDb, workerId: string, now = Date.now()): Promise<SandboxRow[]> {
  return db
    .select()
    .from(sandboxes)
    .where(and(eq(sandboxes.workerId, workerId), inArray(sandboxes.status, ["creating", "ready"]), lt(sandboxes.expiresAt, now)));
}

/** The error of a sandbox whose worker died: the same words in the API, the SDKs' exceptions and the logs. */
export const LOST_WORKER_ERROR = "the sandbox lost its worker: the worker holding it stopped or stopped heartbeating, and its container went with it";

/**
 * Claimed sandboxes whose worker is gone end as `error` (LOST_WORKER_ERROR, a platform fault): their containers
 * went with it (or will be reaped). The caller settles what hangs off them (queued runs, tokens).
 */
export async function failOrphanedSandboxes(db: SandpitDb, liveWorkers: Set<string>, judgedAt?: number): Promise<SandboxRow[]> {
  return db
    .update(sandboxes)
    .set({ status: "error", error: LOST_WORKER_ERROR, errorKind: "platform", endedAt: Date.now() })
    .where(
      and(
        inArray(sandboxes.status, ["creating", "ready"]),
        isNotNull(sandboxes.workerId),
        liveWorkers.size ? notInArray(sandboxes.workerId, [...liveWorkers]) : undefined,
        // A worker that has beaten since the judgment is alive (workersBeatenSince).
        judgedAt === undefined ? undefined : notInArray(sandboxes.workerId, workersBeatenSince(db, judgedAt)),
      ),
    )
    .returning();
}

/** Sandbox ids whose container should exist right now (ready, owned by a live worker). */
export async function liveSandboxIds(db: SandpitDb, ids: string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const rows = await db
    .select({ id: sandboxes.id })
    .from(sandboxes)
    .where(and(inArray(sandboxes.id, ids), inArray(sandboxes.status, ["creating", "ready"])));
  return new Set(rows.map((row) => row.id));
}

/** Queued runs of a sandbox that has ended are cancelled with the reason. */
export async function cancelQueuedRunsOf(db: SandpitDb, sandboxId: string, reason: string) {
  return db
    .update(runs)
    .set({ status: "error", error: reason, finishedAt: Date.now() })
    .where(and(eq(runs.sandboxId, sandboxId), eq(runs.status, "queued")))
    .returning();
}

/** Sandboxes a worker holds (being made or ready): a draining worker exits once there are none. */
export async function countLiveSandboxes(db: SandpitDb, workerId: string): Promise<number> {
  const rows = await db
    .select({ id: sandboxes.id })
    .from(sandboxes)
    .where(and(eq(sandboxes.workerId, workerId), inArray(sandboxes.status, ["creating", "ready"])));
  return rows.length;
}
