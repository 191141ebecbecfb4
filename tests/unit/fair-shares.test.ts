import { mkdtempSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase, type SandpitDb } from "@/lib/db/open-database";
import { runs } from "@/lib/db/schema";
import { SandpitError } from "@/lib/errors/sandpit-error";
import { claimNextRun } from "@/lib/runs/claim-next-run";
import { createRun, type RunSettings } from "@/lib/runs/create-run";
import { expireOldRuns, isExpiredRun } from "@/lib/runs/expire-old-runs";
import { addressOwner, tokenOwner } from "@/lib/runs/run-owner";
import { eq } from "drizzle-orm";

const limits = { timeoutDefaultS: 10, timeoutMaxS: 300, memoryDefaultMb: 256, memoryMaxMb: 4096, vcpusMax: 4 };
const shares = {
  owner: { maxQueued: 5, maxRunning: 3 },
  anonymous: { maxQueued: 2, maxRunning: 1, maxTimeoutS: 30, maxMemoryMb: 512, maxVcpus: 1 },
};
const settings: RunSettings = { limits, modelsDir: "/nonexistent", shares };

function freshDb(): { db: SandpitDb; file: string } {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "sandpit-unit-")), "test.db");
  return { db: openDatabase(file), file };
}

function queue(db: SandpitDb, owner: string, count: number): string[] {
  const who = owner.startsWith("addr:") ? addressOwner(owner.slice(5)) : tokenOwner(owner.slice(6));
  return Array.from(
    { length: count },
    (_, index) => createRun(db, { ...settings, shares: undefined }, { runtime: "bash", code: `echo ${index}` }, null, who).id,
  );
}

function ownerOf(db: SandpitDb, id: string): string {
  return db.select({ owner: runs.ownerKey }).from(runs).where(eq(runs.id, id)).get()!.owner;
}

describe("claimNextRun: round-robin across owners", () => {
  it("alternates owners by fewest running, each owner's oldest first", () => {
    const { db } = freshDb();
    const a = queue(db, "token:a", 6);
    const b = queue(db, "token:b", 2);
    const c = queue(db, "addr:10.1.1.1", 1);
    const claimed = Array.from({ length: 9 }, () => claimNextRun(db, "w", "runc")!.id);
    // Round 1: a (oldest head), b, c each get one; round 2: a, b; then only a is left.
    expect(claimed).toEqual([a[0], b[0], c[0], a[1], b[1], a[2], a[3], a[4], a[5]]);
    expect(claimNextRun(db, "w", "runc")).toBeUndefined();
  });

  it("a late owner jumps ahead of a long backlog while the backlog's owner holds a slot", () => {
    const { db } = freshDb();
    const backlog = queue(db, "token:a", 40);
    expect(claimNextRun(db, "w", "runc")!.id).toBe(backlog[0]);
    const [hello] = queue(db, "addr:127.0.0.1", 1);
    expect(claimNextRun(db, "w", "runc")!.id).toBe(hello);
    expect(claimNextRun(db, "w", "runc")!.id).toBe(backlog[1]);
  });

  it("holds each owner to its running limit, anonymous owners to theirs", () => {
    const { db } = freshDb();
    queue(db, "token:a", 5);
    queue(db, "addr:10.0.0.9", 3);
    const running = { ownerMaxRunning: 2, anonymousMaxRunning: 1 };
    const claimed: string[] = [];
    for (let run; (run = claimNextRun(db, "w", "runc", running));) claimed.push(ownerOf(db, run.id));
    expect(claimed.sort()).toEqual(["addr:10.0.0.9", "token:a", "token:a"]);
    // One of a's runs ends: a may take one more, the anonymous owner (still at its limit) none.
    db.$client
      .prepare(
        "UPDATE runs SET status = 'succeeded', finished_at = ? WHERE seq = (SELECT min(seq) FROM runs WHERE status = 'running' AND owner_key = 'token:a')",
      )
      .run(Date.now());
    expect(ownerOf(db, claimNextRun(db, "w", "runc", running)!.id)).toBe("token:a");
    expect(claimNextRun(db, "w", "runc", running)).toBeUndefined();
    // Without limits the anonymous owner's queued runs are claimable again.
    expect(ownerOf(db, claimNextRun(db, "w", "runc")!.id)).toBe("addr:10.0.0.9");
  });
});

