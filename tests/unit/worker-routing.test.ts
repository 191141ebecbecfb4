import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import type { SandpitDb } from "@/lib/db/open-database";
import { runs, sandboxes } from "@/lib/db/schema";
import { claimNextRun } from "@/lib/runs/claim-next-run";
import { createRun } from "@/lib/runs/create-run";
import { claimNextSandbox } from "@/lib/sandboxes/sandbox-lifecycle";
import { NO_GPUS } from "@/lib/gpus/gpu-inventory";
import { leaveToImageHolder } from "@/lib/workers/sandbox-routing";
import { requestDrain } from "@/lib/workers/worker-registry";
import { assertRuntimeServed } from "@/lib/workers/check-runtime-served";
import { SandpitError } from "@/lib/errors/sandpit-error";
import { CapacityTracker } from "@/worker/capacity/capacity-tracker";
import { REQUIREMENTS_CACHE_LABEL } from "@/worker/sandboxes/requirements-cache";
import { requirementsImageTag } from "@/worker/sandboxes/requirements-image";
import { SandboxSupervisor } from "@/worker/sandboxes/sandbox-supervisor";
import { FakeEngine } from "../support/fake-engine";
import { freshDatabase } from "../support/test-database";
import { insertRun, insertSandbox, registerTestWorker } from "../support/test-rows";
import { TEST_REQUIREMENTS_SETTINGS, testSupervisorDeps } from "../support/worker-deps";

function freshDb(): Promise<SandpitDb> {
  return freshDatabase();
}

const idleLoad = { concurrency: 4, activeRuns: 0, liveSandboxes: 0, pool: [] };

/** A worker on its own engine holding only `images`, registered with the capacity its tracker measured. */
async function workerWith(db: SandpitDb, id: string, runtimes: string[], requirementImages: string[] = []) {
  const engine = new FakeEngine();
  engine.images.clear();
  for (const runtime of runtimes) engine.images.add(`sandpit/${runtime}`);
  for (const tag of requirementImages) await engine.buildImage({ tag, labels: { [REQUIREMENTS_CACHE_LABEL]: "1" }, networkMode: "none" });
  const tracker = new CapacityTracker(engine, "sandpit/", id);
  await tracker.refresh(null, true);
  await registerTestWorker(db, id, { capacity: tracker.capacity(idleLoad) });
  return { id, engine, tracker };
}

const claimAllRuns = async (db: SandpitDb, workerId: string, runtimes: readonly string[], newRuns = true) => {
  const claimed: string[] = [];
  for (;;) {
    const run = await claimNextRun(db, workerId, "runc", undefined, { runtimes, newRuns });
    if (!run) return claimed;
    claimed.push(run.id);
  }
};

describe("routing runs and sandboxes by what each worker can serve", () => {
  it("two workers with different runtime images each claim only the runs they can serve", async () => {
    const db = await freshDb();
    const a = await workerWith(db, "a", ["python", "bash"]);
    const b = await workerWith(db, "b", ["go", "bash"]);
    const python = (await insertRun(db, { runtime: "python" })).id;
    const go = (await insertRun(db, { runtime: "go" })).id;
    const bash1 = (await insertRun(db, { runtime: "bash" })).id;
    const bash2 = (await insertRun(db, { runtime: "bash" })).id;
    const deno = (await insertRun(db, { runtime: "deno" })).id;

    expect((await claimNextRun(db, "b", "runc", undefined, { runtimes: b.tracker.runtimes(), newRuns: true }))?.id).toBe(go);
    expect(await claimAllRuns(db, "a", a.tracker.runtimes())).toEqual([python, bash1, bash2]);
    expect(await claimAllRuns(db, "b", b.tracker.runtimes())).toEqual([]);
    // Nobody has deno: it waits (admission refuses such runs while workers are live, lib/workers/check-runtime-served.ts).
    expect((await db.select().from(runs).where(eq(runs.id, deno)))[0].status).toBe("queued");
  });

  it("a draining worker takes only its own sandboxes' runs; no other worker takes those", async () => {
    const db = await freshDb();
    const a = await workerWith(db, "a", ["python", "bash"]);
    const b = await workerWith(db, "b", ["python", "bash"]);
    const held = await insertSandbox(db, { status: "ready", workerId: "a" });
    const fresh = (await insertRun(db, { runtime: "bash" })).id;
    const inSandbox = (await insertRun(db, { runtime: "python", sandboxId: held.id })).id;

    expect(await claimAllRuns(db, "a", a.tracker.runtimes(), false)).toEqual([inSandbox]);
    expect(await claimAllRuns(db, "b", b.tracker.runtimes())).toEqual([fresh]);
  });

  it("sandboxes go only to workers with their runtime image", async () => {
    const db = await freshDb();
    const a = await workerWith(db, "a", ["python"]);
    const b = await workerWith(db, "b", ["node"]);
    const node = await insertSandbox(db, { runtime: "node", language: "javascript" });
    const python = await insertSandbox(db);
    expect((await claimNextSandbox(db, "a", { gpus: NO_GPUS, runtimes: a.tracker.runtimes() }))?.id).toBe(python.id);
    expect(await claimNextSandbox(db, "a", { gpus: NO_GPUS, runtimes: a.tracker.runtimes() })).toBeUndefined();
    expect((await claimNextSandbox(db, "b", { gpus: NO_GPUS, runtimes: b.tracker.runtimes() }))?.id).toBe(node.id);
  });
});

