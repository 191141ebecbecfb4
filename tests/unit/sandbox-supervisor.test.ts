import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { runs, sandboxes } from "@/lib/db/schema";
import type { RunEvent, SandboxEvent } from "@/lib/realtime/events";
import { DEFAULT_HARDENING } from "@/worker/container/hardening-policy";
import { SandboxSupervisor } from "@/worker/sandboxes/sandbox-supervisor";
import { FakeEngine } from "../support/fake-engine";
import { freshDatabase } from "../support/test-database";
import { insertRun, insertSandbox } from "../support/test-rows";
import { testSupervisorDeps } from "../support/worker-deps";

const supervisors: SandboxSupervisor[] = [];
afterEach(() => {
  for (const supervisor of supervisors.splice(0)) supervisor.stop();
});

async function setup() {
  const db = await freshDatabase();
  const engine = new FakeEngine();
  const sandboxEvents: SandboxEvent[] = [];
  const runEvents: RunEvent[] = [];
  const supervisor = new SandboxSupervisor(
    testSupervisorDeps(db, engine, {
      containerRuntime: "runsc",
      publishRun: (event) => runEvents.push(event),
      publishSandbox: (event) => sandboxEvents.push(event),
    }),
  );
  supervisors.push(supervisor);
  const row = async (id: string) => (await db.select().from(sandboxes).where(eq(sandboxes.id, id)))[0];
  /** Waits until the sandbox has left "creating" (or `until` says so). */
  const settled = async (id: string, until: () => boolean | Promise<boolean> = async () => (await row(id)).status !== "creating") => {
    for (let i = 0; i < 400 && !(await until()); i++) await new Promise((resolve) => setTimeout(resolve, 5));
    return row(id);
  };
  return { db, engine, supervisor, sandboxEvents, runEvents, row, settled };
}

