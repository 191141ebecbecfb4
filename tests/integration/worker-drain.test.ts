import Database from "better-sqlite3";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getRun, postRun } from "../support/api-client";
import { createToken } from "../support/create-token";
import { poolContainers, recordedContainerId, waitUntil } from "../support/docker-probe";
import { startStack, type Stack } from "../support/stack";

const root = path.resolve(import.meta.dirname, "../..");

/** Draining a real worker (README "Workers"): `npm run worker:drain -- ID` mid-run. */
describe("draining a worker", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ containerRuntime: "runc" });
  }, 120_000);
  afterAll(async () => stack?.stop());

  const workerIds = () => {
    const db = new Database(path.join(stack.dataDir, "sandpit.db"), { readonly: true });
    try {
      return (db.prepare("SELECT id FROM workers").all() as { id: string }[]).map((row) => row.id);
    } finally {
      db.close();
    }
  };

  it("finishes the run in flight, claims nothing new, empties its pool and exits; the next worker takes what waited", async () => {
    const [worker] = stack.workers;
    const token = createToken(stack.dataDir, "drain");
    const health = async () => (await (await fetch(`${stack.baseUrl}/api/v1/health`, { headers: { authorization: `Bearer ${token}` } })).json()) as any;
    expect(await waitUntil(() => poolContainers(stack.dataDir).length > 0, 30_000)).toBe(true);
    // Long enough for the checks below to happen while it runs, on a loaded machine.
    const slow = await postRun(stack.baseUrl, { runtime: "bash", code: "echo started; sleep 10; echo finished", timeout: 60 });
    expect(await waitUntil(async () => (await getRun(stack.baseUrl, slow.json.id)).stdout.includes("started"), 20_000)).toBe(true);

    const [workerId] = workerIds();
    const drained = execFileSync(process.execPath, ["--import", "tsx", "scripts/drain-worker.ts", workerId], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", DATA_DIR: stack.dataDir, NODE_ENV: "production" },
      encoding: "utf8",
    });
    expect(drained).toMatch(/is draining/);
    const exited = new Promise<number | null>((resolve) => worker.once("exit", (code) => resolve(code)));

    // Health shows the drain once the worker has read it (its next heartbeat).
    expect(await waitUntil(async () => (await health()).workers[0]?.draining === true, 10_000)).toBe(true);
    // Its warm pool is emptied at once, while the run goes on: only the container the run took from it is left.
    const runContainer = await recordedContainerId(stack, slow.json.id);
    expect(await waitUntil(() => poolContainers(stack.dataDir).every((id) => id === runContainer), 10_000)).toBe(true);
    const later = await postRun(stack.baseUrl, { runtime: "bash", code: "echo later" });
    expect(later.status).toBe(201);
    expect((await getRun(stack.baseUrl, slow.json.id)).status).toBe("running");

    expect(await exited).toBe(0);
    const finished = await getRun(stack.baseUrl, slow.json.id);
    expect(finished).toMatchObject({ status: "succeeded", stdout: "started\nfinished\n" });
    expect((await getRun(stack.baseUrl, later.json.id)).status).toBe("queued");
    expect(workerIds()).toEqual([]);
    expect(stack.logs()).toMatch(/draining \(npm run worker:drain\)[\s\S]*drained: every run and sandbox is done/);

    await stack.startWorker();
    expect(await getRun(stack.baseUrl, later.json.id, true)).toMatchObject({ status: "succeeded", stdout: "later\n" });
  }, 120_000);
});
