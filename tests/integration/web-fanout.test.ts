import { createClient } from "redis";
import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken } from "../support/create-token";
import { ensureRedis, freshKeyPrefix, stopRedis } from "../support/redis";
import { startStack, type Stack } from "../support/stack";

/**
 * Two web servers (A, B) on one database, sharing the Redis that scripts/ensure-redis.sh starts, and one worker
 * connected to A alone. The worker polls its queue once a minute here, so a run submitted through B starts
 * promptly only if B's wake-up reaches it, and a cancel sent to B lands only if B's command reaches it.
 * The Redis is this file's own (its own port), since one test stops and restarts it. The port is below Linux's
 * ephemeral range (32768-60999), where an outgoing connection could hold it just as Redis starts again.
 */
const REDIS_PORT = 16390;
type Watched = { acknowledgedAt: number; chunks: { seq: number; data: string; at: number }[]; end: { status: string; at: number } };

/** A Socket.IO viewer of one run on one web server, as the playground's: subscribe, then collect until the end. */
function watchRun(url: string, runId: string): Promise<Watched> {
  const socket = io(url, { transports: ["websocket"], reconnection: false });
  return new Promise<Watched>((resolve, reject) => {
    const watched = { acknowledgedAt: 0, chunks: [] as Watched["chunks"] };
    const timer = setTimeout(() => reject(new Error(`no end event from ${url} for ${runId}`)), 60_000);
    socket.on("run:event", (event) => {
      if (event.runId !== runId) return;
      if (event.type === "chunk") watched.chunks.push({ seq: event.seq, data: event.data, at: Date.now() });
      if (event.type === "end") {
        clearTimeout(timer);
        resolve({ ...watched, end: { status: event.status, at: Date.now() } });
      }
    });
    socket.on("connect_error", reject);
    socket.emit("run:subscribe", { runId, afterSeq: -1 }, (reply: { ok: boolean }) => {
      if (!reply.ok) reject(new Error(`subscribe refused: ${JSON.stringify(reply)}`));
      watched.acknowledgedAt = Date.now();
    });
  }).finally(() => socket.close());
}

/** Each viewer (named by its web server) saw the run succeed and got every chunk once, in order: `output` in all. */
function expectEveryChunk(viewers: Record<string, Watched>, output: string) {
  for (const [name, watched] of Object.entries(viewers)) {
    expect(watched.end.status, name).toBe("succeeded");
    expect(
      watched.chunks.map((chunk) => chunk.seq),
      `${name}: every chunk once, in order`,
    ).toEqual(watched.chunks.map((_, index) => index));
    expect(watched.chunks.map((chunk) => chunk.data).join(""), name).toBe(output);
  }
}

