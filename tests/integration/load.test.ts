import Database from "better-sqlite3";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { getRun, postRun, type RunView } from "../support/api-client";
import { createToken, createTokens } from "../support/create-token";
import { callServerAction } from "../support/server-action";
import { startStack, type Stack } from "../support/stack";

/**
 * Load: a burst of 300 runs from 20 concurrent clients against a real stack. Correctness is asserted
 * (none lost, none claimed twice, all succeed with their own output); speed is only reported, in the log
 * and in bench/results/load-latest-runsc.json. Under gVisor only, the default runtime: the same 300-run burst under
 * runc is scale-out.test.ts's (two web servers, three workers), and CI's time does not allow both twice.
 */
const RUNS = 300;
const CLIENTS = 20;
const resultsFile = (containerRuntime: string) => path.resolve(import.meta.dirname, `../../bench/results/load-latest-${containerRuntime}.json`);
const TERMINAL = new Set(["succeeded", "failed", "timed_out", "cancelled", "error"]);

type Submitted = { id: string; tag: string; runtime: string; postMs: number };
type RunTimes = {
  id: string;
  status: string;
  attempts: number;
  worker_id: string | null;
  queued_at: number;
  claimed_at: number | null;
  started_at: number | null;
  finished_at: number | null;
};

/** Alternates a bash and a python hello, each printing a tag unique to its client and index. */
function program(client: number, index: number) {
  const tag = `hello-${client}-${index}`;
  return (client + index) % 2 === 0 ? { tag, body: { runtime: "bash", code: `echo ${tag}` } } : { tag, body: { runtime: "python", code: `print("${tag}")` } };
}

/** Polls with ?wait=1 (each answer is held until the run ends or its wait deadline) until the run is terminal. */
async function waitTerminal(baseUrl: string, id: string): Promise<RunView> {
  for (;;) {
    const run = await getRun(baseUrl, id, true);
    if (TERMINAL.has(run.status)) return run;
  }
}

function percentiles(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  return { p50: at(50), p90: at(90), p99: at(99), max: sorted.at(-1)!, mean: Math.round(sorted.reduce((a, b) => a + b, 0) / sorted.length) };
}

/** Queue depth over time from the runs' own timestamps: +1 when queued, -1 when claimed. Exact, no sampling. */
function peakQueueDepth(rows: RunTimes[]): number {
  const events = rows.flatMap((row) => [
    { at: row.queued_at, delta: 1 },
    { at: row.claimed_at ?? Number.POSITIVE_INFINITY, delta: -1 },
  ]);
  // At equal times, claims first: a run claimed the millisecond another arrives never overlapped it.
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let depth = 0;
  let peak = 0;
  for (const event of events) {
    depth += event.delta;
    peak = Math.max(peak, depth);
  }
  return peak;
}

function readRuns(stack: Stack): RunTimes[] {
  const db = new Database(path.join(stack.dataDir, "sandpit.db"), { readonly: true, fileMustExist: true });
  try {
    return db.prepare("SELECT id, status, attempts, worker_id, queued_at, claimed_at, started_at, finished_at FROM runs ORDER BY seq").all() as RunTimes[];
  } finally {
    db.close();
  }
}

