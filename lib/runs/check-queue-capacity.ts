import { and, count, eq, gt, isNotNull } from "drizzle-orm";
import type { SandpitDb } from "@/lib/db/open-database";
import { runs } from "@/lib/db/schema";
import { SandpitError } from "@/lib/errors/sandpit-error";

const THROUGHPUT_WINDOW_MS = 60_000;
const RETRY_AFTER_MIN_S = 1;
const RETRY_AFTER_MAX_S = 60;
/** When nothing finished lately (workers down or all busy with long runs), we cannot estimate: ask for a pause. */
const RETRY_AFTER_UNKNOWN_S = 10;

export async function countQueuedRuns(db: SandpitDb): Promise<number> {
  const [row] = await db.select({ n: count() }).from(runs).where(eq(runs.status, "queued"));
  return row?.n ?? 0;
}

/**
 * Refuses new work once `maxQueuedRuns` runs are waiting: a 429 whose Retry-After is how long the queue,
 * at the rate runs finished in the last minute, takes to make room. Call it right before the insert, under the
 * admission lock (admission-lock.ts), so no other request slips in between.
 */
export async function assertQueueCapacity(db: SandpitDb, maxQueuedRuns: number, now = Date.now()): Promise<void> {
  const queued = await countQueuedRuns(db);
  if (queued < maxQueuedRuns) return;
  const [recent] = await db
    .select({ n: count() })
    .from(runs)
    .where(and(isNotNull(runs.finishedAt), gt(runs.finishedAt, now - THROUGHPUT_WINDOW_MS)));
  const finished = recent?.n ?? 0;
  const toDrain = queued - maxQueuedRuns + 1;
  const retryAfterS =
    finished === 0
      ? RETRY_AFTER_UNKNOWN_S
      : Math.min(RETRY_AFTER_MAX_S, Math.max(RETRY_AFTER_MIN_S, Math.ceil((toDrain * THROUGHPUT_WINDOW_MS) / finished / 1000)));
  throw new SandpitError("rate_limited", `the run queue is full (${queued} runs waiting, limit ${maxQueuedRuns}): try again in ${retryAfterS} s`, {
    retryAfterS,
  });
}
