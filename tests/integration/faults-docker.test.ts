import Database from "better-sqlite3";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getRun, postRun, type RunView } from "../support/api-client";
import { waitUntil } from "../support/docker-probe";
import { startPrivateDockerd, type PrivateDockerd } from "../support/private-dockerd";
import { CONTAINER_RUNTIMES } from "../support/runtimes-under-test";
import { startStack, type Stack } from "../support/stack";

/**
 * Faults around the worker and Docker: the worker SIGKILLed with runs in every state, and the Docker
 * daemon crashing or restarting mid-run. The stack's worker talks to a private dockerd (never the shared
 * one other tests use), so the test can stop, kill and restart it and see every process it leaves.
 */
let dockerd: PrivateDockerd;

type RunRowProbe = { id: string; status: string; attempts: number; started_at: number | null };

function runRows(stack: Stack, ids: string[]): Map<string, RunRowProbe> {
  const db = new Database(path.join(stack.dataDir, "sandpit.db"), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare(`SELECT id, status, attempts, started_at FROM runs WHERE id IN (${ids.map(() => "?").join(",")})`).all(...ids) as RunRowProbe[];
    return new Map(rows.map((row) => [row.id, row]));
  } finally {
    db.close();
  }
}

/** Containers on the private daemon labelled with one of these runs, in any state. */
function containersFor(runIds: string[]): string[] {
  return runIds.flatMap((id) =>
    dockerd
      .docker(["ps", "-aq", "--no-trunc", "--filter", `label=sandpit.run=${id}`])
      .split("\n")
      .filter(Boolean),
  );
}

/** Every container on the private daemon (all of them belong to the stack under test), any state. */
function allContainers(): string[] {
  return dockerd.docker(["ps", "-aq", "--no-trunc"]).split("\n").filter(Boolean);
}

/** gVisor processes on this host whose container id is one of these. */
function runscProcessesFor(containerIds: string[]): number[] {
  const wanted = new Set(containerIds);
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean);
      if (/^runsc-(sandbox|gofer)$/.test(argv[0] ?? "") && wanted.has(argv.at(-1) ?? "")) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

const isTerminal = (run: RunView) => !["queued", "running"].includes(run.status);

async function submit(stack: Stack, code: string, timeout = 120): Promise<string> {
  const created = await postRun(stack.baseUrl, { runtime: "bash", code, timeout });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  return created.json.id;
}

async function waitForOutput(stack: Stack, id: string, text: string): Promise<void> {
  const seen = await waitUntil(async () => (await getRun(stack.baseUrl, id)).stdout.includes(text), 60_000, 200);
  expect(seen, `run ${id} never printed ${text}\n${stack.logs().slice(-3000)}`).toBe(true);
}

