import { count } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { expiredRuns } from "@/lib/db/schema";
import { isExpiredRun } from "@/lib/runs/expire-old-runs";
import { RetentionSweeper } from "@/worker/retention/retention-sweeper";
import { freshDatabase } from "../support/test-database";

const DAY = 86_400_000;

function freshDb() {
  return freshDatabase();
}

describe("retention sweep", () => {
  it("keeps a deleted run's tombstone for one more retention period, then prunes it in batches", async () => {
    const db = await freshDb();
    const now = Date.now();
    // 450 old tombstones (more than two batches), one recent.
    await db.insert(expiredRuns).values(Array.from({ length: 450 }, (_, i) => ({ id: `old-${i}`, expiredAt: now - 2 * DAY - 1000 })));
    await db.insert(expiredRuns).values({ id: "recent", expiredAt: now - DAY / 2 });
    const sweeper = new RetentionSweeper(db, { maxAgeMs: DAY, sweepMs: 60_000 });
    await sweeper.sweep();
    expect(await isExpiredRun(db, "recent")).toBe(true);
    expect(await isExpiredRun(db, "old-0")).toBe(false);
    expect(await db.select({ n: count() }).from(expiredRuns)).toEqual([{ n: 1 }]);
  });
});
