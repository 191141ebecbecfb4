import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { SandpitDb } from "@/lib/db/open-database";
import { runs, sandboxes, workers } from "@/lib/db/schema";
import { failOrphanedSandboxes, LOST_WORKER_ERROR } from "@/lib/sandboxes/sandbox-lifecycle";
import { recoverOrphanedRuns } from "@/lib/runs/recover-orphaned-runs";
import { workerCapacitySchema } from "@/lib/workers/worker-capacity";
import { describeLiveWorkers, heartbeat, isWorkerAlive, judgeWorkers, requestDrain } from "@/lib/workers/worker-registry";
import { liveGpuInventories } from "@/lib/workers/gpu-availability";
import { loadWorkerConfig } from "@/worker/config";
import { CapacityTracker } from "@/worker/capacity/capacity-tracker";
import { reapOrphans } from "@/worker/recovery/reap-orphans";
import { REQUIREMENTS_CACHE_LABEL } from "@/worker/sandboxes/requirements-cache";
import type { RunEvent, SandboxEvent } from "@/lib/realtime/events";
import { FakeEngine } from "../support/fake-engine";
import { freshDatabase } from "../support/test-database";
import { insertRun, insertSandbox, registerTestWorker } from "../support/test-rows";

function freshDb(): Promise<SandpitDb> {
  return freshDatabase();
}

const idleLoad = { concurrency: 4, activeRuns: 0, liveSandboxes: 0, pool: [] };

/** A worker row as another host's worker would have written it: its pid means nothing here. */
async function otherHostWorker(db: SandpitDb, id: string, heartbeatAgoMs: number, staleAfterMs = 15_000) {
  const now = Date.now();
  await db
    .insert(workers)
    // pid 1 exists on this host: were it consulted for another host's worker, that worker would never die.
    .values({ id, hostname: `${os.hostname()}-elsewhere`, pid: 1, startedAt: now - 60_000, heartbeatAt: now - heartbeatAgoMs, staleAfterMs });
}

describe("worker capacity", () => {
  it("lists the runtimes whose image the engine has and the requirement images it built, newest first", async () => {
    const engine = new FakeEngine();
    engine.images.delete("sandpit/go");
    await engine.buildImage({ tag: "sandpit/requirements:python-aaa", labels: { [REQUIREMENTS_CACHE_LABEL]: "1" }, networkMode: "none" });
    await new Promise((resolve) => setTimeout(resolve, 2));
    await engine.buildImage({ tag: "sandpit/requirements:node-bbb", labels: { [REQUIREMENTS_CACHE_LABEL]: "1" }, networkMode: "none" });
    await engine.buildImage({ tag: "sandpit/unrelated", labels: {}, networkMode: "none" });
    const tracker = new CapacityTracker(engine, "sandpit/", "w1");
    await tracker.refresh(null, true);

    expect([...tracker.runtimes()].sort()).toEqual(["bash", "deno", "node", "python"]);
    const capacity = tracker.capacity({ ...idleLoad, pool: [{ runtime: "python", memoryMb: 256, cpusMilli: 1000, idle: 2 }] });
    expect(workerCapacitySchema.parse(capacity)).toEqual(capacity);
    expect(capacity).toMatchObject({
      requirementImages: ["sandpit/requirements:node-bbb", "sandpit/requirements:python-aaa"],
      cores: os.availableParallelism(),
      memoryMb: Math.round(os.totalmem() / 1024 / 1024),
      concurrency: 4,
    });
  });

  it("keeps the last answer when the engine cannot be asked", async () => {
    const engine = new FakeEngine();
    const tracker = new CapacityTracker(engine, "sandpit/", "w1");
    await tracker.refresh(null, true);
    const before = [...tracker.runtimes()];
    expect(before).toContain("python");
    engine.loseConnection();
    await tracker.refresh(null, true);
    expect(tracker.runtimes()).toEqual(before);
  });

  it("is registered, refreshed by the heartbeat and shown by describeLiveWorkers (GET /api/v1/health)", async () => {
    const db = await freshDb();
    const tracker = new CapacityTracker(new FakeEngine(), "sandpit/", "w1");
    await tracker.refresh(null, true);
    await registerTestWorker(db, "w1", { runtime: { containerRuntime: "runc", gvisor: null }, capacity: tracker.capacity(idleLoad) });
    expect(await heartbeat(db, "w1", tracker.capacity({ ...idleLoad, activeRuns: 3, liveSandboxes: 1 }))).toEqual({ draining: false });

    const [shown] = await describeLiveWorkers(db);
    expect(shown).toMatchObject({ id: "w1", hostname: os.hostname(), containerRuntime: "runc", draining: false, gpus: 0 });
    expect(shown.capacity).toMatchObject({ activeRuns: 3, liveSandboxes: 1, concurrency: 4, requirementImages: 0 });
    expect(shown.capacity!.runtimes).toContain("python");
  });

  it("a drain request reaches the worker with its next heartbeat; a deleted row answers null (judged dead)", async () => {
    const db = await freshDb();
    await registerTestWorker(db, "w1");
    expect(await requestDrain(db, "w1")).toBe(true);
    expect(await requestDrain(db, "nobody")).toBe(false);
    expect(await heartbeat(db, "w1")).toEqual({ draining: true });
    expect((await describeLiveWorkers(db))[0].draining).toBe(true);
    // Registering again (a restart under the same WORKER_ID) serves again.
    await registerTestWorker(db, "w1");
    expect(await heartbeat(db, "w1")).toEqual({ draining: false });
    await db.delete(workers).where(eq(workers.id, "w1"));
    expect(await heartbeat(db, "w1")).toBeNull();
  });

  it("a draining worker's GPUs take no new sandbox", async () => {
    const db = await freshDb();
    const inventory = {
      devices: [{ index: 0, name: "Tesla T4", memoryMb: 15360 }],
      driverVersion: "550",
      passthrough: "nvproxy" as const,
      slotsPerDevice: 1,
      unusableReason: null,
    };
    await registerTestWorker(db, "gpu", { gpus: 1, gpuInventory: inventory });
    expect(await liveGpuInventories(db)).toHaveLength(1);
    await requestDrain(db, "gpu");
    expect(await liveGpuInventories(db)).toEqual([]);
  });
});