describe.each(CONTAINER_RUNTIMES)("worker and Docker faults under %s", (containerRuntime) => {
  let stack: Stack;
  // A fresh private daemon per container runtime: what one runtime's faults leave in it stays out of the other's.
  beforeAll(async () => {
    // Every runtime image: the worker's warm pool keeps containers of each ready.
    dockerd = await startPrivateDockerd(["sandpit/bash", "sandpit/python", "sandpit/node", "sandpit/deno", "sandpit/go"]);
    stack = await startStack({ containerRuntime, workerEnv: { DOCKER_SOCKET: dockerd.socketPath, WORKER_CONCURRENCY: "3" } });
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
    await dockerd?.stop();
    expect(dockerd ? dockerd.processes() : []).toEqual([]);
  }, 120_000);
  // Each test starts with the private daemon up, whatever the one before did to it.
  beforeEach(async () => {
    if (dockerd.pid() === null) await dockerd.start();
  }, 120_000);

  it("settles every run when the worker is SIGKILLed with runs started, starting and queued", async () => {
    // Two runs whose programs are running.
    const started = [await submit(stack, "echo started-a; sleep 100"), await submit(stack, "echo started-b; sleep 100")];
    for (const [index, id] of started.entries()) await waitForOutput(stack, id, `started-${"ab"[index]}`);

    // The containers the worker is about to lose: its two runs' and its warm pool's.
    const deadWorkerContainers = allContainers();
    expect(deadWorkerContainers.length).toBeGreaterThanOrEqual(2);
    if (containerRuntime === "runsc") expect(runscProcessesFor(deadWorkerContainers).length).toBeGreaterThanOrEqual(4);

    // A run claimed while Docker cannot answer: the worker holds it, its container never started.
    process.kill(dockerd.pid()!, "SIGSTOP");
    let claimedId: string;
    let queued: string[];
    try {
      // Limits no warm container has, so the worker must create one, and Docker does not answer.
      const created = await postRun(stack.baseUrl, { runtime: "bash", code: "echo second-attempt", memory: 200 });
      expect(created.status, JSON.stringify(created.json)).toBe(201);
      claimedId = created.json.id;
      const claimed = await waitUntil(() => runRows(stack, [claimedId]).get(claimedId)?.status === "running", 30_000, 50);
      expect(claimed, stack.logs().slice(-3000)).toBe(true);
      // Two more beyond the worker's capacity: still queued.
      queued = [await submit(stack, "echo queued-1"), await submit(stack, "echo queued-2")];
      const before = runRows(stack, [claimedId, ...queued]);
      expect(before.get(claimedId)).toMatchObject({ status: "running", started_at: null, attempts: 1 });
      expect(queued.map((id) => before.get(id)?.status)).toEqual(["queued", "queued"]);

      for (const worker of [...stack.workers]) await stack.killWorker(worker, "SIGKILL");
      stack.workers.length = 0;
    } finally {
      process.kill(dockerd.pid()!, "SIGCONT");
    }

    await stack.startWorker();
    const runs = new Map(await Promise.all([...started, claimedId, ...queued].map(async (id) => [id, await getRun(stack.baseUrl, id, true)] as const)));
    for (const [index, id] of started.entries()) {
      const run = runs.get(id)!;
      expect(run, JSON.stringify(run)).toMatchObject({ status: "error", stdout: `started-${"ab"[index]}\n` });
      expect(run.error).toMatch(/worker .* stopped before it finished; output may be incomplete/);
    }
    // Never started: queued again once, then run to the end.
    expect(runs.get(claimedId), JSON.stringify(runs.get(claimedId))).toMatchObject({ status: "succeeded", stdout: "second-attempt\n", error: null });
    expect(queued.map((id) => runs.get(id)!.stdout)).toEqual(["queued-1\n", "queued-2\n"]);
    const after = runRows(stack, [claimedId, ...queued]);
    expect(after.get(claimedId)!.attempts).toBe(2);
    expect(queued.map((id) => after.get(id)!.attempts)).toEqual([1, 1]);

    // The dead worker's containers (and a container created for the first attempt, if Docker got that far) go.
    const all = [...started, claimedId, ...queued];
    const leftovers = () => [...containersFor(all), ...allContainers().filter((id) => deadWorkerContainers.includes(id))];
    expect(await waitUntil(() => leftovers().length === 0, 60_000, 500), dockerd.docker(["ps", "-a"])).toBe(true);
    expect(await waitUntil(() => runscProcessesFor(deadWorkerContainers).length === 0, 30_000, 500)).toBe(true);
  }, 240_000);

  it("ends a run cut off by a Docker daemon crash with a platform error, then runs new ones", async () => {
    const id = await submit(stack, "echo before-crash; sleep 100");
    await waitForOutput(stack, id, "before-crash");
    const containers = allContainers();

    await dockerd.kill("SIGKILL");
    // Submitted while Docker is down: it must still end, one way or the other, with a reason.
    const duringOutage = await submit(stack, "echo during-outage");
    const cutOff = await getRun(stack.baseUrl, id, true);
    expect(cutOff, JSON.stringify(cutOff)).toMatchObject({ status: "error", stdout: "before-crash\n" });
    expect(cutOff.error).toMatch(/^platform error: .*docker/i);

    await dockerd.start();
    const outage = await getRun(stack.baseUrl, duringOutage, true);
    expect(isTerminal(outage)).toBe(true);
    if (outage.status === "error") expect(outage.error).toMatch(/^platform error: .*docker/i);
    else expect(outage).toMatchObject({ status: "succeeded", stdout: "during-outage\n" });

    const after = await getRun(stack.baseUrl, await submit(stack, "echo after-restart"), true);
    expect(after, JSON.stringify(after)).toMatchObject({ status: "succeeded", stdout: "after-restart\n" });
    // Everything from before the crash goes: the run's container and the warm pool's dead ones.
    const leftovers = () => [...containersFor([id, duringOutage]), ...allContainers().filter((container) => containers.includes(container))];
    expect(await waitUntil(() => leftovers().length === 0, 60_000, 500), dockerd.docker(["ps", "-a"])).toBe(true);
    expect(await waitUntil(() => runscProcessesFor(containers).length === 0, 30_000, 500)).toBe(true);
  }, 240_000);

  it("ends a run cut off by a Docker daemon restart with a platform error, then runs new ones", async () => {
    const id = await submit(stack, "echo before-restart; sleep 100");
    await waitForOutput(stack, id, "before-restart");
    const containers = allContainers();
    // A clean stop: Docker stops the container itself, which must not pass for the program's own exit.
    await dockerd.kill("SIGTERM");
    await dockerd.start();
    const cutOff = await getRun(stack.baseUrl, id, true);
    expect(cutOff, JSON.stringify(cutOff)).toMatchObject({ status: "error", stdout: "before-restart\n", exitCode: null });
    expect(cutOff.error).toMatch(/^platform error: .*docker/i);

    const after = await getRun(stack.baseUrl, await submit(stack, "echo after-restart"), true);
    expect(after, JSON.stringify(after)).toMatchObject({ status: "succeeded", stdout: "after-restart\n" });
    const leftovers = () => [...containersFor([id]), ...allContainers().filter((container) => containers.includes(container))];
    expect(await waitUntil(() => leftovers().length === 0, 60_000, 500), dockerd.docker(["ps", "-a"])).toBe(true);
  }, 240_000);
});
