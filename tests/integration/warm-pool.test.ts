import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runToEnd, type RunView } from "../support/api-client";
import { containersForRun, poolContainers, recordedContainerId, waitUntil } from "../support/docker-probe";
import { CONTAINER_RUNTIMES } from "../support/runtimes-under-test";
import { startStack, type Stack } from "../support/stack";

type WarmRun = RunView & { warm: boolean };

/** Runs until one gets a warm container (the pool fills in the background), at most ~10 s. */
async function warmRun(stack: Stack, body: Record<string, unknown>): Promise<WarmRun> {
  for (let attempt = 0; ; attempt++) {
    const run = (await runToEnd(stack.baseUrl, body)) as WarmRun;
    if (run.warm || attempt >= 40) return run;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const inspect = (id: string) => JSON.parse(execFileSync("docker", ["inspect", id], { encoding: "utf8" }))[0];

const exitThree: Record<string, string> = {
  python: "import sys\nprint(sys.stdin.read().upper(), end='')\nsys.exit(3)",
  node: "process.stdout.write(require('fs').readFileSync(0, 'utf8').toUpperCase()); process.exitCode = 3",
  deno: "const text = await new Response(Deno.stdin.readable).text();\nconsole.log(text.toUpperCase().trimEnd());\nDeno.exit(3)",
  go: 'package main\nimport ("fmt"; "io"; "os"; "strings")\nfunc main() { b, _ := io.ReadAll(os.Stdin); fmt.Print(strings.ToUpper(string(b))); os.Exit(3) }',
  bash: "tr a-z A-Z; exit 3",
};

describe.each(CONTAINER_RUNTIMES)("warm pool under %s", (containerRuntime) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ containerRuntime, workerEnv: { POOL_MIN: "1", POOL_MAX: "3" } });
  }, 120_000);
  afterAll(async () => stack?.stop());

  it.each(Object.keys(exitThree))("hands %s code, stdin and exit code through a warm container", async (runtime) => {
    const run = await warmRun(stack, { runtime, code: exitThree[runtime], stdin: "warm\n", timeout: 30 });
    expect(run, JSON.stringify(run)).toMatchObject({ warm: true, status: "failed", exitCode: 3, stdout: "WARM\n", stderr: "" });
  });

  it("never gives a container to a second run: each run gets its own, removed afterwards, and nothing carries over", async () => {
    const first = await warmRun(stack, { runtime: "bash", code: "echo secret > /tmp/left-behind; echo $HOSTNAME" });
    const second = await warmRun(stack, { runtime: "bash", code: "cat /tmp/left-behind 2>&1 || true; echo $HOSTNAME" });
    expect(first.warm && second.warm).toBe(true);
    const [firstId, secondId] = [await recordedContainerId(stack, first.id), await recordedContainerId(stack, second.id)];
    expect(firstId).toMatch(/^[0-9a-f]{64}$/);
    expect(secondId).toMatch(/^[0-9a-f]{64}$/);
    expect(firstId).not.toBe(secondId);
    expect(second.stdout).toMatch(/No such file or directory/);
    expect(second.stdout).not.toContain("secret");
    for (const run of [first, second]) expect(await waitUntil(async () => (await containersForRun(stack, run.id)).length === 0, 10_000)).toBe(true);
  });

  it("confines an idle pool container exactly like a container made for a run", async () => {
    expect(await waitUntil(() => poolContainers(stack.dataDir).length > 0, 15_000)).toBe(true);
    const idle = inspect(poolContainers(stack.dataDir)[0]);
    expect(idle.Config.User).toBe("1000:1000");
    expect(idle.Config.Cmd).toEqual(["/opt/sandpit/warm"]);
    expect(idle.HostConfig).toMatchObject({
      Runtime: containerRuntime,
      NetworkMode: "none",
      ReadonlyRootfs: true,
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      PidsLimit: containerRuntime === "runsc" ? 512 : 128,
      Memory: 256 * 1024 * 1024,
      MemorySwap: 256 * 1024 * 1024,
    });
  });

  it("counts the timeout from when the code arrives, not from when the container started", async () => {
    // Every idle container has waited longer than this run's 1 s timeout by now.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const run = await warmRun(stack, { runtime: "python", code: "import time\ntime.sleep(0.5)\nprint('in time')", timeout: 1 });
    expect(run).toMatchObject({ warm: true, status: "succeeded", stdout: "in time\n" });
    const late = await warmRun(stack, { runtime: "python", code: "import time\ntime.sleep(5)\nprint('too late')", timeout: 1 });
    expect(late).toMatchObject({ warm: true, status: "timed_out", stdout: "" });
  });

  it("ends a run when its program exits even if it left a background process, and passes marker look-alikes through", async () => {
    const run = await warmRun(stack, {
      runtime: "bash",
      code: "sleep 30 & printf 'a\\036b\\036%s:0\\036\\n' 0123456789abcdef0123456789abcdef; echo done",
      timeout: 20,
    });
    expect(run).toMatchObject({ warm: true, status: "succeeded", exitCode: 0, stdout: "a\u001eb\u001e0123456789abcdef0123456789abcdef:0\u001e\ndone\n" });
    expect(run.durationMs!).toBeLessThan(20_000);
    expect(await waitUntil(async () => (await containersForRun(stack, run.id)).length === 0, 10_000)).toBe(true);
  });

  it("learns demand for other limits: after a run with 300 MB, later ones get a warm 300 MB container", async () => {
    const run = await warmRun(stack, { runtime: "python", code: "print('sized')", memory: 300 });
    expect(run).toMatchObject({ warm: true, status: "succeeded", memoryMb: 300 });
  });

  it("reports a memory bomb as OOM-killed from a warm container too", async () => {
    const run = await warmRun(stack, { runtime: "python", code: "x = bytearray(1024 * 1024 * 1024)\nprint('survived')", memory: 64 });
    expect(run).toMatchObject({ warm: true, status: "failed", oomKilled: true });
    expect(run.stdout).not.toContain("survived");
  });
});

