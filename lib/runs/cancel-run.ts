import { and, eq } from "drizzle-orm";
import type { SandpitDb } from "@/lib/db/open-database";
import { runs } from "@/lib/db/schema";
import { SandpitError } from "@/lib/errors/sandpit-error";
import { webBus, announceRunEnd } from "@/lib/realtime/web-bus";
import { findRun, isTerminal, toEndEvent } from "./run-view";

/**
 * Cancels a run. A queued run is cancelled here and now (atomically, so no worker can claim it after);
 * a running one is flagged and its worker kills the container and records `cancelled`.
 */
export async function cancelRun(db: SandpitDb, id: string): Promise<{ id: string; status: string }> {
  const run = await findRun(db, id);
  if (!run) throw new SandpitError("not_found", `no run with id ${id}`);
  if (isTerminal(run.status)) return { id, status: run.status };

  const now = Date.now();
  const [cancelledWhileQueued] = await db
    .update(runs)
    .set({ status: "cancelled", cancelRequested: true, finishedAt: now, error: null })
    .where(and(eq(runs.id, id), eq(runs.status, "queued")))
    .returning();
  if (cancelledWhileQueued) {
    announceRunEnd(toEndEvent(cancelledWhileQueued));
    webBus().commandWorkers({ type: "cancel", runId: id });
    return { id, status: "cancelled" };
  }

  await db.update(runs).set({ cancelRequested: true }).where(eq(runs.id, id));
  webBus().commandWorkers({ type: "cancel", runId: id });
  return { id, status: (await findRun(db, id))?.status ?? "running" };
}
