import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase } from "@/lib/db/open-database";
import { isExpiredRun } from "@/lib/runs/expire-old-runs";
import { RetentionSweeper } from "@/worker/retention/retention-sweeper";

const DAY = 86_400_000;

function freshDb() {
  return openDatabase(path.join(mkdtempSync(path.join(os.tmpdir(), "sandpit-unit-")), "test.db"));
}

describe("retention sweep", () => {
  it("keeps a deleted run's tombstone for one more retention period, then prunes it in batches", async () => {
    const db = freshDb();
    const now = Date.now();
    const insert = db.$client.prepare("INSERT INTO expired_runs (id, expired_at) VALUES (?, ?)");
    // 450 old tombstones (more than two batches), one recent.
    for (let i = 0; i < 450; i++) insert.run(`old-${i}`, now - 2 * DAY - 1000);
    insert.run("recent", now - DAY / 2);
    const sweeper = new RetentionSweeper(db, { maxAgeMs: DAY, sweepMs: 60_000 });
    await sweeper.sweep();
    expect(isExpiredRun(db, "recent")).toBe(true);
    expect(isExpiredRun(db, "old-0")).toBe(false);
    expect(db.$client.prepare("SELECT count(*) AS n FROM expired_runs").get()).toEqual({ n: 1 });
  });
});
