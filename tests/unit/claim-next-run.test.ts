import { describe, expect, it } from "vitest";
import { claimNextRun } from "@/lib/runs/claim-next-run";
import { createRun } from "@/lib/runs/create-run";
import { recoverOrphanedRuns } from "@/lib/runs/recover-orphaned-runs";
import { freshDatabase, freshDatabaseLocation, openTestDatabase } from "../support/test-database";

const settings = { limits: { timeoutDefaultS: 10, timeoutMaxS: 300, memoryDefaultMb: 256, memoryMaxMb: 4096, vcpusMax: 2 }, modelsDir: "/nonexistent" };

function freshDb() {
  return freshDatabase();
}

describe("claimNextRun", () => {
  it("hands out runs oldest first, each once, across two connections", async () => {
    const file = await freshDatabaseLocation();
    const a = await openTestDatabase(file);
    const b = await openTestDatabase(file);
    const ids: string[] = [];
    for (let index = 0; index < 10; index++) ids.push((await createRun(a, settings, { runtime: "bash", code: `echo ${index}` })).id);
    const claimed: string[] = [];
    for (let turn = 0; turn < 12; turn++) {
      const run = await claimNextRun(turn % 2 ? a : b, `w${turn % 2}`, "runc");
      if (run) claimed.push(run.id);
    }
    expect(claimed).toEqual(ids);
  });

  it("never hands one run to two claims in flight at once", async () => {
    const file = await freshDatabaseLocation();
    const a = await openTestDatabase(file);
    const b = await openTestDatabase(file);
    for (let index = 0; index < 5; index++) await createRun(a, settings, { runtime: "bash", code: `echo ${index}` });
    const claims = await Promise.all(Array.from({ length: 8 }, (_, turn) => claimNextRun(turn % 2 ? a : b, `w${turn % 2}`, "runc")));
    const claimed = claims.filter((run) => run !== undefined).map((run) => run.id);
    expect(claimed).toHaveLength(5);
    expect(new Set(claimed).size).toBe(5);
  });

  it("re-queues an orphaned run that never started, once, and fails one that had started", async () => {
    const db = await freshDb();
    const neverStarted = (await createRun(db, settings, { runtime: "bash", code: "true" })).id;
    await claimNextRun(db, "dead", "runc");
    let result = await recoverOrphanedRuns(db, new Set());
    expect(result.requeued.map((run) => run.id)).toEqual([neverStarted]);

    const again = (await claimNextRun(db, "dead-again", "runc"))!;
    expect(again.attempts).toBe(2);
    result = await recoverOrphanedRuns(db, new Set());
    expect(result.failed.map((run) => [run.id, run.status])).toEqual([[neverStarted, "error"]]);
    expect(result.failed[0].error).toMatch(/stopped before it finished/);
  });

  it("leaves the runs of live workers alone", async () => {
    const db = await freshDb();
    await createRun(db, settings, { runtime: "bash", code: "true" });
    await claimNextRun(db, "alive", "runc");
    expect(await recoverOrphanedRuns(db, new Set(["alive"]))).toEqual({ requeued: [], failed: [] });
  });
});