describe("several web servers sharing Redis", () => {
  let stack: Stack;
  let webA: string;
  let webB: string;
  let token: string;
  let redisUrl: string;
  const keyPrefix = freshKeyPrefix("fanout");

  const post = (url: string, path: string, body: unknown, auth = true) =>
    fetch(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(auth && { authorization: `Bearer ${token}` }) },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    redisUrl = ensureRedis(REDIS_PORT);
    stack = await startStack({
      containerRuntime: "runc",
      extraWebServers: 1,
      // Anonymous runs: 3 per client at once, then one a minute; the runs below use a token and leave that budget alone.
      webEnv: { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: keyPrefix, API_RATE_LIMIT_BURST: "3", API_RATE_LIMIT_PER_MINUTE: "1" },
      workerEnv: { QUEUE_POLL_MS: "60000" },
    });
    [webA, webB] = stack.webUrls;
    token = createToken(stack.dataDir, "fanout");
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
    stopRedis(REDIS_PORT);
  });

  it("streams a run submitted through B to viewers on B and on A, live and complete", async () => {
    const lines = Array.from({ length: 300 }, (_, index) => `line ${index}`);
    const code = `import time\ntime.sleep(2)\nprint('first', flush=True)\ntime.sleep(1.5)\nprint('second', flush=True)\ntime.sleep(1.5)\nfor i in range(300):\n    print(f'line {i}', flush=True)`;
    const created = await post(webB, "/api/v1/runs", { runtime: "python", code, timeout: 30 });
    expect(created.status).toBe(201);
    const { id } = await created.json();
    const [onB, onA] = await Promise.all([watchRun(webB, id), watchRun(webA, id)]);

    const viewers = { B: onB, A: onA };
    expectEveryChunk(viewers, ["first", "second", ...lines].map((line) => `${line}\n`).join(""));
    for (const [name, watched] of Object.entries(viewers)) {
      // Subscribed before any output, so nothing came from the replay: every chunk was relayed live.
      expect(watched.chunks[0].at, name).toBeGreaterThanOrEqual(watched.acknowledgedAt);
      const second = watched.chunks.find((chunk) => chunk.data.startsWith("second"))!;
      expect(watched.end.at - second.at, `${name}: "second" arrived while the run went on`).toBeGreaterThanOrEqual(1000);
    }
  });

  it("answers a wait on B when the run ends on the worker connected to A, announcing the end to the other web server once", async () => {
    // What web A tells web B goes through Redis pub/sub (Socket.IO server-side events): listen in.
    const listener = createClient({ url: redisUrl });
    await listener.connect();
    const announcements: Buffer[] = [];
    await listener.subscribe(`${keyPrefix}:socket.io#/#`, (message) => announcements.push(message), true);
    try {
      const started = Date.now();
      const response = await post(webB, "/api/v1/runs?wait=1", { runtime: "python", code: "import time\ntime.sleep(1)\nprint('waited')", timeout: 30 });
      expect(response.status).toBe(201);
      const run = await response.json();
      expect(run).toMatchObject({ status: "succeeded", stdout: "waited\n" });
      expect(Date.now() - started).toBeLessThan(30_000);
      const ends = announcements.filter((message) => message.includes("peer:bus") && message.includes(run.id));
      expect(ends).toHaveLength(1);
    } finally {
      await listener.close();
    }
  });

  it("cancels through B a run that the worker connected to A is running", async () => {
    const created = await post(webA, "/api/v1/runs", { runtime: "python", code: "import time\nprint('started', flush=True)\ntime.sleep(60)", timeout: 90 });
    const { id } = await created.json();
    // Running once its first output exists (watched on B, which only relays it).
    const watching = watchRun(webB, id);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const run = await (await fetch(`${webB}/api/v1/runs/${id}`)).json();
      if (run.stdout === "started\n") break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const cancelledAt = Date.now();
    const cancel = await post(webB, `/api/v1/runs/${id}/cancel`, {});
    expect(cancel.status).toBe(200);
    const watched = await watching;
    expect(watched.end.status).toBe("cancelled");
    // The worker polls for cancels once a minute here: only the command relayed from B can have been this quick.
    expect(watched.end.at - cancelledAt).toBeLessThan(15_000);
    const run = await (await fetch(`${webA}/api/v1/runs/${id}`)).json();
    expect(run).toMatchObject({ status: "cancelled", stdout: "started\n" });
  });

  it("spends one rate-limit budget per client across both web servers", async () => {
    // Anonymous requests take from the client's budget before the body is read: an invalid body spends a token and
    // queues nothing. Three through A spend the burst...
    for (let index = 0; index < 3; index++) expect((await post(webA, "/api/v1/runs", {}, false)).status).toBe(400);
    // ...so B, which has not seen this client before, refuses it too, with the same Retry-After A would give.
    const refusedByB = await post(webB, "/api/v1/runs", {}, false);
    expect(refusedByB.status).toBe(429);
    const retryAfterB = Number(refusedByB.headers.get("retry-after"));
    expect(retryAfterB).toBeGreaterThanOrEqual(55);
    expect(retryAfterB).toBeLessThanOrEqual(60);
    const refusedByA = await post(webA, "/api/v1/runs", {}, false);
    expect(refusedByA.status).toBe(429);
    expect(Number(refusedByA.headers.get("retry-after"))).toBeLessThanOrEqual(retryAfterB);
    // A token's runs do not draw on the address's budget.
    expect((await post(webB, "/api/v1/runs", { runtime: "bash", code: "true" })).status).toBe(201);
  });

  it("rides out a Redis restart mid-run: both web servers stay up, viewers on both get every line, rate limits fall back meanwhile", async () => {
    const code = "import time\nfor i in range(60):\n    print(f'tick {i}', flush=True)\n    time.sleep(0.1)";
    const created = await post(webB, "/api/v1/runs", { runtime: "python", code, timeout: 60 });
    const { id } = await created.json();
    const watching = Promise.all([watchRun(webB, id), watchRun(webA, id)]);
    // Once output flows, Redis goes away for a second and a half and comes back empty (no persistence).
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !(await (await fetch(`${webB}/api/v1/runs/${id}`)).json()).stdout) await new Promise((resolve) => setTimeout(resolve, 50));
    stopRedis(REDIS_PORT);
    // Meanwhile an anonymous client is held to B's own bucket: the Redis budget it spent above does not apply, and
    // the answer is neither a 503 nor unlimited (the unit test spends such a bucket to the end).
    expect((await post(webB, "/api/v1/runs", {}, false)).status).toBe(400);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    ensureRedis(REDIS_PORT);

    const [onB, onA] = await watching;
    expectEveryChunk({ B: onB, A: onA }, Array.from({ length: 60 }, (_, index) => `tick ${index}\n`).join(""));
    expect(stack.logs()).toContain("this web server's own limits apply meanwhile");
    // Both web servers are still serving, and share again: a run through B reaches the worker on A.
    for (const url of stack.webUrls) expect((await fetch(`${url}/api/v1/health`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const after = await post(webB, "/api/v1/runs?wait=1", { runtime: "bash", code: "echo back" });
    expect(await after.json()).toMatchObject({ status: "succeeded", stdout: "back\n" });
  });
});
