import { eq, sql } from "drizzle-orm";
import { ADVISORY_LOCKS, type PostgresDb } from "@/lib/db/open-postgres";
import { runs } from "@/lib/db/postgres-schema";
import type { RunRow } from "@/lib/db/sqlite-schema";
import { servableRuns, type RunningShares, type RunRouting } from "./claim-next-run";
import { ANONYMOUS_OWNER_PREFIX } from "./run-owner";

const NO_LIMIT = Number.MAX_SAFE_INTEGER;
/** A claim that lost its owner's last slot to a concurrent one looks again, this many times, before it waits. */
const CONTENDED_RETRIES = 8;

type Attempt = { kind: "claimed"; run: RunRow } | { kind: "empty" } | { kind: "contended" };

/**
 * claimNextRun for PostgreSQL: the same fair order (the owner with the fewest running runs, ties by its oldest
 * queued run; only runs this worker can serve (servableRuns); each owner under its running limit), but
 * claimers never wait for each other: the candidate row is locked FOR UPDATE SKIP LOCKED, so any number of
 * workers on any number of hosts each take a different run, and a run is never claimed twice (a locked row is
 * skipped; one claimed meanwhile no longer matches `status = 'queued'` when PostgreSQL rechecks it).
 * Running limits: two claimers could both count an owner under its limit and both take one of its runs. With a
 * limit, the claim takes a per-owner advisory lock and recounts (a fresh snapshot) before it updates; a claim that
 * finds the owner full after all tries again, and the owner's runs no longer qualify for it.
 */
export async function claimNextRunPostgres(
  db: PostgresDb,
  workerId: string,
  containerRuntime: string,
  shares?: RunningShares,
  routing: RunRouting = { runtimes: null, newRuns: true },
): Promise<RunRow | undefined> {
  for (let attempt = 0; attempt <= CONTENDED_RETRIES; attempt++) {
    const result = await db.transaction((tx) => attemptClaim(tx as unknown as PostgresDb, workerId, containerRuntime, routing, shares));
    if (result.kind === "claimed") return result.run;
    if (result.kind === "empty") return undefined;
  }
  return undefined;
}

async function attemptClaim(tx: PostgresDb, workerId: string, containerRuntime: string, routing: RunRouting, shares?: RunningShares): Promise<Attempt> {
  const ownerMax = shares?.ownerMaxRunning ?? NO_LIMIT;
  const anonymousMax = shares?.anonymousMaxRunning ?? NO_LIMIT;
  const limitOf = sql`(CASE WHEN left(r.owner_key, ${ANONYMOUS_OWNER_PREFIX.length}) = ${ANONYMOUS_OWNER_PREFIX} THEN ${anonymousMax}::bigint ELSE ${ownerMax}::bigint END)`;
  const { rows } = await tx.execute<{ seq: string; owner_key: string; max_running: string }>(sql`
    SELECT r.seq, r.owner_key, ${limitOf} AS max_running
    FROM runs r
    LEFT JOIN (SELECT owner_key, count(*) AS n FROM runs WHERE status = 'running' GROUP BY owner_key) running
      ON running.owner_key = r.owner_key
    WHERE r.status = 'queued'
      -- Only runs this worker can serve (servableRuns: its runtimes, its own sandboxes' runs, none new while draining).
      AND (${servableRuns(workerId, routing)})
      AND coalesce(running.n, 0) < ${limitOf}
    ORDER BY coalesce(running.n, 0), r.seq
    LIMIT 1
    FOR UPDATE OF r SKIP LOCKED`);
  const candidate = rows[0];
  if (!candidate) return { kind: "empty" };
  const limit = Number(candidate.max_running);
  if (limit < NO_LIMIT) {
    // Claims of one owner's runs take turns from here to commit; the recount sees every claim committed before.
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${ADVISORY_LOCKS.claimOwner}, hashtext(${candidate.owner_key}))`);
    const counted = await tx.execute<{ n: string }>(sql`SELECT count(*) AS n FROM runs WHERE status = 'running' AND owner_key = ${candidate.owner_key}`);
    if (Number(counted.rows[0].n) >= limit) return { kind: "contended" };
  }
  const [run] = await tx
    .update(runs)
    .set({ status: "running", workerId, containerRuntime, claimedAt: Date.now(), attempts: sql`${runs.attempts} + 1` })
    .where(eq(runs.seq, Number(candidate.seq)))
    .returning();
  return { kind: "claimed", run: run as RunRow };
}
