import { statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { SandpitDb } from "@/lib/db/open-database";
import { queryRows } from "@/lib/db/query-rows";
import { runChunks, runs } from "@/lib/db/schema";
import { SandpitError } from "@/lib/errors/sandpit-error";
import { claimNextRun } from "@/lib/runs/claim-next-run";
import { createRun, type RunSettings } from "@/lib/runs/create-run";
import { expireOldRuns, isExpiredRun } from "@/lib/runs/expire-old-runs";
import { addressOwner, tokenOwner } from "@/lib/runs/run-owner";
import { count, eq, sql } from "drizzle-orm";
import { testsOnPostgres } from "../support/postgres";
import { freshDatabaseLocation, openTestDatabase } from "../support/test-database";

const limits = { timeoutDefaultS: 10, timeoutMaxS: 300, memoryDefaultMb: 256, memoryMaxMb: 4096, vcpusMax: 4 };
const shares = {
  owner: { maxQueued: 5, maxRunning: 3 },
  anonymous: { maxQueued: 2, maxRunning: 1, maxTimeoutS: 30, maxMemoryMb: 512, maxVcpus: 1 },
};
const settings: RunSettings = { limits, modelsDir: "/nonexistent", shares };

async function freshDb(): Promise<{ db: SandpitDb; file: string }> {
  const file = await freshDatabaseLocation();
  return { db: await openTestDatabase(file), file };
}

async function queue(db: SandpitDb, owner: string, count: number): Promise<string[]> {
  const who = owner.startsWith("addr:") ? addressOwner(owner.slice(5)) : tokenOwner(owner.slice(6));
  const ids: string[] = [];
  for (let index = 0; index < count; index++) {
    ids.push((await createRun(db, { ...settings, shares: undefined }, { runtime: "bash", code: `echo ${index}` }, null, who)).id);
  }
  return ids;
}

async function ownerOf(db: SandpitDb, id: string): Promise<string> {
  const [row] = await db.select({ owner: runs.ownerKey }).from(runs).where(eq(runs.id, id));
  return row.owner;
}

/** Claims as the worker does, one claim after another, `count` times. */
async function claimIds(db: SandpitDb, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0; n < count; n++) ids.push((await claimNextRun(db, "w", "runc"))!.id);
  return ids;
}

describe("claimNextRun: round-robin across owners", () => {
  it("alternates owners by fewest running, each owner's oldest first", async () => {
    const { db } = await freshDb();
    const a = await queue(db, "token:a", 6);
    const b = await queue(db, "token:b", 2);
    const c = await queue(db, "addr:10.1.1.1", 1);
    const claimed = await claimIds(db, 9);
    // Round 1: a (oldest head), b, c each get one; round 2: a, b; then only a is left.
    expect(claimed).toEqual([a[0], b[0], c[0], a[1], b[1], a[2], a[3], a[4], a[5]]);
    expect(await claimNextRun(db, "w", "runc")).toBeUndefined();
  });

  it("a late owner jumps ahead of a long backlog while the backlog's owner holds a slot", async () => {
    const { db } = await freshDb();
    const backlog = await queue(db, "token:a", 40);
    expect((await claimNextRun(db, "w", "runc"))!.id).toBe(backlog[0]);
    const [hello] = await queue(db, "addr:127.0.0.1", 1);
    expect((await claimNextRun(db, "w", "runc"))!.id).toBe(hello);
    expect((await claimNextRun(db, "w", "runc"))!.id).toBe(backlog[1]);
  });

  it("holds each owner to its running limit, anonymous owners to theirs", async () => {
    const { db } = await freshDb();
    await queue(db, "token:a", 5);
    await queue(db, "addr:10.0.0.9", 3);
    const running = { ownerMaxRunning: 2, anonymousMaxRunning: 1 };
    const claimed: string[] = [];
    for (let run; (run = await claimNextRun(db, "w", "runc", running));) claimed.push(await ownerOf(db, run.id));
    expect(claimed.sort()).toEqual(["addr:10.0.0.9", "token:a", "token:a"]);
    // One of a's runs ends: a may take one more, the anonymous owner (still at its limit) none.
    await queryRows(
      db,
      sql`UPDATE runs SET status = 'succeeded', finished_at = ${Date.now()} WHERE seq = (SELECT min(seq) FROM runs WHERE status = 'running' AND owner_key = 'token:a') RETURNING id`,
    );
    expect(await ownerOf(db, (await claimNextRun(db, "w", "runc", running))!.id)).toBe("token:a");
    expect(await claimNextRun(db, "w", "runc", running)).toBeUndefined();
    // Without limits the anonymous owner's queued runs are claimable again.
    expect(await ownerOf(db, (await claimNextRun(db, "w", "runc"))!.id)).toBe("addr:10.0.0.9");
  });
});

