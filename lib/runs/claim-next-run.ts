import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { SandpitDb } from "@/lib/db/open-database";
import { runs, type RunRow } from "@/lib/db/schema";

/**
 * Claims the oldest queued run for this worker. One UPDATE … WHERE seq IN (oldest) … RETURNING statement:
 * SQLite runs it under its write lock, so two workers can never claim the same run.
 */
export function claimNextRun(db: SandpitDb, workerId: string, containerRuntime: string): RunRow | undefined {
  const oldestQueued = db.select({ seq: runs.seq }).from(runs).where(eq(runs.status, "queued")).orderBy(asc(runs.seq)).limit(1);
  return db
    .update(runs)
    .set({ status: "running", workerId, containerRuntime, claimedAt: Date.now(), attempts: sql`${runs.attempts} + 1` })
    .where(and(inArray(runs.seq, oldestQueued), eq(runs.status, "queued")))
    .returning()
    .get();
}
