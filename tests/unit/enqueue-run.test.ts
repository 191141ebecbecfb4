import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApiToken } from "@/lib/auth/api-tokens";
import type { SandpitDb } from "@/lib/db/open-database";
import { runs, sandboxes, type ApiTokenRow } from "@/lib/db/schema";
import { SandpitError } from "@/lib/errors/sandpit-error";
import type { WorkerCommand } from "@/lib/realtime/events";
import { installWorkerCommander } from "@/lib/realtime/web-bus";
import { createRun } from "@/lib/runs/create-run";
import { enqueueRun, type AdmissionSettings, type RunToQueue } from "@/lib/runs/enqueue-run";
import { addressOwner, tokenOwner } from "@/lib/runs/run-owner";
import { downloadFromSandbox, runInSandbox, uploadToSandbox } from "@/lib/sandboxes/run-in-sandbox";
import { freshDatabase } from "../support/test-database";
import { insertSandbox } from "../support/test-rows";

const limits = { timeoutDefaultS: 10, timeoutMaxS: 300, memoryDefaultMb: 256, memoryMaxMb: 4096, vcpusMax: 4 };
const shares = {
  owner: { maxQueued: 3, maxRunning: 3 },
  anonymous: { maxQueued: 2, maxRunning: 1, maxTimeoutS: 30, maxMemoryMb: 512, maxVcpus: 1 },
};
const RUN: RunToQueue = { runtime: "bash", code: "true", stdin: "", timeoutMs: 1000, memoryMb: 64, cpus: 1000 };

let db: SandpitDb;
let sent: WorkerCommand[];

beforeEach(async () => {
  db = await freshDatabase();
  sent = [];
  installWorkerCommander((command) => sent.push(command));
});
afterEach(() => installWorkerCommander(() => {}));

const wakes = () => sent.filter((command) => command.type === "wake").length;
const queuedCount = async () => (await db.select().from(runs)).length;

/** The error a refused call throws (fails the test when the call is admitted). */
async function refusal(call: () => Promise<unknown>): Promise<SandpitError> {
  try {
    await call();
  } catch (error) {
    expect(error).toBeInstanceOf(SandpitError);
    return error as SandpitError;
  }
  throw new Error("expected a refusal, the run was admitted");
}

describe("enqueueRun: admission", () => {
  it("queues an admitted run under its owner and token, and wakes the workers once", async () => {
    const run = await enqueueRun(db, { maxQueuedRuns: 10, shares, runsPerMinute: 10 }, { owner: tokenOwner("t"), tokenId: "t" }, RUN);
    expect(run).toMatchObject({ status: "queued", ownerKey: "token:t", tokenId: "t", runtime: "bash" });
    expect(run.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(wakes()).toBe(1);
  });

  it.each<[string, AdmissionSettings, RegExp]>([
    // All three limits are reached below; the first in admission's order answers.
    ["the token's runs per minute first", { runsPerMinute: 3, shares, maxQueuedRuns: 3 }, /this token may start 3 runs per minute/],
    ["then the owner's share", { shares, maxQueuedRuns: 3 }, /queued-runs limit for an API token \(OWNER_MAX_QUEUED\) is 3/],
    ["then the queue's capacity", { maxQueuedRuns: 3 }, /the run queue is full \(3 runs waiting, limit 3\)/],
  ])("refuses at a full limit, %s, inserting nothing and waking no one", async (_, settings, message) => {
    for (let n = 0; n < 3; n++) await enqueueRun(db, {}, { owner: tokenOwner("t"), tokenId: "t" }, RUN);
    sent = [];
    const error = await refusal(() => enqueueRun(db, settings, { owner: tokenOwner("t"), tokenId: "t" }, RUN));
    expect(error.code).toBe("rate_limited");
    expect(error.message).toMatch(message);
    expect(error.details.retryAfterS).toBeGreaterThan(0);
    expect(await queuedCount()).toBe(3);
    expect(wakes()).toBe(0);
  });

  it("admits concurrent requests one at a time: a limit is never overshot by requests in flight together", async () => {
    const settings = { shares, maxQueuedRuns: 100 };
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => enqueueRun(db, settings, { owner: tokenOwner("t"), tokenId: "t" }, RUN)));
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(shares.owner.maxQueued);
    expect(await queuedCount()).toBe(shares.owner.maxQueued);
  });

  it("counts shares per owner but the queue's capacity across all owners", async () => {
    for (let n = 0; n < 3; n++) await enqueueRun(db, {}, { owner: tokenOwner("a"), tokenId: "a" }, RUN);
    // Another owner still has its share, and the token quota is per token...
    expect((await enqueueRun(db, { shares, runsPerMinute: 3 }, { owner: tokenOwner("b"), tokenId: "b" }, RUN)).status).toBe("queued");
    // ...but the queue is full for everyone.
    expect((await refusal(() => enqueueRun(db, { maxQueuedRuns: 4 }, { owner: addressOwner("10.0.0.1"), tokenId: null }, RUN))).message).toMatch(
      /run queue is full/,
    );
  });

  it("checks no token quota for anonymous runs", async () => {
    for (let n = 0; n < 3; n++) await enqueueRun(db, { runsPerMinute: 1 }, { owner: addressOwner(`10.0.0.${n}`), tokenId: null }, RUN);
    expect(await queuedCount()).toBe(3);
  });
});

