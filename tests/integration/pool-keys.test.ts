import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runToEnd, type RunView } from "../support/api-client";
import { containersForRun, poolContainers, waitUntil } from "../support/docker-probe";
import { runtimeCatalog } from "@/lib/runtimes/catalog";
import { startStack, type Stack } from "../support/stack";

/**
 * Clients choosing many different limits cannot grow the warm pool's key set or crowd the default limits out
 * of its memory budget: the learned keys stay within POOL_MAX_KEYS (least recently used dropped), and runs
 * with the default limits still find a warm container every time. The LRU and priority logic itself is
 * unit-tested with a fake engine (tests/unit/warm-pool-keys.test.ts).
 */
const MAX_KEYS = 3;
const RUNTIMES = runtimeCatalog().names.length; // one default key per runtime
const DEFAULT_MEMORY_BYTES = 256 * 1024 * 1024;

/**
 * The (memory, CPUs) limits of every live pool container of the stack, idle or just taken. A used container
 * whose program has ended (exited, waiting for its deferred removal) is no longer the pool's and is skipped.
 */
function poolLimits(stack: Stack): string[] {
  const ids = poolContainers(stack.dataDir);
  if (!ids.length) return [];
  // A container removed since the listing is skipped (docker inspect still prints the others).
  const inspected = spawnSync(
    "docker",
    ["inspect", "--format", "{{.State.Running}} {{.Config.Image}}/{{.HostConfig.Memory}}/{{.HostConfig.NanoCpus}}", ...ids],
    { encoding: "utf8" },
  );
  return inspected.stdout
    .split("\n")
    .filter((line) => line.startsWith("true "))
    .map((line) => line.slice("true ".length));
}

describe("warm pool keys under many distinct limits (runc)", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      containerRuntime: "runc",
      // Room for the five default containers and about eight learned ones: memory alone would not bound the keys.
      workerEnv: { POOL_MIN: "1", POOL_MAX: "2", POOL_MAX_KEYS: String(MAX_KEYS), POOL_MEMORY_MB: String(256 * 16), WORKER_CONCURRENCY: "2" },
    });
  }, 120_000);
  afterAll(async () => stack?.stop());

  it("keeps the learned keys bounded, and default-limit runs stay 100 % warm", async () => {
    expect(await waitUntil(() => poolLimits(stack).length >= RUNTIMES, 60_000, 250), stack.logs().slice(-2000)).toBe(true);

    // Twelve distinct limits, each run twice so the pool wants to keep containers for it.
    for (let i = 0; i < 12; i++) {
      const body = { runtime: "bash", code: "true", memory: 256 + 8 * (i + 1), vcpus: 0.5, timeout: 20 };
      for (let repeat = 0; repeat < 2; repeat++) {
        const run = await runToEnd(stack.baseUrl, body);
        expect(run.status, JSON.stringify(run)).toBe("succeeded");
      }
      const distinct = new Set(poolLimits(stack));
      expect(distinct.size, [...distinct].join(", ")).toBeLessThanOrEqual(RUNTIMES + MAX_KEYS);
    }

    // Runs at the default limits: each one finds a warm container (the pool refills the defaults first).
    const defaultBash = () => poolLimits(stack).filter((limits) => limits.includes("bash") && limits.includes(`/${DEFAULT_MEMORY_BYTES}/`)).length;
    for (let i = 0; i < 10; i++) {
      expect(await waitUntil(() => defaultBash() >= 1, 30_000, 100), `default bash container ${i}`).toBe(true);
      const run = (await runToEnd(stack.baseUrl, { runtime: "bash", code: `echo ${i}` })) as RunView & { warm: boolean };
      expect(run.status).toBe("succeeded");
      expect(run.warm, `run ${i}: ${JSON.stringify(run)}`).toBe(true);
      expect(await waitUntil(async () => (await containersForRun(stack, run.id)).length === 0, 10_000)).toBe(true);
    }
    const distinct = new Set(poolLimits(stack));
    expect(distinct.size, [...distinct].join(", ")).toBeLessThanOrEqual(RUNTIMES + MAX_KEYS);
  }, 240_000);
});
