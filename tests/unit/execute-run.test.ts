import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { SandpitDb } from "@/lib/db/open-database";
import { runChunks, runs, type RunRow } from "@/lib/db/schema";
import type { RunEvent } from "@/lib/realtime/events";
import { executeRun, type ActiveRun, type ExecutionDeps } from "@/worker/execution/execute-run";
import { WarmPool } from "@/worker/pool/warm-pool";
import { buildContainerSpec } from "@/worker/container/build-container-spec";
import { singleUseRequest } from "@/worker/execution/launchers";
import { FakeEngine, fakeAgent, type AgentRun } from "../support/fake-engine";
import { freshDatabase } from "../support/test-database";
import { insertRun } from "../support/test-rows";
import { testLaunchDeps } from "../support/worker-deps";

function freshDb(): Promise<SandpitDb> {
  return freshDatabase();
}

/** A run as claimNextRun hands it to the worker: running, on this worker. */
const claimedRun = (db: SandpitDb, fields: Partial<RunRow> = {}) => insertRun(db, { code: "echo hi", status: "running", workerId: "w1", ...fields });

async function setup(program?: (run: AgentRun) => void, overrides: Partial<ExecutionDeps> = {}) {
  const db = await freshDb();
  const engine = new FakeEngine();
  if (program) engine.onStart = fakeAgent(program);
  const events: RunEvent[] = [];
  const deps: ExecutionDeps = {
    ...testLaunchDeps(db, engine),
    outputLimitBytes: 1024 * 1024,
    publish: (event) => events.push(event),
    ...overrides,
  };
  return { db, engine, events, deps };
}

/** Executes `run`, handing its stop handle to `onHandle`; resolves with the row as recorded. */
async function execute(deps: ExecutionDeps, run: RunRow, onHandle: (handle: ActiveRun) => void = () => {}) {
  await executeRun(run, deps, onHandle);
  const [row] = await deps.db.select().from(runs).where(eq(runs.id, run.id));
  const chunks = await deps.db.select().from(runChunks).where(eq(runChunks.runId, run.id));
  const output = (stream: "stdout" | "stderr") =>
    chunks
      .filter((chunk) => chunk.stream === stream)
      .map((chunk) => chunk.data)
      .join("");
  return { row, stdout: output("stdout"), stderr: output("stderr") };
}