describe("admission: per-owner shares", () => {
  it("refuses past the queued limit with a 429 naming the limit, per owner", () => {
    const { db } = freshDb();
    const anon = addressOwner("10.2.2.2");
    createRun(db, settings, { runtime: "bash", code: "true" }, null, anon);
    createRun(db, settings, { runtime: "bash", code: "true" }, null, anon);
    let error: unknown;
    try {
      createRun(db, settings, { runtime: "bash", code: "true" }, null, anon);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SandpitError);
    expect((error as SandpitError).code).toBe("rate_limited");
    expect((error as SandpitError).message).toMatch(/ANON_MAX_QUEUED/);
    expect((error as SandpitError).details.retryAfterS).toBeGreaterThanOrEqual(1);
    // Another owner is not affected.
    expect(createRun(db, settings, { runtime: "bash", code: "true" }, null, addressOwner("10.2.2.3")).status).toBe("queued");
  });

  it("gives anonymous runs the lower request limits, tokens the normal ones", () => {
    const { db } = freshDb();
    const ask = { runtime: "bash", code: "true", timeout: 100, memory: "1GB", vcpus: 2 };
    expect(() => createRun(db, settings, ask, null, addressOwner("10.3.3.3"))).toThrow(/timeout must be at most 30/);
    expect(() => createRun(db, settings, { ...ask, timeout: 30 }, null, addressOwner("10.3.3.3"))).toThrow(/memory must be between 32 MB and 512 MB/);
    expect(() => createRun(db, settings, { ...ask, timeout: 30, memory: 512 }, null, addressOwner("10.3.3.3"))).toThrow(/vcpus must be at most 1/);
    expect(createRun(db, settings, ask, "t", tokenOwner("t")).status).toBe("queued");
  });
});

describe("retention", () => {
  it("deletes finished runs older than the cutoff with their chunks, in bounded batches, and remembers their ids", () => {
    const { db, file } = freshDb();
    const ids = queue(db, "token:a", 5);
    const old = Date.now() - 40 * 86_400_000;
    db.update(runs).set({ status: "succeeded", finishedAt: old }).run();
    // A recent run and a queued one stay.
    const [recent, waiting] = queue(db, "token:a", 2);
    db.update(runs).set({ status: "failed", finishedAt: Date.now() }).where(eq(runs.id, recent)).run();
    db.$client.prepare("INSERT INTO run_chunks (run_id, seq, stream, data, at) VALUES (?, 0, 'stdout', 'hi', 0)").run(ids[0]);
    const cutoff = Date.now() - 30 * 86_400_000;
    expect(expireOldRuns(db, cutoff, 2)).toBe(2);
    expect(expireOldRuns(db, cutoff, 2)).toBe(2);
    expect(expireOldRuns(db, cutoff, 2)).toBe(1);
    expect(expireOldRuns(db, cutoff, 2)).toBe(0);
    const left = db
      .select({ id: runs.id })
      .from(runs)
      .all()
      .map((row) => row.id);
    expect(left.sort()).toEqual([recent, waiting].sort());
    expect(db.$client.prepare("SELECT count(*) FROM run_chunks").pluck().get()).toBe(0);
    expect(ids.every((id) => isExpiredRun(db, id))).toBe(true);
    expect(isExpiredRun(db, recent)).toBe(false);
    expect(isExpiredRun(db, "never-existed-aaaaaaaaa")).toBe(false);
    expect(db.$client.pragma("auto_vacuum", { simple: true })).toBe(2);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("uses an index for the owner, token-quota and retention queries", () => {
    const { db } = freshDb();
    const plan = (query: string) => (db.$client.prepare(`EXPLAIN QUERY PLAN ${query}`).all() as { detail: string }[]).map((row) => row.detail).join("; ");
    expect(plan("SELECT count(*) FROM runs WHERE status = 'queued' AND owner_key = 'x'")).toMatch(/USING (COVERING )?INDEX runs_status_owner_seq/);
    expect(plan("SELECT count(*), min(queued_at) FROM runs WHERE token_id = 'x' AND queued_at > 5")).toMatch(/USING (COVERING )?INDEX runs_token_queued_at/);
    expect(plan("SELECT id FROM runs WHERE finished_at < 5 ORDER BY finished_at LIMIT 10")).toMatch(/USING INDEX runs_finished_at/);
    expect(plan("SELECT count(*) FROM sandboxes WHERE token_id = 'x' AND status IN ('creating','ready')")).toMatch(
      /USING (COVERING )?INDEX sandboxes_token_status/,
    );
  });
});
