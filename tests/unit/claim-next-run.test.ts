import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase } from "@/lib/db/open-database";
import { claimNextRun } from "@/lib/runs/claim-next-run";
import { createRun } from "@/lib/runs/create-run";
import { recoverOrphanedRuns } from "@/lib/runs/recover-orphaned-runs";

const settings = { limits: { timeoutDefaultS: 10, timeoutMaxS: 300, memoryDefaultMb: 256, memoryMaxMb: 4096, vcpusMax: 2 }, modelsDir: "/nonexistent" };

function freshDb() {
  return openDatabase(path.join(mkdtempSync(path.join(os.tmpdir(), "sandpit-unit-")), "test.db"));
}

describe("claimNextRun", () => {
  it("hands out runs oldest first, each once, across two connections", () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "sandpit-unit-")), "test.db");
    const a = openDatabase(file);
    const b = openDatabase(file);
    const ids = Array.from({ length: 10 }, (_, index) => createRun(a, settings, { runtime: "bash", code: `echo ${index}` }).id);
    const claimed: string[] = [];
    for (let turn = 0; turn < 12; turn++) {
      const run = claimNextRun(turn % 2 ? a : b, `w${turn % 2}`, "runc");
      if (run) claimed.push(run.id);
    }
    expect(claimed).toEqual(ids);
  });

  it("re-queues an orphaned run that never started, once, and fails one that had started", () => {
    const db = freshDb();
    const neverStarted = createRun(db, settings, { runtime: "bash", code: "true" }).id;
    claimNextRun(db, "dead", "runc");
    let result = recoverOrphanedRuns(db, new Set());
    expect(result.requeued.map((run) => run.id)).toEqual([neverStarted]);

    const again = claimNextRun(db, "dead-again", "runc")!;
    expect(again.attempts).toBe(2);
    result = recoverOrphanedRuns(db, new Set());
    expect(result.failed.map((run) => [run.id, run.status])).toEqual([[neverStarted, "error"]]);
    expect(result.failed[0].error).toMatch(/stopped before it finished/);
  });

  it("leaves the runs of live workers alone", () => {
    const db = freshDb();
    createRun(db, settings, { runtime: "bash", code: "true" });
    claimNextRun(db, "alive", "runc");
    expect(recoverOrphanedRuns(db, new Set(["alive"]))).toEqual({ requeued: [], failed: [] });
  });
});
