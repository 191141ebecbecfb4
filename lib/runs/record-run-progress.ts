import { and, eq, sql } from "drizzle-orm";
import type { SandpitDb } from "@/lib/db/open-database";
import { runChunks, runs, type RunRow } from "@/lib/db/schema";
import type { OutputStream, RunChunkEvent } from "@/lib/realtime/events";

/** The worker's writes while a run executes. */
export async function markRunStarted(db: SandpitDb, runId: string, started: { startedAt: number; warm: boolean; containerId: string | null }): Promise<void> {
  await db.update(runs).set(started).where(eq(runs.id, runId));
}

/**
 * Two statements, no transaction (the same code runs on PostgreSQL's pooled connections): the chunk first, then
 * the counters. A crash between them leaves a chunk the counters miss; output_bytes only feeds the display and the
 * output cap, which then lets at most one chunk more through; the run itself is ended by recovery (recover-orphaned-runs.ts).
 */
export async function appendRunOutput(
  db: SandpitDb,
  runId: string,
  seq: number,
  stream: OutputStream,
  data: string,
  byteCount: number,
): Promise<RunChunkEvent> {
  const at = Date.now();
  await db.insert(runChunks).values({ runId, seq, stream, data, at });
  await db
    .update(runs)
    .set({ outputBytes: sql`${runs.outputBytes} + ${byteCount}`, firstOutputAt: sql`coalesce(${runs.firstOutputAt}, ${at})` })
    .where(eq(runs.id, runId));
  return { type: "chunk", runId, seq, stream, data, at };
}

export type RunOutcome = Pick<RunRow, "status" | "exitCode" | "oomKilled" | "truncated" | "error"> & { response?: string | null };

/**
 * Records the end of a run, once: a run already terminal (cancelled while queued, say) is left as it is.
 * UPDATE … RETURNING is always read whole, then `[0]` (everywhere): better-sqlite3's `.get()` stops after the first
 * row and never sees the commit fail, so on a full disk it returned a row for an update that was rolled back.
 */
export async function finishRun(db: SandpitDb, runId: string, outcome: RunOutcome): Promise<RunRow | undefined> {
  const [finished] = await db
    .update(runs)
    .set({ ...outcome, finishedAt: Date.now() })
    .where(and(eq(runs.id, runId), eq(runs.status, "running")))
    .returning();
  return finished;
}

export async function isCancelRequested(db: SandpitDb, runId: string): Promise<boolean> {
  const [row] = await db.select({ flag: runs.cancelRequested }).from(runs).where(eq(runs.id, runId)).limit(1);
  return row?.flag ?? false;
}
