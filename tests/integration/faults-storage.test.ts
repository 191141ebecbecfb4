import Database from "better-sqlite3";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getRun, postRun, type RunView } from "../support/api-client";
import { waitUntil } from "../support/docker-probe";
import { startStack, type Stack } from "../support/stack";

/**
 * Storage faults: another process holding the database's write lock, and the data folder's disk filling up.
 * The API answers with a clear 503/507 (never a 500), no run is half-written, runs end with a reason,
 * the database stays intact, and everything works again once the fault is gone.
 */
const TERMINAL = ["succeeded", "failed", "timed_out", "cancelled", "error"];

function integrityCheck(databasePath: string): string {
  const db = new Database(databasePath, { readonly: true });
  try {
    return (db.pragma("integrity_check", { simple: true }) as string) ?? "";
  } finally {
    db.close();
  }
}

/** Every run row is whole: a terminal one has its end recorded, a queued one nothing of a start. */
function halfWrittenRuns(databasePath: string): unknown[] {
  const db = new Database(databasePath, { readonly: true });
  try {
    return db
      .prepare(
        `SELECT id, status, finished_at, started_at FROM runs
         WHERE (status IN ('succeeded','failed','timed_out','cancelled','error') AND finished_at IS NULL)
            OR (status = 'queued' AND (started_at IS NOT NULL OR finished_at IS NOT NULL))
            OR code IS NULL OR runtime IS NULL`,
      )
      .all();
  } finally {
    db.close();
  }
}

async function expectClearRefusalOrCreated(response: { status: number; json: any }): Promise<void> {
  expect([201, 503, 507], JSON.stringify(response)).toContain(response.status);
  if (response.status !== 201) expect(response.json.error).toMatch(/database is busy|out of disk space/);
}

