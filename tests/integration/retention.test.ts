import Database from "better-sqlite3";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runToEnd } from "../support/api-client";
import { waitUntil } from "../support/docker-probe";
import { startStack, type Stack } from "../support/stack";

const DAY_MS = 86_400_000;

/** Retention (issue 11): the worker's background sweep deletes old runs and their output; their links answer 410. */
describe("retention", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ containerRuntime: "runc", workerEnv: { RUN_RETENTION_DAYS: "30", RETENTION_SWEEP_S: "1" } });
  }, 120_000);
  afterAll(async () => stack?.stop());

  it("deletes runs older than RUN_RETENTION_DAYS with their chunks; API, share page and embed answer 410, unknown ids 404", async () => {
    const old = await runToEnd(stack.baseUrl, { runtime: "bash", code: "echo old output" });
    const recent = await runToEnd(stack.baseUrl, { runtime: "bash", code: "echo recent output" });
    expect([old.status, recent.status]).toEqual(["succeeded", "succeeded"]);

    // The test's own private database: make one run 31 days old.
    const db = new Database(path.join(stack.dataDir, "sandpit.db"));
    try {
      const chunks = db.prepare("SELECT count(*) FROM run_chunks WHERE run_id = ?").pluck();
      expect(chunks.get(old.id)).toBeGreaterThan(0);
      db.prepare("UPDATE runs SET queued_at = queued_at - ?, finished_at = finished_at - ? WHERE id = ?").run(31 * DAY_MS, 31 * DAY_MS, old.id);

      const gone = await waitUntil(async () => (await fetch(`${stack.baseUrl}/api/v1/runs/${old.id}`)).status === 410, 15_000, 250);
      expect(gone, stack.logs()).toBe(true);
      expect(db.prepare("SELECT count(*) FROM runs WHERE id = ?").pluck().get(old.id)).toBe(0);
      expect(chunks.get(old.id)).toBe(0);
      expect(chunks.get(recent.id)).toBeGreaterThan(0);
    } finally {
      db.close();
    }

    const api = await fetch(`${stack.baseUrl}/api/v1/runs/${old.id}`);
    expect(api.status).toBe(410);
    expect(((await api.json()) as { error: string }).error).toMatch(/deleted: runs are kept for 30 days/);
    for (const page of [`/r/${old.id}`, `/embed/${old.id}`]) {
      const response = await fetch(`${stack.baseUrl}${page}`);
      expect(response.status, page).toBe(410);
      expect(await response.text()).toMatch(/This run has expired/);
    }
    // The recent run is untouched; an id that never existed is still 404, not 410.
    expect((await fetch(`${stack.baseUrl}/api/v1/runs/${recent.id}`)).status).toBe(200);
    expect((await fetch(`${stack.baseUrl}/r/${recent.id}`)).status).toBe(200);
    const never = "A".repeat(22);
    expect((await fetch(`${stack.baseUrl}/api/v1/runs/${never}`)).status).toBe(404);
    expect((await fetch(`${stack.baseUrl}/r/${never}`)).status).toBe(404);
  }, 90_000);
});