describe("admission by runtime image", () => {
  const refusal = async (db: SandpitDb, runtime: string) => {
    try {
      await assertRuntimeServed(db, runtime);
      return null;
    } catch (error) {
      return error as SandpitError;
    }
  };

  it("refuses a runtime no serving worker has (503, retry later); queues while no worker serves at all", async () => {
    const db = await freshDb();
    expect(await refusal(db, "deno")).toBeNull();
    await workerWith(db, "a", ["python", "bash"]);
    await workerWith(db, "b", ["bash"]);
    expect(await refusal(db, "python")).toBeNull();
    const refused = await refusal(db, "deno");
    expect(refused).toBeInstanceOf(SandpitError);
    expect(refused).toMatchObject({ code: "unavailable", details: { retryAfterS: 30 } });
    expect(refused!.message).toMatch(/no live worker has the deno runtime image.*serve: python, bash/);
    // Only draining workers left: nobody serves now, so the run waits for one that will.
    await requestDrain(db, "a");
    expect(await refusal(db, "python")).toMatchObject({ code: "unavailable" });
    await requestDrain(db, "b");
    expect(await refusal(db, "python")).toBeNull();
  });

  it("is checked when a run is created (POST /api/v1/runs, the playground)", async () => {
    const db = await freshDb();
    await workerWith(db, "a", ["bash"]);
    const settings = { limits: { timeoutDefaultS: 10, timeoutMaxS: 300, memoryDefaultMb: 256, memoryMaxMb: 4096, vcpusMax: 2 }, modelsDir: "/nonexistent" };
    await expect(createRun(db, settings, { runtime: "python", code: "print(1)" })).rejects.toMatchObject({ code: "unavailable" });
    expect(await db.select().from(runs)).toEqual([]);
    await expect(createRun(db, settings, { runtime: "bash", code: "true" })).resolves.toMatchObject({ status: "queued" });
  });

  it("a worker that has not reported capacity may serve anything", async () => {
    const db = await freshDb();
    await registerTestWorker(db, "old");
    await workerWith(db, "a", ["bash"]);
    expect(await refusal(db, "deno")).toBeNull();
  });
});

describe("requirements-image affinity", () => {
  it("the rule: wait for the holder only while the grace lasts, and only when this worker lacks the image", () => {
    const base = { builtHere: false, builtElsewhere: true, waitedMs: 1000, graceMs: 5000 };
    expect(leaveToImageHolder(base)).toBe(true);
    expect(leaveToImageHolder({ ...base, waitedMs: 5000 })).toBe(false);
    expect(leaveToImageHolder({ ...base, builtHere: true })).toBe(false);
    expect(leaveToImageHolder({ ...base, builtElsewhere: false })).toBe(false);
    expect(leaveToImageHolder({ ...base, graceMs: 0 })).toBe(false);
  });

  const supervisors: SandboxSupervisor[] = [];
  afterEach(() => {
    for (const supervisor of supervisors.splice(0)) supervisor.stop();
  });

  function supervisorFor(db: SandpitDb, worker: Awaited<ReturnType<typeof workerWith>>) {
    const supervisor = new SandboxSupervisor(
      testSupervisorDeps(db, worker.engine, { workerId: worker.id, routing: { capacity: worker.tracker, affinityGraceMs: 5000 } }),
    );
    supervisors.push(supervisor);
    return supervisor;
  }

  it("a worker without the image leaves a fresh sandbox to the worker that built it; after the grace it takes it", async () => {
    const db = await freshDb();
    const requirements = ["requests"];
    const tag = requirementsImageTag({ imagePrefix: "sandpit/", runtime: "python", requirements, ...TEST_REQUIREMENTS_SETTINGS }, "sandpit/python");
    const holder = await workerWith(db, "holder", ["python"], [tag]);
    const other = await workerWith(db, "other", ["python"]);
    await other.tracker.refresh(db);
    expect(other.tracker.builtElsewhere(tag)).toBe(true);

    const fresh = await insertSandbox(db, { requirements: JSON.stringify(requirements) });
    const workerOf = async (id: string) => (await db.select().from(sandboxes).where(eq(sandboxes.id, id)))[0].workerId;
    /** Claims are awaited: a pump's claim loop has looked at every waiting sandbox well within this. */
    const pumped = async (supervisor: SandboxSupervisor) => {
      supervisor.pump();
      await new Promise((resolve) => setTimeout(resolve, 100));
    };
    await pumped(supervisorFor(db, other));
    expect(await workerOf(fresh.id)).toBeNull();
    const holderSupervisor = supervisorFor(db, holder);
    await pumped(holderSupervisor);
    expect(await workerOf(fresh.id)).toBe("holder");
    holderSupervisor.drain(); // busy from now on, as far as the sandboxes below go

    // Waited past the grace (the holder is busy or gone): the other worker takes it and builds the image itself.
    const old = await insertSandbox(db, { requirements: JSON.stringify(requirements), createdAt: Date.now() - 6000 });
    // Nobody has this set: no reason to wait.
    const unheld = await insertSandbox(db, { requirements: JSON.stringify(["numpy"]) });
    await pumped(supervisorFor(db, other));
    expect(await workerOf(old.id)).toBe("other");
    expect(await workerOf(unheld.id)).toBe("other");
  });
});
