import { eq, sql, type SQL } from "drizzle-orm";
import { postgresOf, type SandpitDb } from "@/lib/db/open-database";
import { queryRows } from "@/lib/db/query-rows";
import { runs, type RunRow } from "@/lib/db/schema";
import { claimNextRunPostgres } from "./claim-next-run-postgres";
import { ANONYMOUS_OWNER_PREFIX } from "./run-owner";

/** Running-run limits per owner; unset, an owner may fill every slot (but still only in its turn). */
export type RunningShares = { ownerMaxRunning: number; anonymousMaxRunning: number };

const NO_LIMIT = Number.MAX_SAFE_INTEGER;

/**
 * What this worker can take besides its own sandboxes' runs (which only it can serve). `runtimes`: the runtimes
 * whose image its engine has (null: any); `newRuns` false while it drains: it takes only its sandboxes' runs.
 */
export type RunRouting = { runtimes: readonly string[] | null; newRuns: boolean };

const ANY_RUN: RunRouting = { runtimes: null, newRuns: true };

/** Which queued runs this worker may take, as standard SQL (values as placeholders) that any database runs alike. */
export function servableRuns(workerId: string, routing: RunRouting): SQL {
  const { runtimes } = routing;
  let newRuns = sql`0 = 1`;
  if (routing.newRuns && runtimes === null) newRuns = sql`sandbox_id IS NULL`;
  else if (routing.newRuns && runtimes?.length) {
    newRuns = sql`sandbox_id IS NULL AND runtime IN (${sql.join(
      runtimes.map((runtime) => sql`${runtime}`),
      sql`, `,
    )})`;
  }
  // A sandbox's runs execute in its container, so only the worker holding that sandbox may take them.
  return sql`(${newRuns}) OR sandbox_id IN (SELECT id FROM sandboxes WHERE worker_id = ${workerId})`;
}

/**
 * Claims the next run for this worker, fairly: among owners with a queued run this worker may take (`routing`) and fewer
 * running runs than their limit, the owner with the fewest running runs (ties: whose oldest queued run is
 * oldest), and that owner's oldest queued run. So owners take turns (round-robin) and one owner's backlog never
 * holds every slot while others wait. One UPDATE … WHERE status = 'queued' AND seq = (…) … RETURNING statement:
 * SQLite runs it under its write lock, so two workers can never claim the same run. The index
 * runs(status, owner_key, seq) serves both the per-owner running counts and each owner's oldest queued run.
 * PostgreSQL claims in the same order with row locks that claimers skip (claim-next-run-postgres.ts).
 */
export async function claimNextRun(
  db: SandpitDb,
  workerId: string,
  containerRuntime: string,
  shares?: RunningShares,
  routing: RunRouting = ANY_RUN,
): Promise<RunRow | undefined> {
  const postgres = postgresOf(db);
  if (postgres) return claimNextRunPostgres(postgres, workerId, containerRuntime, shares, routing);
  const ownerMax = shares?.ownerMaxRunning ?? NO_LIMIT;
  const anonymousMax = shares?.anonymousMaxRunning ?? NO_LIMIT;
  const [claimed] = await queryRows<{ id: string }>(
    db,
    sql`UPDATE runs SET status = 'running', worker_id = ${workerId}, container_runtime = ${containerRuntime},
               claimed_at = ${Date.now()}, attempts = attempts + 1
        WHERE status = 'queued' AND seq = (
          WITH running AS (
            SELECT owner_key, count(*) AS n FROM runs WHERE status = 'running' GROUP BY owner_key
          ), heads AS (
            -- Only runs this worker can serve (servableRuns).
            SELECT owner_key, min(seq) AS seq FROM runs
            WHERE status = 'queued' AND (${servableRuns(workerId, routing)})
            GROUP BY owner_key
          )
          SELECT heads.seq FROM heads LEFT JOIN running ON running.owner_key = heads.owner_key
          WHERE coalesce(running.n, 0) < (CASE WHEN substr(heads.owner_key, 1, ${ANONYMOUS_OWNER_PREFIX.length}) = ${ANONYMOUS_OWNER_PREFIX}
                                               THEN ${anonymousMax} ELSE ${ownerMax} END)
          ORDER BY coalesce(running.n, 0), heads.seq
          LIMIT 1)
        RETURNING id`,
  );
  if (!claimed) return undefined;
  // The row is ours now; read it back through drizzle for its usual shape.
  const [row] = await db.select().from(runs).where(eq(runs.id, claimed.id)).limit(1);
  return row;
}
