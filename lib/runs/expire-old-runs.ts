import { and, asc, eq, inArray, lt } from "drizzle-orm";
import { returnFreePages, type SandpitDb } from "@/lib/db/open-database";
import { expiredRuns, runs, TERMINAL_STATUSES } from "@/lib/db/schema";

export const RETENTION_BATCH_SIZE = 200;
/** Free pages handed back to the file system after each batch (4 KiB pages: up to 8 MiB). */
const VACUUM_PAGES_PER_BATCH = 2048;

/**
 * Deletes one bounded batch of finished runs older than `cutoffMs` (their output chunks go with them by the
 * foreign key's ON DELETE CASCADE) and records their ids in expired_runs, so a share link to one answers 410
 * Gone, never 404. Two set-based statements, no transaction (PostgreSQL mode has no shared connection to hold
 * one on): the tombstones first, then the delete of exactly those ids. A crash between them leaves tombstones
 * for runs still there; the next sweep takes the same oldest runs again, the tombstones are skipped
 * (ON CONFLICT DO NOTHING) and the runs deleted. Then returns freed pages to the file system (auto_vacuum is
 * INCREMENTAL). Returns how many runs it deleted: fewer than the batch size means nothing is left to do.
 */
export async function expireOldRuns(db: SandpitDb, cutoffMs: number, batchSize = RETENTION_BATCH_SIZE, now = Date.now()): Promise<number> {
  // runs_finished_at serves the range; queued and running runs have no finished_at and are never taken.
  const batch = await db
    .select({ id: runs.id })
    .from(runs)
    .where(and(lt(runs.finishedAt, cutoffMs), inArray(runs.status, [...TERMINAL_STATUSES])))
    .orderBy(asc(runs.finishedAt))
    .limit(batchSize);
  if (batch.length === 0) return 0;
  const ids = batch.map((row) => row.id);
  await db
    .insert(expiredRuns)
    .values(ids.map((id) => ({ id, expiredAt: now })))
    .onConflictDoNothing();
  // Only terminal runs: the ids were read a moment ago and none can leave a terminal status, but say so.
  const deleted = await db
    .delete(runs)
    .where(and(inArray(runs.id, ids), inArray(runs.status, [...TERMINAL_STATUSES])))
    .returning({ id: runs.id });
  if (deleted.length > 0) returnFreePages(db, VACUUM_PAGES_PER_BATCH);
  return deleted.length;
}

/**
 * Deletes one bounded batch of tombstones recorded before `cutoffMs`: a share link answers 410 for one more
 * retention period after its run was deleted, then 404 like an id that never existed, so the table stays bounded.
 * Returns how many it deleted.
 */
export async function pruneTombstones(db: SandpitDb, cutoffMs: number, batchSize = RETENTION_BATCH_SIZE): Promise<number> {
  const oldest = db
    .select({ id: expiredRuns.id })
    .from(expiredRuns)
    .where(lt(expiredRuns.expiredAt, cutoffMs))
    .orderBy(asc(expiredRuns.expiredAt))
    .limit(batchSize);
  const deleted = await db.delete(expiredRuns).where(inArray(expiredRuns.id, oldest)).returning({ id: expiredRuns.id });
  return deleted.length;
}

/** True when the id belonged to a run that retention deleted (as opposed to one that never existed). */
export async function isExpiredRun(db: SandpitDb, id: string): Promise<boolean> {
  const found = await db.select({ id: expiredRuns.id }).from(expiredRuns).where(eq(expiredRuns.id, id)).limit(1);
  return found.length > 0;
}
