import { asc, eq, gt, and } from "drizzle-orm";
import type { SandpitDb } from "@/lib/db/open-database";
import { runChunks, runs, TERMINAL_STATUSES, type RunChunkRow, type RunRow } from "@/lib/db/schema";
import type { RunChunkEvent, RunEndEvent } from "@/lib/realtime/events";

export type RunView = {
  id: string;
  runtime: string;
  status: RunRow["status"];
  exitCode: number | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  oomKilled: boolean;
  durationMs: number | null;
  queuedAt: string;
  startedAt: string | null;
  firstOutputAt: string | null;
  finishedAt: string | null;
  error: string | null;
  timeout: number;
  memoryMb: number;
  containerRuntime: string | null;
  /** Whether its container came warm from the pool. */
  warm: boolean;
};

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function isTerminal(status: RunRow["status"]): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export function findRun(db: SandpitDb, id: string): RunRow | undefined {
  return db.select().from(runs).where(eq(runs.id, id)).get();
}

export function listChunks(db: SandpitDb, runId: string, afterSeq = -1): RunChunkRow[] {
  return db
    .select()
    .from(runChunks)
    .where(and(eq(runChunks.runId, runId), gt(runChunks.seq, afterSeq)))
    .orderBy(asc(runChunks.seq))
    .all();
}

export function runDurationMs(run: Pick<RunRow, "startedAt" | "finishedAt">): number | null {
  return run.startedAt !== null && run.finishedAt !== null ? run.finishedAt - run.startedAt : null;
}

export function toRunView(run: RunRow, chunks: RunChunkRow[]): RunView {
  const joined = (stream: "stdout" | "stderr") =>
    chunks
      .filter((chunk) => chunk.stream === stream)
      .map((chunk) => chunk.data)
      .join("");
  return {
    id: run.id,
    runtime: run.runtime,
    status: run.status,
    exitCode: run.exitCode,
    stdout: joined("stdout"),
    stderr: joined("stderr"),
    truncated: run.truncated,
    oomKilled: run.oomKilled,
    durationMs: runDurationMs(run),
    queuedAt: iso(run.queuedAt)!,
    startedAt: iso(run.startedAt),
    firstOutputAt: iso(run.firstOutputAt),
    finishedAt: iso(run.finishedAt),
    error: run.error,
    timeout: run.timeoutMs / 1000,
    memoryMb: run.memoryMb,
    containerRuntime: run.containerRuntime,
    warm: run.warm,
  };
}

export function toChunkEvent(chunk: RunChunkRow): RunChunkEvent {
  return { type: "chunk", runId: chunk.runId, seq: chunk.seq, stream: chunk.stream, data: chunk.data, at: chunk.at };
}

export function toEndEvent(run: RunRow): RunEndEvent {
  return {
    type: "end",
    runId: run.id,
    status: run.status,
    exitCode: run.exitCode,
    oomKilled: run.oomKilled,
    truncated: run.truncated,
    error: run.error,
    queuedAt: run.queuedAt,
    startedAt: run.startedAt,
    firstOutputAt: run.firstOutputAt,
    finishedAt: run.finishedAt,
    durationMs: runDurationMs(run),
  };
}
