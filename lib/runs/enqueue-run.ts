import type { SandpitDb } from "@/lib/db/open-database";
import { runs, type RunRow } from "@/lib/db/schema";
import { assertRunQuota } from "@/lib/auth/token-limits";
import { newRunId } from "@/lib/ids/new-run-id";
import { wakeWorkers } from "@/lib/realtime/web-bus";
import { assertOwnerShare, type FairShareSettings } from "./check-owner-share";
import { assertQueueCapacity } from "./check-queue-capacity";
import { withAdmissionLock } from "./admission-lock";
import type { RunOwner } from "./run-owner";

/**
 * The limits a run must pass to be queued; each is off when unset (unit tests set the one they test).
 * `runsPerMinute`: per API token; `shares`: queued runs per owner; `maxQueuedRuns`: the whole queue.
 */
export type AdmissionSettings = { runsPerMinute?: number; shares?: FairShareSettings; maxQueuedRuns?: number };

/** Who asks: the owner whose fair share the run counts against, and the API token (null: anonymous). */
export type RunRequester = { owner: RunOwner; tokenId: string | null };

/** A validated run, as its caller decided it; enqueueRun adds the id, the owner and the queue position. */
export type RunToQueue = Pick<
  typeof runs.$inferInsert,
  "runtime" | "code" | "stdin" | "timeoutMs" | "memoryMb" | "cpus" | "model" | "sandboxId" | "command" | "input"
>;

/**
 * The one admission check, in one order for every way a run is queued: the token's runs per minute, the owner's
 * share, the queue's capacity. Each refusal is a `rate_limited` error with its own Retry-After. The caller has
 * validated the run already (so bad input is a 400 even when the queue is full).
 */
async function admitRun(db: SandpitDb, settings: AdmissionSettings, requester: RunRequester, now = Date.now()): Promise<void> {
  if (requester.tokenId && settings.runsPerMinute !== undefined) await assertRunQuota(db, requester.tokenId, settings.runsPerMinute, now);
  if (settings.shares) await assertOwnerShare(db, settings.shares, requester.owner, now);
  if (settings.maxQueuedRuns !== undefined) await assertQueueCapacity(db, settings.maxQueuedRuns, now);
}

/**
 * Queues a run: admission, insert, and the worker wake-up, for the API, the server actions, sandbox runs and
 * file transfers alike. Admission and insert take one turn of the admission lock (admission-lock.ts), so
 * concurrent requests in this process cannot slip past a limit between the count and the insert.
 */
export async function enqueueRun(db: SandpitDb, settings: AdmissionSettings, requester: RunRequester, run: RunToQueue): Promise<RunRow> {
  const queued = await withAdmissionLock(db, () => admitAndInsertRun(db, settings, requester, run));
  wakeWorkers();
  return queued;
}

/** Admission then insert; the caller holds the admission lock. */
async function admitAndInsertRun(db: SandpitDb, settings: AdmissionSettings, requester: RunRequester, run: RunToQueue): Promise<RunRow> {
  const now = Date.now();
  await admitRun(db, settings, requester, now);
  const [queued] = await db
    .insert(runs)
    .values({ ...run, id: newRunId(), status: "queued", tokenId: requester.tokenId, ownerKey: requester.owner.key, queuedAt: now })
    .returning();
  return queued;
}
