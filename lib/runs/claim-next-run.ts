import type { SandpitDb } from "@/lib/db/open-database";
import type { RunRow } from "@/lib/db/schema";

/**
 * Claims the oldest queued run for this worker. One UPDATE … RETURNING statement: SQLite runs it under
 * its write lock, so two workers can never claim the same run.
 */
export function claimNextRun(db: SandpitDb, workerId: string, containerRuntime: string): RunRow | undefined {
  const row = db.$client
    .prepare(
      `UPDATE runs SET status = 'running', worker_id = ?, container_runtime = ?, claimed_at = ?, attempts = attempts + 1
       WHERE seq = (SELECT seq FROM runs WHERE status = 'queued' ORDER BY seq LIMIT 1) AND status = 'queued'
       RETURNING *`,
    )
    .get(workerId, containerRuntime, Date.now()) as Record<string, unknown> | undefined;
  return row ? rowToRun(row) : undefined;
}

/** Maps a raw snake_case row to drizzle's RunRow shape. */
function rowToRun(row: Record<string, unknown>): RunRow {
  return {
    seq: row.seq as number,
    id: row.id as string,
    runtime: row.runtime as string,
    code: row.code as string,
    stdin: row.stdin as string,
    timeoutMs: row.timeout_ms as number,
    memoryMb: row.memory_mb as number,
    cpus: row.cpus_milli as number,
    status: row.status as RunRow["status"],
    exitCode: row.exit_code as number | null,
    oomKilled: Boolean(row.oom_killed),
    truncated: Boolean(row.truncated),
    error: row.error as string | null,
    workerId: row.worker_id as string | null,
    containerRuntime: row.container_runtime as string | null,
    attempts: row.attempts as number,
    cancelRequested: Boolean(row.cancel_requested),
    outputBytes: row.output_bytes as number,
    queuedAt: row.queued_at as number,
    claimedAt: row.claimed_at as number | null,
    startedAt: row.started_at as number | null,
    firstOutputAt: row.first_output_at as number | null,
    finishedAt: row.finished_at as number | null,
  };
}