// SQLite faults reach the web process and the worker's writes, not the containers: tested once, under the default
// runtime (gVisor), which keeps CI's run short.
describe.each(["runsc"] as const)("storage faults under %s", (containerRuntime) => {
  describe("database locked by another process", () => {
    let stack: Stack;
    let databasePath: string;
    beforeAll(async () => {
      stack = await startStack({ containerRuntime });
      databasePath = path.join(stack.dataDir, "sandpit.db");
    }, 120_000);
    afterAll(async () => stack?.stop());

    it("waits out a short lock, answers 503 past the busy timeout, and ends runs writing meanwhile", async () => {
      // A run that writes output across the whole lock.
      const writer = await postRun(stack.baseUrl, { runtime: "bash", code: "for i in $(seq 1 20); do echo line-$i; sleep 0.5; done", timeout: 30 });
      expect(writer.status).toBe(201);
      expect(await waitUntil(async () => (await getRun(stack.baseUrl, writer.json.id)).stdout.includes("line-2"), 60_000, 200)).toBe(true);

      const locker = new Database(databasePath);
      locker.pragma("busy_timeout = 10000");
      // Short: within the 5 s busy timeout, submissions wait and succeed.
      locker.exec("BEGIN EXCLUSIVE");
      const short = Promise.all([0, 1, 2].map((index) => postRun(stack.baseUrl, { runtime: "bash", code: `echo short-${index}` })));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      locker.exec("COMMIT");
      const shortResponses = await short;
      expect(shortResponses.map((response) => response.status)).toEqual([201, 201, 201]);

      // Long: past the busy timeout, a clear 503 with Retry-After, never a 500.
      locker.exec("BEGIN EXCLUSIVE");
      let longResponses: { status: number; json: any }[];
      let retryAfter: string | null = null;
      try {
        longResponses = await Promise.all(
          [0, 1].map(async (index) => {
            const response = await fetch(`${stack.baseUrl}/api/v1/runs`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ runtime: "bash", code: `echo long-${index}` }),
            });
            retryAfter ??= response.headers.get("retry-after");
            return { status: response.status, json: await response.json() };
          }),
        );
        // The last one comes after the lock has been held well past the busy timeout.
        await new Promise((resolve) => setTimeout(resolve, 500));
      } finally {
        locker.exec("COMMIT");
        locker.close();
      }
      for (const response of longResponses) await expectClearRefusalOrCreated(response);
      expect(
        longResponses.some((response) => response.status === 503),
        JSON.stringify(longResponses),
      ).toBe(true);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);

      // Everything accepted ends; the writer run ends with its output whole or with a clear error.
      const accepted = [writer.json.id, ...shortResponses.map((r) => r.json.id), ...longResponses.filter((r) => r.status === 201).map((r) => r.json.id)];
      const ended: RunView[] = await Promise.all(accepted.map((id) => getRun(stack.baseUrl, id, true)));
      for (const run of ended) expect(TERMINAL, JSON.stringify(run)).toContain(run.status);
      // A short run still executing when the long lock began may end like the writer: with a clear database error.
      shortResponses.forEach((_, index) => {
        const run = ended[1 + index];
        if (run.status === "succeeded") expect(run.stdout).toBe(`short-${index}\n`);
        else expect(run, JSON.stringify(run)).toMatchObject({ status: "error", error: expect.stringMatching(/database/i) });
      });
      const writerRun = ended[0];
      if (writerRun.status === "succeeded") {
        expect(writerRun.stdout).toBe(Array.from({ length: 20 }, (_, i) => `line-${i + 1}\n`).join(""));
      } else {
        expect(writerRun, JSON.stringify(writerRun)).toMatchObject({ status: "error" });
        expect(writerRun.error).toMatch(/database/i);
      }
      expect(halfWrittenRuns(databasePath)).toEqual([]);
      expect(integrityCheck(databasePath)).toBe("ok");
      // The worker and the API carry on.
      const after = await postRun(stack.baseUrl, { runtime: "bash", code: "echo after-lock" });
      expect((await getRun(stack.baseUrl, after.json.id, true)).stdout).toBe("after-lock\n");
    }, 240_000);
  });

  describe("disk nearly full", () => {
    let stack: Stack;
    let mountPoint: string;
    let databasePath: string;
    beforeAll(async () => {
      mountPoint = mkdtempSync(path.join(os.tmpdir(), "sandpit-fullfs-"));
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=48m", "tmpfs", mountPoint]);
      databasePath = path.join(mountPoint, "sandpit.db");
      const env = { DATA_DIR: mountPoint };
      stack = await startStack({ containerRuntime, webEnv: env, workerEnv: env });
    }, 120_000);
    afterAll(async () => {
      await stack?.stop();
      if (mountPoint) {
        execFileSync("umount", ["-l", mountPoint]);
        rmSync(mountPoint, { recursive: true, force: true });
      }
    }, 60_000);

    it("answers 507, ends runs with a clear error, keeps the database intact, and recovers once space is freed", async () => {
      const ok = await postRun(stack.baseUrl, { runtime: "bash", code: "echo before-full" });
      expect((await getRun(stack.baseUrl, ok.json.id, true)).stdout).toBe("before-full\n");

      // A run streaming output while the disk fills up.
      const writer = await postRun(stack.baseUrl, {
        runtime: "bash",
        code: "for i in $(seq 1 40); do head -c 3000 /dev/zero | tr '\\0' x; echo; sleep 0.25; done",
        timeout: 30,
      });
      expect(writer.status).toBe(201);
      expect(await waitUntil(async () => (await getRun(stack.baseUrl, writer.json.id)).stdout.length > 0, 60_000, 200)).toBe(true);
      const filler = path.join(mountPoint, "filler");
      try {
        execFileSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=1M", "count=64"], { stdio: "pipe" });
      } catch {
        // "No space left on device" is the point
      }
      // Whatever is left, a few KiB at most, goes too.
      try {
        writeFileSync(path.join(mountPoint, "filler-2"), Buffer.alloc(1024 * 1024));
      } catch {
        // full
      }

      const refused = await Promise.all([0, 1, 2].map(() => postRun(stack.baseUrl, { runtime: "bash", code: "echo x".repeat(2000) })));
      for (const response of refused) await expectClearRefusalOrCreated(response);
      expect(
        refused.some((response) => response.status === 507),
        JSON.stringify(refused.map((r) => r.status)),
      ).toBe(true);
      const writerRun = await getRun(stack.baseUrl, writer.json.id, true).catch(() => null);

      // Space comes back: the service recovers without a restart.
      rmSync(filler, { force: true });
      rmSync(path.join(mountPoint, "filler-2"), { force: true });
      const ended = writerRun && TERMINAL.includes(writerRun.status) ? writerRun : await getRun(stack.baseUrl, writer.json.id, true);
      expect(TERMINAL, JSON.stringify(ended)).toContain(ended.status);
      if (ended.status !== "succeeded") expect(ended.error ?? "", JSON.stringify(ended)).toMatch(/disk|space|database|storage/i);
      for (const response of refused.filter((r) => r.status === 201)) {
        expect(TERMINAL).toContain((await getRun(stack.baseUrl, response.json.id, true)).status);
      }
      const after = await postRun(stack.baseUrl, { runtime: "bash", code: "echo after-full" });
      expect(after.status, JSON.stringify(after.json)).toBe(201);
      expect((await getRun(stack.baseUrl, after.json.id, true)).stdout).toBe("after-full\n");
      expect(halfWrittenRuns(databasePath)).toEqual([]);
      expect(integrityCheck(databasePath)).toBe("ok");
      expect(stack.logs()).not.toMatch(/\[api\] unexpected error/);
    }, 240_000);
  });
});
