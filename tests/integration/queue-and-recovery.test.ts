import Database from "better-sqlite3";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getRun, postRun } from "../support/api-client";
import { containersForRun, waitUntil } from "../support/docker-probe";
import { CONTAINER_RUNTIMES } from "../support/runtimes-under-test";
import { startStack, type Stack } from "../support/stack";

describe.each(CONTAINER_RUNTIMES)("queue and recovery under %s", (containerRuntime) => {
  let stack: Stack;
  beforeAll(async () => {
    // Two workers on one database compete for every run: the claim must still be exclusive.
    stack = await startStack({ containerRuntime, workers: 2 });
  }, 120_000);
  afterAll(async () => stack?.stop());

  it("runs 20 runs submitted at once, each exactly once", async () => {
    const created = await Promise.all(Array.from({ length: 20 }, (_, index) => postRun(stack.baseUrl, { runtime: "bash", code: `echo run-${index}` })));
    expect(created.every((response) => response.status === 201)).toBe(true);
    const runs = await Promise.all(created.map((response) => getRun(stack.baseUrl, response.json.id, true)));
    runs.forEach((run, index) => {
      expect(run, JSON.stringify(run)).toMatchObject({ status: "succeeded", stdout: `run-${index}\n` });
    });
    const db = new Database(path.join(stack.dataDir, "sandpit.db"), { readonly: true });
    const rows = db.prepare(`SELECT id, attempts, worker_id FROM runs WHERE id IN (${runs.map(() => "?").join(",")})`).all(...runs.map((run) => run.id)) as {
      attempts: number;
      worker_id: string;
    }[];
    db.close();
    expect(rows).toHaveLength(20);
    expect(rows.every((row) => row.attempts === 1)).toBe(true);
  }, 120_000);

  it("ends a run with a clear error when its worker is SIGKILLed, and removes its container", async () => {
    const created = await postRun(stack.baseUrl, { runtime: "bash", code: "echo started; sleep 60", timeout: 120 });
    const id = created.json.id;
    expect(await waitUntil(async () => (await getRun(stack.baseUrl, id)).stdout.includes("started"), 20_000)).toBe(true);
    expect((await containersForRun(stack, id)).length).toBe(1);

    for (const worker of [...stack.workers]) await stack.killWorker(worker, "SIGKILL");
    stack.workers.length = 0;
    expect((await getRun(stack.baseUrl, id)).status).toBe("running");

    await stack.startWorker();
    const run = await getRun(stack.baseUrl, id, true);
    expect(run.status).toBe("error");
    expect(run.error).toMatch(/worker .* stopped before it finished/);
    expect(run.stdout).toBe("started\n");
    expect(await waitUntil(async () => (await containersForRun(stack, id)).length === 0, 10_000)).toBe(true);

    const after = await postRun(stack.baseUrl, { runtime: "bash", code: "echo still working" });
    expect((await getRun(stack.baseUrl, after.json.id, true)).stdout).toBe("still working\n");
  }, 120_000);
});