describe("worker liveness", () => {
  it("judges a worker on another host by its heartbeat alone, against the threshold it registered", () => {
    const now = Date.now();
    const elsewhere = { hostname: `${os.hostname()}-elsewhere`, pid: 999_999_999, staleAfterMs: 15_000 };
    expect(isWorkerAlive({ ...elsewhere, heartbeatAt: now - 14_000 }, now)).toBe(true);
    expect(isWorkerAlive({ ...elsewhere, heartbeatAt: now - 16_000 }, now)).toBe(false);
    expect(isWorkerAlive({ ...elsewhere, heartbeatAt: now - 16_000, staleAfterMs: 60_000 }, now)).toBe(true);
    // On this host a gone process is dead at once, however fresh its heartbeat.
    expect(isWorkerAlive({ ...elsewhere, hostname: os.hostname(), heartbeatAt: now }, now)).toBe(false);
    expect(isWorkerAlive({ ...elsewhere, hostname: os.hostname(), heartbeatAt: now, pid: process.pid }, now)).toBe(true);
  });

  it("a worker whose own connection just came back judges no one dead by silence, and never itself", async () => {
    const db = await freshDb();
    await otherHostWorker(db, "silent", 60_000);
    await registerTestWorker(db, "self");
    await db
      .update(workers)
      .set({ heartbeatAt: Date.now() - 60_000 })
      .where(eq(workers.id, "self"));

    const cautious = await judgeWorkers(db, "self", false);
    expect([...cautious.live].sort()).toEqual(["self", "silent"]);
    const settled = await judgeWorkers(db, "self", true);
    expect([...settled.live]).toEqual(["self"]);
    expect(settled.dead.map((worker) => worker.id)).toEqual(["silent"]);
  });

  it("the stale threshold is a validated worker setting: at least three heartbeats", () => {
    const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
      NODE_ENV: "test",
      DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "sandpit-unit-")),
      ...extra,
    });
    expect(loadWorkerConfig(env()).staleAfterMs).toBe(15_000);
    expect(loadWorkerConfig(env({ WORKER_STALE_AFTER_S: "30" })).staleAfterMs).toBe(30_000);
    expect(() => loadWorkerConfig(env({ WORKER_STALE_AFTER_S: "5", WORKER_HEARTBEAT_MS: "2000" }))).toThrow(
      /WORKER_STALE_AFTER_S: must be at least three heartbeats/,
    );
    expect(() => loadWorkerConfig(env({ WORKER_STALE_AFTER_S: "soon" }))).toThrow(/WORKER_STALE_AFTER_S/);
  });
});

