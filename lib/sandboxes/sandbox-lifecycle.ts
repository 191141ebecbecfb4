import { and, asc, eq, inArray, isNotNull, isNull, lt, notInArray } from "drizzle-orm";
import type { SandpitDb } from "@/lib/db/open-database";
import { runs, sandboxes, type SandboxRow, type SandboxStatus } from "@/lib/db/schema";
import { revokeSandboxTokens } from "@/lib/auth/api-tokens";
import { matchesGpuType } from "@/lib/gpus/assign-gpu-slot";
import { NO_GPUS, type GpuInventory } from "@/lib/gpus/gpu-inventory";
import { liveDescendants } from "./nested-budget";

/** How many of the oldest waiting sandboxes a GPU worker looks through for one it can serve. */
const GPU_CLAIM_SCAN = 100;

/**
 * The worker's side of a sandbox's life: claim, ready, failed, expired, ended.
 * A worker claims the oldest waiting sandbox it can serve: one without `gpu`, or one whose GPU type matches a device
 * it can pass to containers. So a GPU sandbox waits for a worker with such a GPU (the web checked at create that one
 * exists) instead of failing on the first worker that looks; a busy slot is waited for after the claim (wait-for-gpu-slot.ts).
 */
export async function claimNextSandbox(db: SandpitDb, workerId: string, gpus: GpuInventory = NO_GPUS): Promise<SandboxRow | undefined> {
  const servesGpus = gpus.passthrough !== null && gpus.devices.length > 0;
  const waiting = and(eq(sandboxes.status, "creating"), isNull(sandboxes.workerId));
  if (!servesGpus) {
    const oldest = db
      .select({ seq: sandboxes.seq })
      .from(sandboxes)
      .where(and(waiting, isNull(sandboxes.gpu)))
      .orderBy(asc(sandboxes.seq))
      .limit(1);
    const [claimed] = await db
      .update(sandboxes)
      .set({ workerId })
      .where(and(inArray(sandboxes.seq, oldest), isNull(sandboxes.workerId)))
      .returning();
    return claimed;
  }
  const candidates = await db
    .select({ seq: sandboxes.seq, gpu: sandboxes.gpu })
    .from(sandboxes)
    .where(waiting)
    .orderBy(asc(sandboxes.seq))
    .limit(GPU_CLAIM_SCAN);
  for (const candidate of candidates) {
    if (candidate.gpu && !gpus.devices.some((device) => matchesGpuType(candidate.gpu!, device.name))) continue;
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

/** Claimed sandboxes whose worker is gone: their containers went with it (or will be reaped). */
export async function failOrphanedSandboxes(db: SandpitDb, liveWorkers: Set<string>): Promise<SandboxRow[]> {
  return db
    .update(sandboxes)
    .set({ status: "error", error: "the worker holding this sandbox stopped", endedAt: Date.now() })
    .where(
      and(
        inArray(sandboxes.status, ["creating", "ready"]),
        isNotNull(sandboxes.workerId),
        liveWorkers.size ? notInArray(sandboxes.workerId, [...liveWorkers]) : undefined,
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
