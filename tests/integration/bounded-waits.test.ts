import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runToEnd } from "../support/api-client";
import { createToken } from "../support/create-token";
import { CONTAINER_RUNTIMES } from "../support/runtimes-under-test";
import { startStack, type Stack } from "../support/stack";

/**
 * A hostile sandbox controls its handler's response file and the processes of its runs. Whatever it does
 * (a FIFO that blocks the read for ever, a link to /dev/zero, a huge file, a child that keeps the run's
 * output open), its run ends by its timeout plus a small margin, a cancel ends it within 2 s, and the one
 * worker slot is free for the next run.
 */
const RUN_TIMEOUT_S = 3;
/** Timeout plus the worker's stop grace and the response-read bound, plus time for the HTTP round trips. */
const MARGIN_MS = 4000;

describe.each(CONTAINER_RUNTIMES)("bounded waits on a hostile sandbox under %s", (containerRuntime) => {
  let stack: Stack;
  let token: string;

  beforeAll(async () => {
    // One slot: a run that kept it would leave every later run queued.
    stack = await startStack({ containerRuntime, workerEnv: { WORKER_CONCURRENCY: "1" } });
    token = createToken(stack.dataDir, "hostile");
  }, 120_000);
  afterAll(async () => stack?.stop());

  const api = async (method: string, route: string, body?: unknown) => {
    const response = await fetch(`${stack.baseUrl}/api/v1${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(120_000),
    });
    return { status: response.status, json: (await response.json()) as any };
  };

  async function sandboxWith(code: string): Promise<string> {
    const created = await api("POST", "/sandboxes", { runtime: "bash", code, timeout: 120 });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    return created.json.id;
  }

  /** Runs the sandbox's code and waits for the end; the elapsed time is measured from the request. */
  async function runOnce(sandboxId: string, timeoutS = RUN_TIMEOUT_S) {
    const started = Date.now();
    const queued = await api("POST", `/sandboxes/${sandboxId}/runs`, { timeout: timeoutS });
    expect(queued.status, JSON.stringify(queued.json)).toBe(201);
    const ended = await (await fetch(`${stack.baseUrl}/api/v1/runs/${queued.json.runId}?wait=1`, { signal: AbortSignal.timeout(120_000) })).json();
    return { run: ended, elapsedMs: Date.now() - started };
  }

  async function expectSlotFree() {
    const started = Date.now();
    const next = await runToEnd(stack.baseUrl, { runtime: "bash", code: "echo next", timeout: 10 });
    expect(next.status, JSON.stringify(next)).toBe("succeeded");
    expect(next.stdout).toBe("next\n");
    expect(Date.now() - started).toBeLessThan(20_000);
  }

  it("still reads an ordinary handler response (a regular file under the cap)", async () => {
    const created = await api("POST", "/sandboxes", {
      runtime: "python",
      code: "def handler(event, context):\n    return {'sum': event['a'] + event['b'], 'pad': 'x' * 500000}",
      timeout: 120,
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const result = await api("POST", `/sandboxes/${created.json.id}/runs?wait=1`, { input: { a: 2, b: 3 }, timeout: 20 });
    expect(result.status).toBe(201);
    expect(result.json.status, JSON.stringify(result.json).slice(0, 500)).toBe(200);
    expect(result.json.response.sum).toBe(5);
    expect(result.json.response.pad).toHaveLength(500_000);
    await api("DELETE", `/sandboxes/${created.json.id}`);
  }, 90_000);

  const cases: [string, string][] = [
    ["a FIFO as the response file", 'mkfifo "$SANDPIT_RESPONSE_FILE"; echo made'],
    ["a link to /dev/zero as the response file", 'ln -s /dev/zero "$SANDPIT_RESPONSE_FILE"; echo made'],
    ["a response file far over the byte cap", 'head -c 3000000 /dev/zero | tr "\\0" "[" > "$SANDPIT_RESPONSE_FILE"; echo made'],
    // Swapped in after the worker's check would pass: a file first, then a FIFO in its place.
    [
      "a file replaced by a FIFO",
      'echo "{}" > "$SANDPIT_RESPONSE_FILE"; (sleep 0.05; rm -f "$SANDPIT_RESPONSE_FILE"; mkfifo "$SANDPIT_RESPONSE_FILE") & disown; echo made',
    ],
  ];

  it.each(cases)(
    "%s: the run ends within its timeout plus a margin, without a response, and the slot is freed",
    async (_name, code) => {
      const sandboxId = await sandboxWith(code);
      const { run, elapsedMs } = await runOnce(sandboxId);
      expect(run.stdout, JSON.stringify(run)).toContain("made");
      expect(["succeeded", "failed"]).toContain(run.status);
      expect(elapsedMs, JSON.stringify(run)).toBeLessThan(RUN_TIMEOUT_S * 1000 + MARGIN_MS);
      await expectSlotFree();
      await api("DELETE", `/sandboxes/${sandboxId}`);
    },
    90_000,
  );

  it("a child that keeps the run's output open past the timeout: the run times out and the slot is freed", async () => {
    // setsid: out of the run's process group, so the worker's group kill misses it; it holds stdout open.
    const sandboxId = await sandboxWith("setsid sleep 600 & echo made; sleep 600");
    const { run, elapsedMs } = await runOnce(sandboxId);
    expect(run.status, JSON.stringify(run)).toBe("timed_out");
    expect(elapsedMs).toBeLessThan(RUN_TIMEOUT_S * 1000 + MARGIN_MS);
    await expectSlotFree();
    await api("DELETE", `/sandboxes/${sandboxId}`);
  }, 90_000);

  /** Queues a run of the sandbox's code, waits until it has printed "made", cancels it and times the end. */
  async function cancelAfterMade(sandboxId: string) {
    const queued = await api("POST", `/sandboxes/${sandboxId}/runs`, { timeout: 60 });
    expect(queued.status).toBe(201);
    const runId = queued.json.runId;
    for (let tries = 0; ; tries++) {
      const view = await (await fetch(`${stack.baseUrl}/api/v1/runs/${runId}`)).json();
      if (view.stdout?.includes("made")) break;
      expect(tries).toBeLessThan(200);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const started = Date.now();
    expect((await fetch(`${stack.baseUrl}/api/v1/runs/${runId}/cancel`, { method: "POST" })).status).toBe(200);
    const ended = await (await fetch(`${stack.baseUrl}/api/v1/runs/${runId}?wait=1`, { signal: AbortSignal.timeout(30_000) })).json();
    return { ended, elapsedMs: Date.now() - started };
  }

  it("cancel while the worker reads a response file the sandbox keeps swapping for a FIFO ends the run within 2 s", async () => {
    // The program exits at once; a child swaps the response file between a regular file and a FIFO, so the
    // worker's read may pass its check and then block on the open: only the read's own bounds end it.
    const swapper = [
      'f="$SANDPIT_RESPONSE_FILE"',
      '(for i in $(seq 20000); do echo "{}" > "$f.a"; mv -f "$f.a" "$f"; rm -f "$f.b"; mkfifo "$f.b"; mv -f "$f.b" "$f"; done) > /dev/null 2>&1 < /dev/null & disown',
      "echo made",
    ].join("\n");
    const sandboxId = await sandboxWith(swapper);
    const { ended, elapsedMs } = await cancelAfterMade(sandboxId);
    expect(elapsedMs, JSON.stringify(ended)).toBeLessThan(2000);
    expect(["cancelled", "succeeded"]).toContain(ended.status);
    await expectSlotFree();
    await api("DELETE", `/sandboxes/${sandboxId}`);
  }, 90_000);

  it("cancel of a run whose child holds its output open ends the run within 2 s", async () => {
    const sandboxId = await sandboxWith("setsid sleep 600 & echo made; sleep 600");
    const { ended, elapsedMs } = await cancelAfterMade(sandboxId);
    expect(ended.status, JSON.stringify(ended)).toBe("cancelled");
    expect(elapsedMs).toBeLessThan(2000);
    await expectSlotFree();
    await api("DELETE", `/sandboxes/${sandboxId}`);
  }, 90_000);
});
