import { and, eq, sql } from "drizzle-orm";
import type { SandpitDb } from "@/lib/db/open-database";
import { runChunks, runs, type RunRow } from "@/lib/db/schema";
import type { OutputStream, RunChunkEvent } from "@/lib/realtime/events";

/** The worker's writes while a run executes. */
export function markRunStarted(db: SandpitDb, runId: string, started: { startedAt: number; warm: boolean; containerId: string | null }): void {
  db.update(runs).set(started).where(eq(runs.id, runId)).run();
}

export function appendRunOutput(db: SandpitDb, runId: string, seq: number, stream: OutputStream, data: string, byteCount: number): RunChunkEvent {
  const at = Date.now();
  db.transaction((tx) => {
    tx.insert(runChunks).values({ runId, seq, stream, data, at }).run();
    tx.update(runs)
      .set({ outputBytes: sql`${runs.outputBytes} + ${byteCount}`, firstOutputAt: sql`coalesce(${runs.firstOutputAt}, ${at})` })
      .where(eq(runs.id, runId))
      .run();
  });
  return { type: "chunk", runId, seq, stream, data, at };
}

export type RunOutcome = Pick<RunRow, "status" | "exitCode" | "oomKilled" | "truncated" | "error"> & { response?: string | null };

/**
 * Records the end of a run, once: a run already terminal (cancelled while queued, say) is left as it is.
 * `.all()`, never `.get()`, on UPDATE … RETURNING (everywhere): `.get()` stops after the first row and
 * never sees the commit fail, so on a full disk it returned a row for an update that was rolled back.
 */
export function finishRun(db: SandpitDb, runId: string, outcome: RunOutcome): RunRow | undefined {
  return db
    .update(runs)
    .set({ ...outcome, finishedAt: Date.now() })
    .where(and(eq(runs.id, runId), eq(runs.status, "running")))
    .returning()
    .all()[0];
}

export function isCancelRequested(db: SandpitDb, runId: string): boolean {
  return db.select({ flag: runs.cancelRequested }).from(runs).where(eq(runs.id, runId)).get()?.flag ?? false;
}