describe("warm pool lifecycle", () => {
  it("is off with POOL_ENABLED=0: no idle containers, every run cold", async () => {
    const stack = await startStack({ containerRuntime: "runc", workerEnv: { POOL_ENABLED: "0" } });
    try {
      const runs = [] as WarmRun[];
      for (let i = 0; i < 3; i++) runs.push((await runToEnd(stack.baseUrl, { runtime: "bash", code: "echo cold" })) as WarmRun);
      expect(runs.map((run) => [run.status, run.warm])).toEqual(Array(3).fill(["succeeded", false]));
      expect(poolContainers(stack.dataDir)).toEqual([]);
    } finally {
      await stack.stop();
    }
  }, 120_000);

  it("removes its containers when the worker stops, and a dead worker's are reaped by the next", async () => {
    const stack = await startStack({ containerRuntime: "runc", workerEnv: { POOL_MIN: "1", POOL_MAX: "2" } });
    try {
      // One per runtime at the default limits.
      expect(await waitUntil(() => poolContainers(stack.dataDir).length >= 5, 30_000)).toBe(true);
      await stack.killWorker(stack.workers[0], "SIGKILL");
      const orphans = poolContainers(stack.dataDir);
      expect(orphans.length).toBeGreaterThanOrEqual(5);
      const next = await stack.startWorker();
      // The new worker reaps the dead one's pool and fills its own.
      expect(await waitUntil(() => !poolContainers(stack.dataDir).some((id) => orphans.includes(id)), 30_000)).toBe(true);
      const run = (await runToEnd(stack.baseUrl, { runtime: "bash", code: "echo alive" })) as WarmRun;
      expect(run).toMatchObject({ status: "succeeded", stdout: "alive\n" });
      await stack.killWorker(next, "SIGTERM");
      expect(poolContainers(stack.dataDir)).toEqual([]);
    } finally {
      await stack.stop();
    }
  }, 120_000);
});
