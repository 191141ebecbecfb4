import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { io } from "socket.io-client";
import { getRun, postRun, runToEnd } from "../support/api-client";
import { containersForRun, recordedContainerId, waitUntil } from "../support/docker-probe";
import { getRuntime, runtimeCatalog } from "@/lib/runtimes/catalog";
import { CONTAINER_RUNTIMES } from "../support/runtimes-under-test";
import { startStack, type Stack } from "../support/stack";

/** Every runtime in the catalog: a new images/<name>/ folder is tested here without editing this file. */
const runtimes = runtimeCatalog().runtimes;

describe.each(CONTAINER_RUNTIMES)("runs under %s", (containerRuntime) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ containerRuntime, workerEnv: { SANDPIT_TEST_CANARY: "worker-secret-canary" } });
  }, 120_000);
  afterAll(async () => stack?.stop());

  it.each(runtimes.map((runtime) => runtime.name))("runs hello world in %s", async (name) => {
    const run = await runToEnd(stack.baseUrl, { runtime: name, code: getRuntime(name).hello.code, timeout: 30 });
    expect(run, JSON.stringify(run)).toMatchObject({ status: "succeeded", exitCode: 0, stdout: "hello\n" });
    expect(run.durationMs).toBeGreaterThan(0);
  });

  it.each(runtimes.map((runtime) => runtime.name))("runs the playground's starter snippet in %s", async (name) => {
    const run = await runToEnd(stack.baseUrl, { runtime: name, code: getRuntime(name).starter, stdin: "Sandpit", timeout: 30 });
    expect(run, JSON.stringify(run)).toMatchObject({ status: "succeeded", exitCode: 0, stderr: "" });
    expect(run.stdout).toMatch(/^Hello/);
  });

  it("passes stdin to the program and returns stderr and the exit code", async () => {
    const run = await runToEnd(stack.baseUrl, {
      runtime: "python",
      code: "import sys\ndata = sys.stdin.read()\nprint(data.upper(), end='')\nprint('oops', file=sys.stderr)\nsys.exit(3)",
      stdin: "line one\nline two\n",
    });
    expect(run).toMatchObject({ status: "failed", exitCode: 3, stdout: "LINE ONE\nLINE TWO\n", stderr: "oops\n", error: null });
  });

  it("keeps unicode and turns invalid UTF-8 into valid JSON", async () => {
    const run = await runToEnd(stack.baseUrl, {
      runtime: "bash",
      code: "printf 'héllo wörld ✓ 🚀\\n'; printf 'bad:\\xff\\xfe:end\\n'",
    });
    expect(run.status).toBe("succeeded");
    expect(run.stdout).toContain("héllo wörld ✓ 🚀\n");
    expect(run.stdout).toContain("bad:\uFFFD\uFFFD:end");
  });

  it("streams the first chunk over Socket.IO well before the end", async () => {
    const created = await postRun(stack.baseUrl, {
      runtime: "python",
      code: "import time\nprint('first', flush=True)\ntime.sleep(1)\nprint('second')",
    });
    const socket = io(stack.baseUrl, { transports: ["websocket"] });
    const seen: { type: string; at: number; data?: string }[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no end event")), 20_000);
      socket.on("run:event", (event) => {
        seen.push({ type: event.type, at: Date.now(), data: event.data });
        if (event.type === "end") {
          clearTimeout(timer);
          resolve();
        }
      });
      socket.emit("run:subscribe", { runId: created.json.id, afterSeq: -1 });
    });
    socket.close();
    const firstChunk = seen.find((event) => event.type === "chunk")!;
    const end = seen.find((event) => event.type === "end")!;
    expect(firstChunk.data).toMatch(/^first/);
    expect(end.at - firstChunk.at).toBeGreaterThanOrEqual(800);
    expect(
      seen
        .filter((event) => event.type === "chunk")
        .map((event) => event.data)
        .join(""),
    ).toBe("first\nsecond\n");
  });

  it("replays everything to a client that joins after the run ended, from any offset", async () => {
    const run = await runToEnd(stack.baseUrl, { runtime: "bash", code: "echo a; sleep 0.2; echo b >&2; sleep 0.2; echo c" });
    const collect = (afterSeq: number) =>
      new Promise<any[]>((resolve) => {
        const socket = io(stack.baseUrl, { transports: ["websocket"] });
        const events: any[] = [];
        socket.on("run:event", (event) => {
          events.push(event);
          if (event.type === "end") {
            socket.close();
            resolve(events);
          }
        });
        socket.emit("run:subscribe", { runId: run.id, afterSeq });
      });
    const all = await collect(-1);
    const chunks = all.filter((event) => event.type === "chunk");
    expect(chunks.map((chunk) => [chunk.stream, chunk.data])).toEqual([
      ["stdout", "a\n"],
      ["stderr", "b\n"],
      ["stdout", "c\n"],
    ]);
    expect(all.at(-1)).toMatchObject({ type: "end", status: "succeeded", exitCode: 0 });
    const later = await collect(chunks[0].seq);
    expect(later.filter((event) => event.type === "chunk").map((chunk) => chunk.data)).toEqual(["b\n", "c\n"]);
  });

  it("times out a sleeping program and removes its container", async () => {
    const started = Date.now();
    const run = await runToEnd(stack.baseUrl, { runtime: "bash", code: "echo going to sleep; sleep 30", timeout: 2 });
    expect(run.status).toBe("timed_out");
    expect(run.stdout).toBe("going to sleep\n");
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await recordedContainerId(stack, run.id)).toMatch(/^[0-9a-f]{64}$/);
    expect(await waitUntil(async () => (await containersForRun(stack, run.id)).length === 0, 5000)).toBe(true);
  });

  it("truncates endless output at the cap and stops the program", async () => {
    const run = await runToEnd(stack.baseUrl, { runtime: "python", code: "while True:\n    print('x' * 1000)", timeout: 30 });
    expect(run.truncated).toBe(true);
    expect(run.status).toBe("failed");
    expect(Buffer.byteLength(run.stdout)).toBeLessThanOrEqual(1024 * 1024);
    expect(Buffer.byteLength(run.stdout)).toBeGreaterThan(1000 * 1000);
    expect(run.stderr).toMatch(/output truncated/);
    expect(await recordedContainerId(stack, run.id)).toMatch(/^[0-9a-f]{64}$/);
    expect(await waitUntil(async () => (await containersForRun(stack, run.id)).length === 0, 5000)).toBe(true);
  });

  // Under runsc the pids cgroup also counts gVisor's own threads: at a cap of 128 this killed the whole sandbox.
  it("runs 30 processes at once within the pids cap", async () => {
    const run = await runToEnd(stack.baseUrl, { runtime: "bash", code: "for i in $(seq 30); do sleep 1 & done; wait; echo all-30-done", timeout: 30 });
    expect(run, JSON.stringify(run)).toMatchObject({ status: "succeeded", stdout: "all-30-done\n" });
  });

  it("reports a memory bomb as OOM-killed", async () => {
    const run = await runToEnd(stack.baseUrl, {
      runtime: "python",
      code: "blocks = []\nwhile True:\n    blocks.append(bytearray(16 * 1024 * 1024))",
      memory: "128MB",
      timeout: 30,
    });
    expect(run, JSON.stringify(run)).toMatchObject({ status: "failed", oomKilled: true });
  });

  it("cancels a running program", async () => {
    const created = await postRun(stack.baseUrl, { runtime: "bash", code: "echo started; sleep 60", timeout: 60 });
    const id = created.json.id;
    await waitUntil(async () => (await getRun(stack.baseUrl, id)).stdout.includes("started"), 15_000);
    const cancel = await fetch(`${stack.baseUrl}/api/v1/runs/${id}/cancel`, { method: "POST" });
    expect(cancel.status).toBe(200);
    const run = await getRun(stack.baseUrl, id, true);
    expect(run.status).toBe("cancelled");
    expect(await recordedContainerId(stack, id)).toMatch(/^[0-9a-f]{64}$/);
    expect(await waitUntil(async () => (await containersForRun(stack, id)).length === 0, 5000)).toBe(true);
  });
});