describe.each(["runsc"] as const)("load under %s", (containerRuntime) => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  it(`${RUNS} runs from ${CLIENTS} concurrent clients: none lost, none claimed twice, all succeed`, async () => {
    stack = await startStack({ containerRuntime, workerEnv: { WORKER_CONCURRENCY: String(os.availableParallelism()) } });
    const { baseUrl } = stack;
    const perClient = RUNS / CLIENTS;
    // Each client is an API user with its own token (anonymous callers share one per-address budget).
    const tokens = await createTokens(
      stack.dataDir,
      Array.from({ length: CLIENTS }, (_, client) => `load-client-${client}`),
    );
    const started = Date.now();

    // The burst: every client posts its runs back to back, all clients at once.
    const submittedByClient = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        const submitted: Submitted[] = [];
        for (let index = 0; index < perClient; index++) {
          const { tag, body } = program(client, index);
          const before = performance.now();
          const response = await fetch(`${baseUrl}/api/v1/runs`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${tokens[client]}` },
            body: JSON.stringify(body),
          });
          const json = await response.json();
          const postMs = performance.now() - before;
          expect(response.status, JSON.stringify(json)).toBe(201);
          submitted.push({ id: json.id, tag, runtime: body.runtime, postMs });
        }
        return submitted;
      }),
    );
    const burstMs = Date.now() - started;

    // Every client waits for each of its own runs.
    const results = await Promise.all(
      submittedByClient.map(async (submitted) => {
        const views: RunView[] = [];
        for (const run of submitted) views.push(await waitTerminal(baseUrl, run.id));
        return views;
      }),
    );
    const totalMs = Date.now() - started;

    const submitted = submittedByClient.flat();
    const views = results.flat();
    expect(new Set(submitted.map((run) => run.id)).size).toBe(RUNS);
    for (const [index, run] of submitted.entries()) {
      const view = views[index];
      expect(view.id).toBe(run.id);
      expect({ id: run.id, status: view.status, stdout: view.stdout, stderr: view.stderr }).toEqual({
        id: run.id,
        status: "succeeded",
        stdout: `${run.tag}\n`,
        stderr: "",
      });
    }

    // The database agrees: exactly these runs, each claimed once, all ended.
    const rows = readRuns(stack);
    expect(rows.map((row) => row.id).sort()).toEqual(submitted.map((run) => run.id).sort());
    for (const row of rows) {
      expect({ id: row.id, attempts: row.attempts, status: row.status }).toEqual({ id: row.id, attempts: 1, status: "succeeded" });
      expect(row.claimed_at).not.toBeNull();
      expect(row.started_at).not.toBeNull();
      expect(row.finished_at).not.toBeNull();
    }

    const waitMs = rows.map((row) => row.claimed_at! - row.queued_at);
    const latencyMs = rows.map((row) => row.finished_at! - row.queued_at);
    const runMs = rows.map((row) => row.finished_at! - row.started_at!);
    const postMs = submitted.map((run) => Math.round(run.postMs));
    const report = {
      test: "tests/integration/load.test.ts",
      at: new Date().toISOString(),
      machine: { cores: os.availableParallelism(), memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
      containerRuntime,
      workerConcurrency: os.availableParallelism(),
      runs: RUNS,
      clients: CLIENTS,
      mix: { bash: submitted.filter((run) => run.runtime === "bash").length, python: submitted.filter((run) => run.runtime === "python").length },
      burstMs,
      totalMs,
      throughputRunsPerS: Math.round((RUNS / (totalMs / 1000)) * 100) / 100,
      queueDepthPeak: peakQueueDepth(rows),
      submitMs: percentiles(postMs),
      waitMs: percentiles(waitMs),
      runMs: percentiles(runMs),
      latencyMs: percentiles(latencyMs),
      lost: 0,
      claimedTwice: 0,
    };
    mkdirSync(path.dirname(resultsFile(containerRuntime)), { recursive: true });
    writeFileSync(resultsFile(containerRuntime), JSON.stringify(report, null, 2) + "\n");
    const row = (name: string, stats: ReturnType<typeof percentiles>) =>
      `${name.padEnd(28)}${[stats.p50, stats.p90, stats.p99, stats.max, stats.mean].map((value) => String(value).padStart(8)).join("")}`;
    console.log(
      [
        `load: ${RUNS} runs (${report.mix.bash} bash, ${report.mix.python} python) from ${CLIENTS} clients, runc, ${report.workerConcurrency} at once`,
        `burst accepted in ${burstMs} ms; all done in ${totalMs} ms (${report.throughputRunsPerS} runs/s); queue depth peak ${report.queueDepthPeak}`,
        `${"ms".padEnd(28)}${["p50", "p90", "p99", "max", "mean"].map((label) => label.padStart(8)).join("")}`,
        row("POST /api/v1/runs", report.submitMs),
        row("wait (claimed - queued)", report.waitMs),
        row("run (finished - started)", report.runMs),
        row("latency (finished - queued)", report.latencyMs),
        `written to ${path.relative(process.cwd(), resultsFile(containerRuntime))}`,
      ].join("\n"),
    );
  }, 300_000);

  it("beyond MAX_QUEUED_RUNS answers 429 with Retry-After, creates nothing, and the accepted runs all finish", async () => {
    const limit = 5;
    stack = await startStack({ containerRuntime, webEnv: { MAX_QUEUED_RUNS: String(limit) } });
    const { baseUrl } = stack;
    const token = createToken(stack.dataDir, "load-limit");
    const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const created = await fetch(`${baseUrl}/api/v1/sandboxes`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ runtime: "bash", code: "echo from-sandbox", timeout: 300 }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const sandbox = await created.json();

    // Freeze the only worker so nothing leaves the queue while we fill it.
    const [worker] = stack.workers;
    worker.kill("SIGSTOP");
    let frozen = true;
    try {
      // Twice the limit at once: exactly `limit` get in, however the requests interleave.
      const attempts = await Promise.all(
        Array.from({ length: limit * 2 }, (_, index) =>
          fetch(`${baseUrl}/api/v1/runs`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ runtime: "bash", code: `echo accepted-${index}` }),
          }).then(async (response) => ({ index, status: response.status, retryAfter: response.headers.get("retry-after"), json: await response.json() })),
        ),
      );
      const accepted = attempts.filter((attempt) => attempt.status === 201);
      const refused = attempts.filter((attempt) => attempt.status !== 201);
      expect(accepted).toHaveLength(limit);
      expect(refused).toHaveLength(limit);
      for (const attempt of refused) {
        expect(attempt.status).toBe(429);
        expect(attempt.retryAfter).toMatch(/^[1-9]\d*$/);
        expect(attempt.json.error).toMatch(/run queue is full \(5 runs waiting, limit 5\): try again in \d+ s/);
        expect(attempt.json.id).toBeUndefined();
      }

      // A sandbox run and the playground's server action are refused the same way.
      const sandboxRun = await fetch(`${baseUrl}/api/v1/sandboxes/${sandbox.id}/runs`, { method: "POST", headers: auth, body: "{}" });
      expect(sandboxRun.status).toBe(429);
      expect(sandboxRun.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
      expect((await sandboxRun.json()).error).toMatch(/run queue is full/);
      const action = await callServerAction(baseUrl, "createRunAction", [{ source: "playground", request: { runtime: "bash", code: "echo action" } }], {
        origin: baseUrl,
      });
      expect(action.status).toBe(200);
      expect(action.result).toMatchObject({ ok: false, rateLimited: true, error: expect.stringMatching(/run queue is full/) });
      expect(action.result.retryAfterS).toBeGreaterThanOrEqual(1);

      // Nothing half-created: the database holds exactly the accepted runs.
      const rows = readRuns(stack);
      expect(rows.map((row) => row.id).sort()).toEqual(accepted.map((attempt) => attempt.json.id).sort());
      expect(rows.every((row) => row.status === "queued")).toBe(true);

      worker.kill("SIGCONT");
      frozen = false;
      for (const attempt of accepted) {
        const run = await waitTerminal(baseUrl, attempt.json.id);
        expect({ status: run.status, stdout: run.stdout }).toEqual({ status: "succeeded", stdout: `accepted-${attempt.index}\n` });
      }
      for (const row of readRuns(stack)) expect(row.attempts).toBe(1);

      // With the queue drained there is room again, for plain and sandbox runs alike.
      const again = await postRun(baseUrl, { runtime: "bash", code: "echo room-again" });
      expect(again.status).toBe(201);
      expect((await waitTerminal(baseUrl, again.json.id)).stdout).toBe("room-again\n");
      const inSandbox = await fetch(`${baseUrl}/api/v1/sandboxes/${sandbox.id}/runs?wait=1`, { method: "POST", headers: auth, body: "{}" });
      expect(inSandbox.status).toBe(201);
      expect(await inSandbox.json()).toMatchObject({ stdout: "from-sandbox\n" });
    } finally {
      if (frozen) worker.kill("SIGCONT");
      await fetch(`${baseUrl}/api/v1/sandboxes/${sandbox.id}`, { method: "DELETE", headers: auth }).catch(() => {});
    }
  }, 180_000);
});
