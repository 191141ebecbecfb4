import Database from "better-sqlite3";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getRun, postRun } from "../support/api-client";
import { createToken } from "../support/create-token";
import { waitUntil } from "../support/docker-probe";
import { startStack, type Stack } from "../support/stack";

/**
 * A worker that goes silent while its process lives on: the case of a worker on another host (a partition, a frozen
 * VM), where no pid can be checked and only its heartbeat tells. SIGSTOP makes one here.
 */
describe("a worker silent past its stale threshold", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      containerRuntime: "runc",
      workers: 2,
      workerEnv: { WORKER_STALE_AFTER_S: "6", WORKER_HEARTBEAT_MS: "1000", POOL_ENABLED: "0" },
    });
  }, 120_000);
  afterAll(async () => {
    for (const worker of stack?.workers ?? []) worker.kill("SIGCONT");
    await stack?.stop();
  });

  const query = <T>(sql: string, ...params: unknown[]) => {
    const db = new Database(path.join(stack.dataDir, "sandpit.db"), { readonly: true });
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  };

  it("is judged dead by the other worker: its run ends, its sandbox is lost with a clear error; woken, it exits", async () => {
    const token = createToken(stack.dataDir, "stale");
    const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const created = await fetch(`${stack.baseUrl}/api/v1/sandboxes`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ runtime: "bash", code: "true", timeout: 300 }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const sandbox = await created.json();
    const started = await fetch(`${stack.baseUrl}/api/v1/sandboxes/${sandbox.id}/runs`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ command: "echo started; sleep 60", timeout: 120 }),
    });
    expect(started.status).toBe(201);
    const { runId } = await started.json();
    expect(await waitUntil(async () => (await getRun(stack.baseUrl, runId)).stdout.includes("started"), 20_000)).toBe(true);

    const [{ worker_id: silentId }] = query<{ worker_id: string }>("SELECT worker_id FROM sandboxes WHERE id = ?", sandbox.id);
    const [{ pid }] = query<{ pid: number }>("SELECT pid FROM workers WHERE id = ?", silentId);
    const silent = stack.workers.find((worker) => worker.pid === pid)!;
    expect(silent).toBeDefined();
    silent.kill("SIGSTOP");

    // The other worker's next reaping (every 10 s) after 6 s of silence; 6 s, not less: a healthy worker on a loaded machine never goes that long without a beat.
    expect(await waitUntil(async () => (await getRun(stack.baseUrl, runId)).status === "error", 30_000)).toBe(true);
    expect((await getRun(stack.baseUrl, runId)).error).toMatch(/worker running this run .* stopped before it finished/);
    const lost = await (await fetch(`${stack.baseUrl}/api/v1/sandboxes/${sandbox.id}`, { headers: auth })).json();
    expect(lost).toMatchObject({ status: "error" });
    expect(JSON.stringify(lost)).toMatch(/lost its worker/);
    expect(query("SELECT id FROM workers WHERE id = ?", silentId)).toEqual([]);

    // Woken, it finds its row gone and exits rather than run on next to the others.
    const exited = new Promise<number | null>((resolve) => silent.once("exit", (code) => resolve(code)));
    silent.kill("SIGCONT");
    expect(await exited).toBe(1);
    expect(stack.logs()).toMatch(/was judged dead by another worker/);
    stack.workers.splice(stack.workers.indexOf(silent), 1);

    const after = await postRun(stack.baseUrl, { runtime: "bash", code: "echo still served" });
    expect((await getRun(stack.baseUrl, after.json.id, true)).stdout).toBe("still served\n");
  }, 120_000);
});
