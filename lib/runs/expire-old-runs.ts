import type { SandpitDb } from "@/lib/db/open-database";
import { TERMINAL_STATUSES } from "@/lib/db/schema";

export const RETENTION_BATCH_SIZE = 200;
/** Free pages handed back to the file system after each batch (4 KiB pages: up to 8 MiB). */
const VACUUM_PAGES_PER_BATCH = 2048;

const terminalList = TERMINAL_STATUSES.map((status) => `'${status}'`).join(", ");

/**
 * Deletes one bounded batch of finished runs older than `cutoffMs` (their output chunks go with them by the
 * foreign key's ON DELETE CASCADE) and records their ids in expired_runs, in one transaction, so a share
 * link to one answers 410 Gone, never 404. Then returns freed pages to the file system (auto_vacuum is
 * INCREMENTAL). Returns how many runs it deleted: fewer than the batch size means nothing is left to do.
 */
export function expireOldRuns(db: SandpitDb, cutoffMs: number, batchSize = RETENTION_BATCH_SIZE, now = Date.now()): number {
  const sqlite = db.$client;
  const deleted = sqlite.transaction(() => {
    // runs_finished_at serves the range; queued and running runs have no finished_at and are never taken.
    const ids = sqlite
      .prepare(`SELECT id FROM runs WHERE finished_at < ? AND status IN (${terminalList}) ORDER BY finished_at LIMIT ?`)
      .pluck()
      .all(cutoffMs, batchSize) as string[];
    if (ids.length === 0) return 0;
    const tombstone = sqlite.prepare("INSERT OR IGNORE INTO expired_runs (id, expired_at) VALUES (?, ?)");
    const remove = sqlite.prepare("DELETE FROM runs WHERE id = ?");
    for (const id of ids) {
      tombstone.run(id, now);
      remove.run(id);
    }
    return ids.length;
  })();
  if (deleted > 0) sqlite.pragma(`incremental_vacuum(${VACUUM_PAGES_PER_BATCH})`);
  return deleted;
}

/**
 * Deletes one bounded batch of tombstones recorded before `cutoffMs`: a share link answers 410 for one more
 * retention period after its run was deleted, then 404 like an id that never existed, so the table stays bounded.
 * Returns how many it deleted.
 */
export function pruneTombstones(db: SandpitDb, cutoffMs: number, batchSize = RETENTION_BATCH_SIZE): number {
  return db.$client
    .prepare("DELETE FROM expired_runs WHERE id IN (SELECT id FROM expired_runs WHERE expired_at < ? ORDER BY expired_at LIMIT ?)")
    .run(cutoffMs, batchSize).changes;
}

/** True when the id belonged to a run that retention deleted (as opposed to one that never existed). */
export function isExpiredRun(db: SandpitDb, id: string): boolean {
  return db.$client.prepare("SELECT 1 FROM expired_runs WHERE id = ?").get(id) !== undefined;
}
