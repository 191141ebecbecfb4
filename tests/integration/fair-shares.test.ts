import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getRun, postRun, runToEnd } from "../support/api-client";
import { createToken } from "../support/create-token";
import { waitUntil } from "../support/docker-probe";
import { startStack, type Stack } from "../support/stack";

/**
 * Fair shares (issue 11): one owner's backlog never holds every worker slot. Two slots (WORKER_CONCURRENCY=2),
 * each owner may hold one (OWNER_MAX_RUNNING / ANON_MAX_RUNNING = 1), claims go round-robin across owners.
 */
describe("fair shares", () => {
  let stack: Stack;
  let tokenA: string;
  const backlog: string[] = [];

  beforeAll(async () => {
    stack = await startStack({
      containerRuntime: "runc",
      webEnv: { OWNER_MAX_QUEUED: "40", ANON_MAX_QUEUED: "2", ANON_MAX_TIMEOUT_S: "30" },
      workerEnv: { OWNER_MAX_RUNNING: "1", ANON_MAX_RUNNING: "1" },
    });
    tokenA = createToken(stack.dataDir, "client-a");
  }, 120_000);

  afterAll(async () => {
    // Cancel what is left of A's backlog so the stack stops quickly.
    await Promise.all(
      backlog.map((id) =>
        fetch(`${stack.baseUrl}/api/v1/runs/${id}/cancel`, { method: "POST", headers: { authorization: `Bearer ${tokenA}` } }).catch(() => undefined),
      ),
    );
    await stack?.stop();
  }, 60_000);

  const postAsA = (body: unknown) =>
    fetch(`${stack.baseUrl}/api/v1/runs`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${tokenA}` },
      body: JSON.stringify(body),
    });

  it("B's hello world finishes within 3 s while A's 40 long runs wait, and A's next run gets 429", async () => {
    const long = { runtime: "bash", code: "sleep 300", timeout: 300 };
    for (let index = 0; index < 40; index++) {
      const response = await postAsA(long);
      expect(response.status, await response.clone().text()).toBe(201);
      backlog.push(((await response.json()) as { id: string }).id);
    }
    expect(await waitUntil(async () => (await getRun(stack.baseUrl, backlog[0])).status === "running", 20_000)).toBe(true);

    // A is at its queued limit (40, less the one claimed, plus at most one more): the next run is refused.
    let refused: Response | undefined;
    for (let extra = 0; extra < 3 && !refused; extra++) {
      const response = await postAsA(long);
      if (response.status === 201) backlog.push(((await response.json()) as { id: string }).id);
      else refused = response;
    }
    expect(refused?.status).toBe(429);
    expect(Number(refused!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await refused!.json()) as { error: string }).error).toMatch(/queued-runs limit .*OWNER_MAX_QUEUED.* is 40/);

    // B (anonymous) submits after A's backlog and still runs at once, on the free slot (python's warm container).
    const started = Date.now();
    const hello = await runToEnd(stack.baseUrl, { runtime: "python", code: 'print("hello from b")' });
    const tookMs = Date.now() - started;
    expect(hello).toMatchObject({ status: "succeeded", stdout: "hello from b\n" });
    expect(tookMs).toBeLessThan(3000);

    // A's runs continue: its first still runs, the rest wait their turn.
    expect((await getRun(stack.baseUrl, backlog[0])).status).toBe("running");
    expect((await getRun(stack.baseUrl, backlog[1])).status).toBe("queued");
  }, 120_000);

  it("holds anonymous clients to their lower limits: timeout cap (400) and queued limit (429 with Retry-After)", async () => {
    const tooLong = await postRun(stack.baseUrl, { runtime: "bash", code: "true", timeout: 31 });
    expect(tooLong.status).toBe(400);
    expect(JSON.stringify(tooLong.json)).toMatch(/timeout must be at most 30/);

    const mine: string[] = [];
    let refused: { status: number; json: any } | undefined;
    // One may run (ANON_MAX_RUNNING=1), two may wait (ANON_MAX_QUEUED=2); the next is refused.
    for (let index = 0; index < 5 && !refused; index++) {
      const created = await postRun(stack.baseUrl, { runtime: "bash", code: "sleep 30", timeout: 30 });
      if (created.status === 201) mine.push(created.json.id);
      else refused = created;
    }
    try {
      expect(refused?.status).toBe(429);
      expect(JSON.stringify(refused!.json)).toMatch(/ANON_MAX_QUEUED/);
      expect(mine.length).toBeGreaterThanOrEqual(2);
      expect(mine.length).toBeLessThanOrEqual(3);
    } finally {
      await Promise.all(mine.map((id) => fetch(`${stack.baseUrl}/api/v1/runs/${id}/cancel`, { method: "POST" })));
    }
  }, 60_000);
});
