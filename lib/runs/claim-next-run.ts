import { and, asc, eq, inArray, isNull, or, sql } from "drizzle-orm";
import type { SandpitDb } from "@/lib/db/open-database";
import { runs, sandboxes, type RunRow } from "@/lib/db/schema";

/**
 * Claims the oldest queued run for this worker. One UPDATE … WHERE seq IN (oldest) … RETURNING statement:
 * SQLite runs it under its write lock, so two workers can never claim the same run.
 */
export function claimNextRun(db: SandpitDb, workerId: string, containerRuntime: string): RunRow | undefined {
  // A sandbox's runs execute in its container, so only the worker holding that sandbox may take them.
  const mySandboxes = db.select({ id: sandboxes.id }).from(sandboxes).where(eq(sandboxes.workerId, workerId));
  const oldestQueued = db
    .select({ seq: runs.seq })
    .from(runs)
    .where(and(eq(runs.status, "queued"), or(isNull(runs.sandboxId), inArray(runs.sandboxId, mySandboxes))))
    .orderBy(asc(runs.seq))
    .limit(1);
  return db
    .update(runs)
    .set({ status: "running", workerId, containerRuntime, claimedAt: Date.now(), attempts: sql`${runs.attempts} + 1` })
    .where(and(inArray(runs.seq, oldestQueued), eq(runs.status, "queued")))
    .returning()
    .all()[0];
}
