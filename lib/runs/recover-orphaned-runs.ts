import { and, eq, isNull, notInArray, or } from "drizzle-orm";
import type { SandpitDb } from "@/lib/db/open-database";
import { runs, type RunRow } from "@/lib/db/schema";
import { workersBeatenSince } from "@/lib/workers/worker-registry";

const MAX_ATTEMPTS = 2;

/**
 * Runs marked running by a worker that is gone. A run whose code never started is queued again (once);
 * one that had started ends in `error` with the reason, since its output may be partial.
 */
export async function recoverOrphanedRuns(db: SandpitDb, liveWorkers: Set<string>, judgedAt?: number): Promise<{ requeued: RunRow[]; failed: RunRow[] }> {
  const alive = [...liveWorkers];
  // `judgedAt`: when `liveWorkers` was judged; a worker that has beaten since is alive (workersBeatenSince).
  const gone = and(
    alive.length ? notInArray(runs.workerId, alive) : undefined,
    judgedAt === undefined ? undefined : notInArray(runs.workerId, workersBeatenSince(db, judgedAt)),
  );
  const orphaned = await db
    .select()
    .from(runs)
    .where(and(eq(runs.status, "running"), gone ? or(isNull(runs.workerId), gone) : undefined));
  const requeued: RunRow[] = [];
  const failed: RunRow[] = [];
  for (const run of orphaned) {
    if (run.startedAt === null && run.attempts < MAX_ATTEMPTS && !run.cancelRequested) {
      const [row] = await db
        .update(runs)
        .set({ status: "queued", workerId: null, claimedAt: null })
        .where(and(eq(runs.id, run.id), eq(runs.status, "running")))
        .returning();
      if (row) requeued.push(row);
    } else {
      const [row] = await db
        .update(runs)
        .set({
          status: run.cancelRequested ? "cancelled" : "error",
          error: run.cancelRequested ? null : `the worker running this run (${run.workerId}) stopped before it finished; output may be incomplete`,
          finishedAt: Date.now(),
        })
        .where(and(eq(runs.id, run.id), eq(runs.status, "running")))
        .returning();
      if (row) failed.push(row);
    }
  }
  return { requeued, failed };
}