/** The single-use container's removal is deferred off the result's path: wait for it. */
async function removalOf(engine: FakeEngine, id: string) {
  for (let i = 0; i < 200 && !engine.events.includes(`remove ${id}`); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  return engine.events.includes(`remove ${id}`);
}

describe("executeRun on the fake engine", () => {
  it("succeeds on the agent's marker, with the program's output, stdin delivered and the marker stripped; the container is removed after", async () => {
    let received: { code: string; stdin: string } | undefined;
    const { db, engine, events, deps } = await setup(({ code, stdin, process, exit }) => {
      received = { code, stdin };
      process.write("stdout", "hello ");
      process.write("stderr", "warning\n");
      process.write("stdout", "world\n");
      exit(0);
    });
    const { row, stdout, stderr } = await execute(deps, await claimedRun(db, { code: "echo hello world", stdin: "input line\n" }));
    expect(received).toEqual({ code: "echo hello world", stdin: "input line\n" });
    expect(row).toMatchObject({ status: "succeeded", exitCode: 0, oomKilled: false, truncated: false, error: null, warm: false });
    expect(stdout).toBe("hello world\n");
    expect(stderr).toBe("warning\n");
    expect(row.containerId).toBe("c0");
    expect(events.map((event) => event.type)).toContain("started");
    expect(events.at(-1)).toMatchObject({ type: "end", status: "succeeded" });
    // Ended by the marker: the container was still running when the run ended; then it is removed.
    expect(await removalOf(engine, "c0")).toBe(true);
  });

  it("fails with the program's exit code", async () => {
    const { db, deps } = await setup(({ exit }) => exit(3));
    const { row } = await execute(deps, await claimedRun(db));
    expect(row).toMatchObject({ status: "failed", exitCode: 3, oomKilled: false, error: null });
  });

  it("reads a marker split byte by byte across frames, and keeps output that only looks like its start", async () => {
    const { db, deps } = await setup(({ process, exit }) => {
      process.write("stdout", "a\x1eb\x1e");
      const original = process.write.bind(process);
      // The agent's marker arrives one byte per frame.
      process.write = (stream, data) => {
        for (const byte of Buffer.from(data)) original(stream, Buffer.from([byte]));
      };
      exit(5);
    });
    const { row, stdout, stderr } = await execute(deps, await claimedRun(db));
    expect(row).toMatchObject({ status: "failed", exitCode: 5 });
    expect(stdout).toBe("a\x1eb\x1e");
    expect(stderr).toBe("");
  });

  it("without a marker (the agent itself died), the container's exit decides, and output held as a possible marker is kept", async () => {
    const { db, deps } = await setup(({ process }) => {
      process.write("stdout", "partial\x1e");
      process.exit(2);
    });
    const { row, stdout } = await execute(deps, await claimedRun(db));
    expect(row).toMatchObject({ status: "failed", exitCode: 2 });
    expect(stdout).toBe("partial\x1e");
  });

  it("a forged marker with another token is output, not an exit", async () => {
    const { db, deps } = await setup(({ process, exit }) => {
      process.write("stdout", "\x1e0123456789abcdef0123456789abcdef:0\x1e");
      exit(7);
    });
    const { row, stdout } = await execute(deps, await claimedRun(db));
    expect(row).toMatchObject({ status: "failed", exitCode: 7 });
    expect(stdout).toBe("\x1e0123456789abcdef0123456789abcdef:0\x1e");
  });

  it("times out at the run's deadline: killed, timed_out, no exit code", async () => {
    const { db, engine, deps } = await setup(({ process }) => process.write("stdout", "working\n"));
    const { row, stdout } = await execute(deps, await claimedRun(db, { timeoutMs: 50 }));
    expect(row).toMatchObject({ status: "timed_out", exitCode: null, error: null });
    expect(stdout).toBe("working\n");
    expect(engine.events).toContain("kill c0");
  });

  it("ends at the deadline even when the container cannot be killed (the stop grace lets it go)", async () => {
    const { db, engine, deps } = await setup(() => {});
    engine.onStart = (process, container) => {
      container.unkillable = true;
      fakeAgent(() => {})(process);
    };
    const { row } = await execute(deps, await claimedRun(db, { timeoutMs: 30 }));
    expect(row).toMatchObject({ status: "timed_out", exitCode: null });
    expect(await removalOf(engine, "c0")).toBe(true);
  });

  it("reports an OOM kill of the program (the agent's signal exit, memory limit reached)", async () => {
    const { db, engine, deps } = await setup(({ exit }) => {
      engine.containers.get("c0")!.memoryLimitHit = true;
      exit(137);
    });
    const { row } = await execute(deps, await claimedRun(db));
    expect(row).toMatchObject({ status: "failed", exitCode: 137, oomKilled: true });
  });

  it("a signal exit below the memory limit is not an OOM", async () => {
    const { db, deps } = await setup(({ exit }) => exit(137));
    const { row } = await execute(deps, await claimedRun(db));
    expect(row).toMatchObject({ status: "failed", exitCode: 137, oomKilled: false });
  });

  it("reports an OOM kill of the whole container (no marker: the engine's OOM flag)", async () => {
    const { db, deps } = await setup(({ process }) => process.oomKill());
    const { row } = await execute(deps, await claimedRun(db));
    expect(row).toMatchObject({ status: "failed", exitCode: 137, oomKilled: true });
  });

  it("is cancelled by its stop handle", async () => {
    let handle: ActiveRun | undefined;
    const { db, engine, deps } = await setup(({ process }) => {
      process.write("stdout", "before cancel\n");
      setImmediate(() => handle!.stop("cancel"));
    });
    const { row, stdout } = await execute(deps, await claimedRun(db), (active) => (handle = active));
    expect(row).toMatchObject({ status: "cancelled", exitCode: null, error: null });
    expect(stdout).toBe("before cancel\n");
    expect(engine.events).toContain("kill c0");
  });

  it("is cancelled at once when the cancel was recorded before it started", async () => {
    let ran = false;
    const { db, deps } = await setup(() => (ran = true));
    const { row } = await execute(deps, await claimedRun(db, { cancelRequested: true }));
    expect(row).toMatchObject({ status: "cancelled", exitCode: null });
    expect(ran).toBe(true); // the code had been handed over: the kill ends it
  });

  it("stops at the output limit: truncated, failed, with the notice", async () => {
    const { db, deps } = await setup(({ process }) => process.write("stdout", "x".repeat(100)), { outputLimitBytes: 40 });
    const { row, stdout, stderr } = await execute(deps, await claimedRun(db));
    expect(row).toMatchObject({ status: "failed", truncated: true });
    expect(stdout).toBe("x".repeat(40));
    expect(stderr).toMatch(/output truncated/);
  });

  it("ends with a platform error when the engine is lost mid-run, never blaming the program", async () => {
    let handle: ActiveRun | undefined;
    const { db, engine, deps } = await setup(() => {
      setImmediate(() => {
        engine.loseConnection();
        handle!.stop("engine_lost");
      });
    });
    engine.watch(() => {});
    const { row } = await execute(deps, await claimedRun(db), (active) => (handle = active));
    expect(row.status).toBe("error");
    expect(row.exitCode).toBeNull();
    expect(row.error).toMatch(/^platform error: /);
  });

  it("ends with a platform error when the container is killed from outside Sandpit", async () => {
    const { db, engine, deps } = await setup(() => setImmediate(() => engine.killFromOutside("c0")));
    const { row } = await execute(deps, await claimedRun(db));
    expect(row).toMatchObject({ status: "error", exitCode: null });
    expect(row.error).toMatch(/killed from outside/);
  });

  it("ends with a platform error when no container can be started", async () => {
    const { db, engine, deps } = await setup(() => {});
    engine.startError = new Error("no space left on device");
    const { row } = await execute(deps, await claimedRun(db));
    expect(row.status).toBe("error");
    expect(row.error).toMatch(/no space left on device/);
  });

  it("takes a warm container from the pool (warm: true) and hands it back to the pool for removal", async () => {
    const { db, engine, deps } = await setup(({ process, exit }) => {
      process.write("stdout", "warm\n");
      exit(0);
    });
    const key = { runtime: "bash" as const, memoryMb: 256, cpusMilli: 1000 };
    const pool = new WarmPool(engine, (poolKey) => buildContainerSpec({ ...singleUseRequest(poolKey, deps), role: { pool: true } }, deps.policy), {
      enabled: true,
      min: 1,
      max: 1,
      maxKeys: 0,
      memoryBudgetMb: 1024,
      fillConcurrency: 1,
      idleMs: 60_000,
      maxAgeMs: 600_000,
      defaultKeys: [key],
    });
    pool.start();
    try {
      for (let i = 0; i < 100 && !engine.events.includes("created c0"); i++) await new Promise((resolve) => setTimeout(resolve, 2));
      await new Promise((resolve) => setTimeout(resolve, 2)); // the pool files it as idle
      const { row, stdout } = await execute({ ...deps, pool }, await claimedRun(db));
      expect(row).toMatchObject({ status: "succeeded", warm: true, containerId: "c0" });
      expect(stdout).toBe("warm\n");
      // The pool labelled it for itself, never for a run: the run's row is how recovery finds it.
      expect(engine.containers.get("c0")!.spec.labels).toMatchObject({ "sandpit.pool": "1" });
      expect(await removalOf(engine, "c0")).toBe(true);
    } finally {
      await pool.stop();
    }
  });
});
