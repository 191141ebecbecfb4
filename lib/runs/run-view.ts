import { asc, eq, gt, and, inArray } from "drizzle-orm";
import { z } from "zod";
import type { SandpitDb } from "@/lib/db/open-database";
import { RUN_STATUSES, runChunks, runs, TERMINAL_STATUSES, type RunChunkRow, type RunRow } from "@/lib/db/schema";
import type { RunChunkEvent, RunEndEvent } from "@/lib/realtime/events";

/** `GET /api/v1/runs/{id}`: a run as the API shows it (the OpenAPI document and the SDKs' types come from this). */
export const runViewSchema = z.object({
  id: z.string(),
  runtime: z.string(),
  status: z.enum(RUN_STATUSES),
  exitCode: z.number().int().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  truncated: z.boolean(),
  oomKilled: z.boolean(),
  durationMs: z.number().nullable(),
  queuedAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  firstOutputAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
  error: z.string().nullable(),
  timeout: z.number().describe("Time limit in seconds."),
  memoryMb: z.number(),
  containerRuntime: z.string().nullable(),
  warm: z.boolean().describe("Whether its container came warm from the pool."),
});
export type RunView = z.infer<typeof runViewSchema>;

/** `POST /api/v1/runs`: queued (without `?wait=1`, or when the wait ran out). */
export const createdRunSchema = z.object({ id: z.string(), status: z.literal("queued"), url: z.string() });
/** `POST /api/v1/runs?wait=1`: the ended run and its share link. */
export const finishedRunSchema = runViewSchema.extend({ url: z.string().describe("Share link of the run.") });
/** `POST /api/v1/runs/{id}/cancel`. */
export const cancelledRunSchema = z.object({ id: z.string(), status: z.enum(RUN_STATUSES) });

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function isTerminal(status: RunRow["status"]): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export async function findRun(db: SandpitDb, id: string): Promise<RunRow | undefined> {
  const [run] = await db.select().from(runs).where(eq(runs.id, id)).limit(1);
  return run;
}

/** Ids per query: well under SQLite's and PostgreSQL's limits on bound parameters. */
const IDS_PER_QUERY = 500;

/** The runs among `ids` that have ended: one query per batch of ids (the missed-end sweep asks about every watched run). */
export async function findEndedRuns(db: SandpitDb, ids: readonly string[]): Promise<RunRow[]> {
  const ended: RunRow[] = [];
  for (let start = 0; start < ids.length; start += IDS_PER_QUERY) {
    const batch = ids.slice(start, start + IDS_PER_QUERY);
    ended.push(
      ...(await db
        .select()
        .from(runs)
        .where(and(inArray(runs.id, batch), inArray(runs.status, [...TERMINAL_STATUSES])))),
    );
  }
  return ended;
}

export async function listChunks(db: SandpitDb, runId: string, afterSeq = -1): Promise<RunChunkRow[]> {
  return db
    .select()
    .from(runChunks)
    .where(and(eq(runChunks.runId, runId), gt(runChunks.seq, afterSeq)))
    .orderBy(asc(runChunks.seq));
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
