import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { runs, sandboxes } from "@/lib/db/schema";
import { describeLiveWorkers } from "@/lib/workers/worker-registry";
import { buildContainerSpec } from "@/worker/container/build-container-spec";
import { singleUseRequest } from "@/worker/execution/launchers";
import { drainWorker } from "@/worker/lifecycle/drain-worker";
import { WarmPool } from "@/worker/pool/warm-pool";
import { RunQueueLoop } from "@/worker/queue/run-queue-loop";
import { SandboxSupervisor } from "@/worker/sandboxes/sandbox-supervisor";
import { FakeEngine, fakeAgent } from "../support/fake-engine";
import { freshDatabase } from "../support/test-database";
import { insertRun, insertSandbox, registerTestWorker } from "../support/test-rows";
import { testLaunchDeps, testSupervisorDeps } from "../support/worker-deps";

const stops: (() => unknown)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

const until = async (condition: () => boolean | Promise<boolean>, ms = 3000) => {
  const deadline = Date.now() + ms;
  while (!(await condition()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  return condition();
};

/** One worker's real queue loop, sandbox supervisor and warm pool on the fake engine; "slow" runs wait for `release`. */
async function worker() {
  const db = await freshDatabase();
  await registerTestWorker(db, "w1");
  const engine = new FakeEngine();
  const waiting: (() => void)[] = [];
  engine.onStart = fakeAgent(({ code, exit }) => {
    if (code === "slow") waiting.push(() => exit(0));
    else exit(0);
  });
  const deps = testLaunchDeps(db, engine);
  const defaultKey = { runtime: "bash" as const, memoryMb: 256, cpusMilli: 1000 };
  const pool = new WarmPool(engine, (key) => buildContainerSpec({ ...singleUseRequest(key, deps), role: { pool: true } }, deps.policy), {
    enabled: true,
    min: 1,
    max: 2,
    maxKeys: 4,
    memoryBudgetMb: 4096,
    fillConcurrency: 2,
    idleMs: 60_000,
    maxAgeMs: 600_000,
    defaultKeys: [defaultKey],
  });
  const loop = new RunQueueLoop(db, { ...deps, pool, outputLimitBytes: 1024 * 1024, publish: () => {} }, 2, 20);
  const supervisor = new SandboxSupervisor(testSupervisorDeps(db, engine));
  stops.push(
    () => loop.stop(),
    () => supervisor.stop(),
    () => pool.stop(),
  );
  pool.start();
  loop.start();
  supervisor.start();
  const status = async (id: string) => (await db.select().from(runs).where(eq(runs.id, id)))[0]!.status;
  return { db, engine, pool, loop, supervisor, status, release: () => waiting.splice(0).forEach((exit) => exit()), waiting };
}

describe("draining a worker", () => {
  it("claims nothing new, empties the warm pool, and resolves only once its run has finished and its sandbox has expired", async () => {
    const { db, engine, pool, loop, supervisor, status, release, waiting } = await worker();
    expect(await until(() => pool.state()[0]?.idle === 1)).toBe(true);
    const slow = (await insertRun(db, { code: "slow" })).id;
    loop.pump();
    expect(await until(() => waiting.length === 1)).toBe(true);
    const now = Date.now();
    await insertSandbox(db, { id: "held", lifetimeMs: 800, status: "ready", workerId: "w1", createdAt: now, expiresAt: now + 800 });

    let drained: boolean | undefined;
    void drainWorker({ db, workerId: "w1", loop, sandboxes: supervisor, pool }, 20).then((done) => (drained = done));
    const late = (await insertRun(db, { code: "echo late" })).id;
    await insertSandbox(db, { id: "new" });
    loop.pump();
    supervisor.pump();

    expect(await until(async () => (await describeLiveWorkers(db))[0].draining)).toBe(true);
    // The warm pool is emptied: its idle container removed; only the slow run's container is left.
    expect(await until(() => engine.live().length === 1)).toBe(true);
    expect(pool.state()).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(drained).toBeUndefined();
    expect(await status(late)).toBe("queued");
    expect((await db.select().from(sandboxes).where(eq(sandboxes.id, "new")))[0]!.workerId).toBeNull();

    release();
    expect(await until(async () => (await status(slow)) === "succeeded")).toBe(true);
    // The run is done but the held sandbox lives until its own expiry.
    expect((await db.select().from(sandboxes).where(eq(sandboxes.id, "held")))[0]!.status).toBe("ready");
    expect(await until(() => drained === true)).toBe(true);
    expect((await db.select().from(sandboxes).where(eq(sandboxes.id, "held")))[0]!.status).toBe("expired");
    expect(await status(late)).toBe("queued");
  });

  it("stops waiting when a shutdown takes over", async () => {
    const { db, loop, supervisor, pool, waiting } = await worker();
    await insertRun(db, { code: "slow" });
    loop.pump();
    expect(await until(() => waiting.length === 1)).toBe(true);
    let abandoned = false;
    const drained = drainWorker({ db, workerId: "w1", loop, sandboxes: supervisor, pool }, 20, () => abandoned);
    abandoned = true;
    expect(await drained).toBe(false);
  });
});