describe("SandboxSupervisor on the fake engine", () => {
  it("provisions a sandbox: a hardened idle container with its env, its code and files written as the sandbox user", async () => {
    const { db, engine, supervisor, sandboxEvents, settled } = await setup();
    const files = [{ path: "data/input.txt", content: Buffer.from("42\n").toString("base64") }];
    const sandbox = await insertSandbox(db, {
      memoryMb: 512,
      cpus: 500,
      code: "print(1)",
      env: JSON.stringify({ GREETING: "hi" }),
      files: JSON.stringify(files),
    });
    supervisor.pump();
    const ready = await settled(sandbox.id);
    expect(ready).toMatchObject({ status: "ready", containerId: "c0", workerId: "w1", requirementsCached: true, error: null });
    expect(sandboxEvents).toEqual([{ type: "sandbox", sandboxId: sandbox.id, status: "ready", error: null }]);

    const container = engine.containers.get("c0")!;
    expect(container.detached).toBe(true);
    expect(container.spec).toMatchObject({
      image: "sandpit/python",
      cmd: ["sleep", "infinity"],
      stdin: false,
      runtime: "runsc",
      network: "none",
      readOnlyRoot: true,
    });
    expect(container.spec.limits).toMatchObject({ memoryBytes: 512 * 1024 * 1024, cpus: 0.5 });
    expect(container.spec.labels).toMatchObject({ "sandpit.sandbox": sandbox.id, "sandpit.worker": "w1", "sandpit.instance": "i1" });
    expect(container.spec.env).toEqual([...DEFAULT_HARDENING.env, "GREETING=hi"]);
    // One exec per file, the user's files then the code, never as root (no user given: the container's own).
    expect(container.execOptions).toHaveLength(2);
    for (const options of container.execOptions) {
      expect(options.cmd.slice(0, 2)).toEqual(["bash", "-c"]);
      expect(options.user).toBeUndefined();
    }
    expect(container.execOptions[0].cmd[2]).toContain("input.txt");
    expect(container.execOptions[1].cmd[2]).toContain("main.py");
  });

  it("fails the sandbox and removes its container when a file cannot be written", async () => {
    const { db, engine, supervisor, sandboxEvents, settled } = await setup();
    engine.onExec = (process) => {
      void process.input().then(() => {
        process.write("stderr", "refused: a link\n");
        process.exit(3);
      });
    };
    const sandbox = await insertSandbox(db, { code: "print(1)" });
    supervisor.pump();
    const failed = await settled(sandbox.id);
    expect(failed.status).toBe("error");
    expect(failed.error).toMatch(/could not write main\.py: refused: a link/);
    expect(engine.live()).toEqual([]);
    expect(sandboxEvents.at(-1)).toMatchObject({ status: "error" });
  });

  it("fails the sandbox as a platform fault when the engine cannot start its container", async () => {
    const { db, engine, supervisor, settled } = await setup();
    engine.startError = new Error("no space left on device");
    const sandbox = await insertSandbox(db);
    supervisor.pump();
    const failed = await settled(sandbox.id);
    expect(failed).toMatchObject({ status: "error", errorKind: "platform" });
    expect(failed.error).toMatch(/no space left on device/);
  });

  it("rejects requirements for a runtime without an installer, as the caller's fault, before any container starts", async () => {
    const { db, engine, supervisor, settled } = await setup();
    const sandbox = await insertSandbox(db, { runtime: "bash", language: "bash", requirements: JSON.stringify(["left-pad"]) });
    supervisor.pump();
    const failed = await settled(sandbox.id);
    expect(failed).toMatchObject({ status: "error", errorKind: "rejected" });
    expect(engine.events).toEqual([]);
  });

  it("a sandbox deleted while its container is being created never becomes ready, and its container is removed", async () => {
    const { db, engine, supervisor, row, settled } = await setup();
    engine.holdStarts();
    const sandbox = await insertSandbox(db);
    supervisor.pump();
    await settled(sandbox.id, () => engine.heldStarts() > 0);
    await supervisor.remove(sandbox.id, "deleted");
    expect((await row(sandbox.id)).status).toBe("deleted");
    engine.resumeStarts();
    await settled(sandbox.id, () => engine.events.includes("remove c0"));
    expect((await row(sandbox.id)).status).toBe("deleted");
    expect(engine.live()).toEqual([]);
  });

  it("removing a sandbox removes its container and ends its queued runs with the reason", async () => {
    const { db, engine, supervisor, runEvents, settled } = await setup();
    const sandbox = await insertSandbox(db);
    supervisor.pump();
    await settled(sandbox.id);
    await insertRun(db, { id: "queued1", runtime: "python", sandboxId: sandbox.id });
    await supervisor.remove(sandbox.id, "deleted");
    expect(engine.events).toContain("remove c0");
    expect((await db.select().from(runs).where(eq(runs.id, "queued1")))[0]).toMatchObject({ status: "error", error: "sandbox deleted" });
    expect(runEvents).toEqual([expect.objectContaining({ type: "end", runId: "queued1", status: "error" })]);
  });

  it("expires a sandbox whose lifetime is over, whether or not anyone asks", async () => {
    const { db, engine, supervisor, sandboxEvents, row, settled } = await setup();
    const sandbox = await insertSandbox(db, { lifetimeMs: 1 });
    supervisor.start();
    const ended = await settled(sandbox.id, async () => (await row(sandbox.id)).status === "expired");
    expect(ended.status).toBe("expired");
    await settled(sandbox.id, () => engine.events.includes("remove c0"));
    expect(engine.live()).toEqual([]);
    expect(sandboxEvents.map((event) => event.status)).toEqual(["ready", "expired"]);
  });

  it("fails a sandbox whose model is not in the store", async () => {
    const { db, engine, supervisor, settled } = await setup();
    const sandbox = await insertSandbox(db, { model: "Missing/Model" });
    supervisor.pump();
    const failed = await settled(sandbox.id);
    expect(failed.status).toBe("error");
    expect(failed.error).toMatch(/not in the model store/);
    expect(engine.live()).toEqual([]);
  });
});
