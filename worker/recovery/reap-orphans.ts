import { and, eq, inArray } from "drizzle-orm";
import type { SandpitDb } from "@/lib/db/open-database";
import { runs } from "@/lib/db/schema";
import type { RunEvent, SandboxEvent } from "@/lib/realtime/events";
import { revokeSandboxTokens } from "@/lib/auth/api-tokens";
import { recoverOrphanedRuns } from "@/lib/runs/recover-orphaned-runs";
import { cancelQueuedRunsOf, failOrphanedSandboxes, liveSandboxIds } from "@/lib/sandboxes/sandbox-lifecycle";
import { toEndEvent } from "@/lib/runs/run-view";
import { forgetDeadWorkers, judgeWorkers } from "@/lib/workers/worker-registry";
import type { ContainerEngine } from "../engine/container-engine";
import { reapStrayRunscSandboxes } from "./reap-runsc-sandboxes";

/** Pooled containers seen stopped by the previous reaping pass, and by this one so far. */
const seenStopped = new Set<string>();
let stoppedNow = new Set<string>();

function stoppedTwice(id: string, running: boolean): boolean {
  if (running) return false;
  stoppedNow.add(id);
  return seenStopped.has(id);
}

/** Who is reaping: this worker (always alive to itself), and whether it may judge others by heartbeat staleness. */
export type Reaper = {
  workerId: string;
  /** False while this worker's own database connection has been healthy for less than a stale period (judgeWorkers). */
  trustStaleness: boolean;
  publishSandbox?: (event: SandboxEvent) => void;
};

/**
 * Settles what dead workers left behind, on any host: their runs end (or go back to the queue once if they never
 * started), their sandboxes end as `error` (LOST_WORKER_ERROR) with their queued runs and tokens, and their rows
 * go. Then every sandbox container on this engine that belongs to no live run, sandbox or worker's pool is removed.
 */
export async function reapOrphans(db: SandpitDb, engine: ContainerEngine, publish: (event: RunEvent) => void, reaper: Reaper): Promise<void> {
  const { live, dead, judgedAt } = await judgeWorkers(db, reaper.workerId, reaper.trustStaleness);
  const { requeued, failed } = await recoverOrphanedRuns(db, live, judgedAt);
  for (const run of failed) {
    console.warn(`[worker] run ${run.id} was orphaned by worker ${run.workerId}: ${run.status}`);
    publish(toEndEvent(run));
  }
  if (requeued.length) console.warn(`[worker] re-queued ${requeued.length} run(s) that never started`);

  const lost = await failOrphanedSandboxes(db, live, judgedAt);
  for (const sandbox of lost) {
    console.warn(`[worker] sandbox ${sandbox.id} lost its worker ${sandbox.workerId}`);
    reaper.publishSandbox?.({ type: "sandbox", sandboxId: sandbox.id, status: "error", error: sandbox.error });
    for (const run of await cancelQueuedRunsOf(db, sandbox.id, "sandbox error: it lost its worker")) publish(toEndEvent(run));
  }
  if (lost.length)
    await revokeSandboxTokens(
      db,
      lost.map((sandbox) => sandbox.id),
    );
  await forgetDeadWorkers(db, dead);

  const containers = await engine.listManaged();
  const sandboxIds = containers.map((container) => container.sandboxId).filter((id): id is string => Boolean(id));
  const liveSandboxes = await liveSandboxIds(db, sandboxIds);
  const runIds = containers.map((container) => container.runId).filter((id): id is string => Boolean(id));
  const runningHere = runIds.length
    ? await db
        .select({ id: runs.id, workerId: runs.workerId })
        .from(runs)
        .where(and(inArray(runs.id, runIds), eq(runs.status, "running")))
    : [];
  const liveRunIds = new Set(runningHere.filter((run) => run.workerId !== null && live.has(run.workerId)).map((run) => run.id));
  const stray = containers.filter((container) => {
    if (container.sandboxId) return !liveSandboxes.has(container.sandboxId);
    // A warm container belongs to its worker, idle or running a run, until that worker dies; or until it
    // has stopped and stayed stopped past a whole reaping period (a restarted engine stopped it, and the
    // pool's own removal failed while the engine was away). One stopped sighting may be a container
    // between create and start.
    if (container.pooled) return !container.workerId || !live.has(container.workerId) || stoppedTwice(container.id, container.running);
    // A run re-queued from a dead worker may be live again under another worker: its old container is not.
    return !container.runId || !liveRunIds.has(container.runId) || !container.workerId || !live.has(container.workerId);
  });
  seenStopped.clear();
  for (const id of stoppedNow) seenStopped.add(id);
  stoppedNow = new Set();
  await Promise.all(stray.map((container) => engine.remove(container.id).catch(() => {})));
  if (stray.length) console.warn(`[worker] removed ${stray.length} orphaned sandbox container(s)`);
  await reapStrayRunscSandboxes(engine);
}
