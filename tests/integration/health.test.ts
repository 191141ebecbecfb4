import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken } from "../support/create-token";
import { startStack, type Stack } from "../support/stack";

/** GET /api/v1/health: which boundary each live worker runs sandboxes under (issue 12). */
describe("GET /api/v1/health", () => {
  const stacks: Stack[] = [];
  let runc: Stack;
  let runsc: Stack;
  let debian: Stack;

  beforeAll(async () => {
    [runc, runsc, debian] = await Promise.all([
      startStack({ containerRuntime: "runc", workerEnv: { POOL_ENABLED: "0" } }),
      startStack({ containerRuntime: "runsc", workerEnv: { POOL_ENABLED: "0" } }),
      startStack({ containerRuntime: "runsc", workerEnv: { POOL_ENABLED: "0", SANDBOX_RUNSC_DOCKER_RUNTIME: "runsc-debian" } }),
    ]);
    stacks.push(runc, runsc, debian);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(stacks.map((stack) => stack.stop()));
  });

  async function health(stack: Stack, token?: string): Promise<{ status: number; body: any }> {
    const response = await fetch(`${stack.baseUrl}/api/v1/health`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: response.status, body: await response.json() };
  }

  async function liveWorkers(stack: Stack): Promise<any[]> {
    const token = createToken(stack.dataDir, "health");
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { status, body } = await health(stack, token);
      expect(status).toBe(200);
      if (body.workers.length || Date.now() > deadline) return body.workers;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it("needs a token", async () => {
    expect((await health(runc)).status).toBe(401);
  });

  it("reports the current gVisor build and its systrap platform under runsc, nothing under runc", async () => {
    const [underRunc, underRunsc, underDebian] = await Promise.all([liveWorkers(runc), liveWorkers(runsc), liveWorkers(debian)]);
    expect(underRunc).toEqual([expect.objectContaining({ id: expect.any(String), containerRuntime: "runc", gvisor: null, draining: false })]);
    // Capacity (README "Workers"): the runtimes whose image its Docker has, cores, memory, runs and pool.
    expect(underRunc[0].capacity).toMatchObject({ runtimes: expect.arrayContaining(["bash", "python"]), concurrency: 2, activeRuns: 0, pool: [] });
    expect(underRunc[0].capacity.cores).toBeGreaterThan(0);
    expect(underRunsc).toHaveLength(1);
    expect(underRunsc[0].containerRuntime).toBe("runsc");
    // The pinned module version, stamped by scripts/install-runsc.sh.
    expect(underRunsc[0].gvisor).toMatchObject({ platform: "systrap", version: expect.stringMatching(/^v0\.0\.0-\d{14}-[0-9a-f]{12}\+sandpit\./) });
    expect(underDebian[0].gvisor).toMatchObject({ platform: "ptrace", version: "0.0~20221219.0", path: "/usr/bin/runsc" });
  });
});