describe("reapOrphans and a dead worker on another host", () => {
  /** What `workerId` holds: a run it started, one it claimed but had not started, and a ready sandbox with a queued run. */
  async function seed(db: SandpitDb, workerId: string) {
    const claimed = { workerId, status: "running" as const, attempts: 1 };
    await insertRun(db, { ...claimed, id: `${workerId}-started`, startedAt: Date.now() });
    await insertRun(db, { ...claimed, id: `${workerId}-unstarted` });
    await insertSandbox(db, { id: `${workerId}-sandbox`, status: "ready", workerId });
    await insertRun(db, { id: `${workerId}-sandbox-queued`, sandboxId: `${workerId}-sandbox` });
  }

  it("ends its started runs, re-queues the unstarted, fails its sandboxes as lost with their queued runs, and forgets it", async () => {
    const db = await freshDb();
    await otherHostWorker(db, "dead", 20_000);
    await otherHostWorker(db, "alive", 1_000);
    await registerTestWorker(db, "self");
    await seed(db, "dead");
    await seed(db, "alive");
    const runEvents: RunEvent[] = [];
    const sandboxEvents: SandboxEvent[] = [];

    await reapOrphans(db, new FakeEngine(), (event) => runEvents.push(event), {
      workerId: "self",
      trustStaleness: true,
      publishSandbox: (event) => sandboxEvents.push(event),
    });

    const run = async (id: string) => (await db.select().from(runs).where(eq(runs.id, id)))[0];
    const sandbox = async (id: string) => (await db.select().from(sandboxes).where(eq(sandboxes.id, id)))[0];
    expect(await run("dead-started")).toMatchObject({ status: "error", error: expect.stringMatching(/worker running this run \(dead\) stopped/) });
    expect(await run("dead-unstarted")).toMatchObject({ status: "queued", workerId: null });
    expect(await sandbox("dead-sandbox")).toMatchObject({ status: "error", error: LOST_WORKER_ERROR, errorKind: "platform" });
    expect(LOST_WORKER_ERROR).toMatch(/lost its worker/);
    expect(await run("dead-sandbox-queued")).toMatchObject({ status: "error", error: "sandbox error: it lost its worker" });
    expect(sandboxEvents).toEqual([{ type: "sandbox", sandboxId: "dead-sandbox", status: "error", error: LOST_WORKER_ERROR }]);
    expect(runEvents.map((event) => (event.type === "end" ? event.runId : event.type)).sort()).toEqual(["dead-sandbox-queued", "dead-started"]);
    expect((await db.select({ id: workers.id }).from(workers)).map((row) => row.id).sort()).toEqual(["alive", "self"]);

    // The live worker on the other host keeps everything.
    expect((await run("alive-started")).status).toBe("running");
    expect((await sandbox("alive-sandbox")).status).toBe("ready");
  });

  it("leaves a silent worker alone while the reaper's own connection is new", async () => {
    const db = await freshDb();
    await otherHostWorker(db, "silent", 20_000);
    await seed(db, "silent");
    await reapOrphans(db, new FakeEngine(), () => {}, { workerId: "self", trustStaleness: false });
    expect((await db.select().from(runs).where(eq(runs.id, "silent-started")))[0].status).toBe("running");
    expect((await db.select().from(sandboxes).where(eq(sandboxes.id, "silent-sandbox")))[0].status).toBe("ready");
  });

  it("never takes the fresh claims of a worker that registered after the judgment for orphans", async () => {
    const db = await freshDb();
    await registerTestWorker(db, "self");
    const { live, judgedAt } = await judgeWorkers(db, "self");
    // Meanwhile a worker starts, and claims a run and a sandbox.
    await new Promise((resolve) => setTimeout(resolve, 2));
    await otherHostWorker(db, "newcomer", 0);
    await seed(db, "newcomer");
    expect(await recoverOrphanedRuns(db, live, judgedAt)).toEqual({ requeued: [], failed: [] });
    expect(await failOrphanedSandboxes(db, live, judgedAt)).toEqual([]);
    // Without the judgment's time (as before) both would have been taken.
    expect((await recoverOrphanedRuns(db, live)).failed.map((run) => run.id)).toEqual(["newcomer-started"]);
  });
});