describe("every way of queueing a run goes through the same admission", () => {
  let token: ApiTokenRow;
  let sandboxId: string;
  beforeEach(async () => {
    const made = await createApiToken(db, "admission-test");
    token = { id: made.id } as ApiTokenRow;
    sandboxId = "sandbox-1";
    await insertSandbox(db, { id: sandboxId, tokenId: token.id, runtime: "bash", language: "shell", code: "echo hi", memoryMb: 64, status: "ready" });
  });

  const full = { liveSandboxes: 10, maxQueuedRuns: 1 };
  const fillQueue = () => enqueueRun(db, {}, { owner: addressOwner("10.9.9.9"), tokenId: null }, RUN);

  it.each<[string, () => Promise<unknown>]>([
    ["a code run (API, server actions)", () => createRun(db, { limits, modelsDir: "/nonexistent", maxQueuedRuns: 1 }, { runtime: "bash", code: "true" })],
    ["a sandbox run", () => runInSandbox(db, sandboxId, token, { ...full, lifetimeMaxS: 3600 }, {})],
    ["a file upload", () => uploadToSandbox(db, sandboxId, token, full, { path: "a.txt", content: "aGk=" })],
    ["a file download", () => downloadFromSandbox(db, sandboxId, token, full, "a.txt")],
  ])("%s is refused when the queue is full, and queued when it is not", async (_, queue) => {
    await fillQueue();
    expect((await refusal(queue)).message).toMatch(/run queue is full/);
    expect(await queuedCount()).toBe(1);
    await db.delete(runs);
    sent = [];
    await expect(queue()).resolves.toBeDefined();
    expect(await queuedCount()).toBe(1);
    expect(wakes()).toBe(1);
  });

  it("answers bad input with a validation error even when the queue is full", async () => {
    await fillQueue();
    const error = await refusal(() => createRun(db, { limits, modelsDir: "/nonexistent", maxQueuedRuns: 1 }, { runtime: "bash", code: "" }));
    expect(error).toMatchObject({ code: "validation", details: { field: "code" } });
    expect(await refusal(() => uploadToSandbox(db, sandboxId, token, full, { path: "../x", content: "aGk=" }))).toMatchObject({
      code: "validation",
      details: { field: "path" },
    });
  });

  it("answers a sandbox that is not ready with a conflict before any limit", async () => {
    await fillQueue();
    await db.update(sandboxes).set({ status: "expired" });
    expect((await refusal(() => runInSandbox(db, sandboxId, token, { ...full, lifetimeMaxS: 3600 }, {}))).code).toBe("conflict");
  });
});
