import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getRun, postRun } from "../support/api-client";
import { waitUntil } from "../support/docker-probe";
import { freePort, startStack, type Stack } from "../support/stack";
import { testsOnPostgres } from "../support/postgres";

/**
 * PostgreSQL mode (scripts/test.sh's PostgreSQL pass): a worker linked to no web server at all (its WEB_URL is a
 * closed port) and with a one-minute fallback poll still starts a queued run, and stops a cancelled one, at once:
 * the web's NOTIFY reaches it through its LISTEN on the database.
 */
describe.skipIf(!testsOnPostgres)("worker commands through PostgreSQL, without a web link", () => {
  let stack: Stack;
  beforeAll(async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    stack = await startStack({ containerRuntime: "runc", workerEnv: { WEB_URL: nowhere, QUEUE_POLL_MS: "60000", POOL_ENABLED: "0" } });
    // The worker's first look at the queue (at start) is behind it.
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }, 120_000);
  afterAll(async () => stack?.stop());

  const statusOf = async (id: string) => (await getRun(stack.baseUrl, id)).status;

  it("wakes the worker for a new run", async () => {
    const created = await postRun(stack.baseUrl, { runtime: "bash", code: "echo woken" });
    expect(created.status).toBe(201);
    expect(await waitUntil(async () => (await statusOf(created.json.id)) === "succeeded", 15_000), stack.logs()).toBe(true);
    expect((await getRun(stack.baseUrl, created.json.id)).stdout).toBe("woken\n");
  });

  it("delivers a cancel", async () => {
    const created = await postRun(stack.baseUrl, { runtime: "bash", code: "echo started; sleep 50", timeout: 60 });
    expect(await waitUntil(async () => (await statusOf(created.json.id)) === "running", 15_000)).toBe(true);
    // Running in its container, not just claimed: its first output was recorded.
    expect(await waitUntil(async () => (await getRun(stack.baseUrl, created.json.id)).stdout === "started\n", 15_000)).toBe(true);
    const cancel = await fetch(`${stack.baseUrl}/api/v1/runs/${created.json.id}/cancel`, { method: "POST" });
    expect(cancel.status).toBe(200);
    expect(await waitUntil(async () => (await statusOf(created.json.id)) === "cancelled", 10_000), stack.logs()).toBe(true);
  });
});