describe("admission: per-owner shares", () => {
  it("refuses past the queued limit with a 429 naming the limit, per owner", async () => {
    const { db } = await freshDb();
    const anon = addressOwner("10.2.2.2");
    await createRun(db, settings, { runtime: "bash", code: "true" }, null, anon);
    await createRun(db, settings, { runtime: "bash", code: "true" }, null, anon);
    let error: unknown;
    try {
      await createRun(db, settings, { runtime: "bash", code: "true" }, null, anon);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SandpitError);
    expect((error as SandpitError).code).toBe("rate_limited");
    expect((error as SandpitError).message).toMatch(/ANON_MAX_QUEUED/);
    expect((error as SandpitError).details.retryAfterS).toBeGreaterThanOrEqual(1);
    // Another owner is not affected.
    expect((await createRun(db, settings, { runtime: "bash", code: "true" }, null, addressOwner("10.2.2.3"))).status).toBe("queued");
  });

  it("gives anonymous runs the lower request limits, tokens the normal ones", async () => {
    const { db } = await freshDb();
    const ask = { runtime: "bash", code: "true", timeout: 100, memory: "1GB", vcpus: 2 };
    await expect(createRun(db, settings, ask, null, addressOwner("10.3.3.3"))).rejects.toThrow(/timeout must be at most 30/);
    await expect(createRun(db, settings, { ...ask, timeout: 30 }, null, addressOwner("10.3.3.3"))).rejects.toThrow(/memory must be between 32 MB and 512 MB/);
    await expect(createRun(db, settings, { ...ask, timeout: 30, memory: 512 }, null, addressOwner("10.3.3.3"))).rejects.toThrow(/vcpus must be at most 1/);
    expect((await createRun(db, settings, ask, "t", tokenOwner("t"))).status).toBe("queued");
  });
});

describe("retention", () => {
  it("deletes finished runs older than the cutoff with their chunks, in bounded batches, and remembers their ids", async () => {
    const { db, file } = await freshDb();
    const ids = await queue(db, "token:a", 5);
    const old = Date.now() - 40 * 86_400_000;
    await db.update(runs).set({ status: "succeeded", finishedAt: old });
    // A recent run and a queued one stay.
    const [recent, waiting] = await queue(db, "token:a", 2);
    await db.update(runs).set({ status: "failed", finishedAt: Date.now() }).where(eq(runs.id, recent));
    await db.insert(runChunks).values({ runId: ids[0], seq: 0, stream: "stdout", data: "hi", at: 0 });
    const cutoff = Date.now() - 30 * 86_400_000;
    expect(await expireOldRuns(db, cutoff, 2)).toBe(2);
    expect(await expireOldRuns(db, cutoff, 2)).toBe(2);
    expect(await expireOldRuns(db, cutoff, 2)).toBe(1);
    expect(await expireOldRuns(db, cutoff, 2)).toBe(0);
    const left = (await db.select({ id: runs.id }).from(runs)).map((row) => row.id);
    expect(left.sort()).toEqual([recent, waiting].sort());
    expect(await db.select({ n: count() }).from(runChunks)).toEqual([{ n: 0 }]);
    for (const id of ids) expect(await isExpiredRun(db, id)).toBe(true);
    expect(await isExpiredRun(db, recent)).toBe(false);
    expect(await isExpiredRun(db, "never-existed-aaaaaaaaa")).toBe(false);
    if (!testsOnPostgres) {
      expect(await queryRows(db, sql`PRAGMA auto_vacuum`)).toEqual([{ auto_vacuum: 2 }]);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }
  });

  // SQLite's planner (PostgreSQL's would pick a sequential scan on tables this small anyway).
  it.skipIf(testsOnPostgres)("uses an index for the owner, token-quota and retention queries", async () => {
    const { db } = await freshDb();
    const plan = async (query: string) => (await queryRows<{ detail: string }>(db, sql.raw(`EXPLAIN QUERY PLAN ${query}`))).map((row) => row.detail).join("; ");
    expect(await plan("SELECT count(*) FROM runs WHERE status = 'queued' AND owner_key = 'x'")).toMatch(/USING (COVERING )?INDEX runs_status_owner_seq/);
    expect(await plan("SELECT count(*), min(queued_at) FROM runs WHERE token_id = 'x' AND queued_at > 5")).toMatch(
      /USING (COVERING )?INDEX runs_token_queued_at/,
    );
    expect(await plan("SELECT id FROM runs WHERE finished_at < 5 ORDER BY finished_at LIMIT 10")).toMatch(/USING INDEX runs_finished_at/);
    expect(await plan("SELECT count(*) FROM sandboxes WHERE token_id = 'x' AND status IN ('creating','ready')")).toMatch(
      /USING (COVERING )?INDEX sandboxes_token_status/,
    );
  });
});
