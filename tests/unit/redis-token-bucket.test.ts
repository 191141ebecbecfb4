import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bucketKey, createRedisTokenBucket } from "@/lib/rate-limit/redis-token-bucket";
import { createTokenBucket, type TakeResult } from "@/lib/rate-limit/token-bucket";
import type { RedisClient } from "@/lib/redis/web-redis";
import { ensureRedis, freshKeyPrefix } from "../support/redis";

// Against the real Redis that scripts/ensure-redis.sh starts (Debian's redis-server), like the web servers use it.
let redisUrl: string;
let client: RedisClient;

beforeAll(async () => {
  redisUrl = ensureRedis();
  client = createClient({ url: redisUrl, disableOfflineQueue: true }) as RedisClient;
  await client.connect();
});

afterAll(async () => {
  await client?.close();
});

describe("the token bucket in Redis", () => {
  it("answers exactly as the in-process bucket for any sequence of takes (same tokens, same Retry-After)", async () => {
    const step = fc.record({
      key: fc.constantFrom("198.51.100.7", "2001:db8::1", "unknown"),
      dtMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 120_000 })),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 600 }),
        fc.array(step, { minLength: 1, maxLength: 60 }),
        async (capacity, refillPerMinute, steps) => {
          const options = { capacity, refillPerMinute };
          const local = createTokenBucket(options);
          const shared = createRedisTokenBucket(client, freshKeyPrefix("bucket"), options);
          let now = 1_700_000_000_000;
          const expected: TakeResult[] = [];
          const actual: TakeResult[] = [];
          for (const { key, dtMs } of steps) {
            now += dtMs;
            expected.push(local.take(key, now));
            actual.push(await shared.take(key, now));
          }
          expect(actual).toEqual(expected);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("on Redis's own clock: a burst of `capacity`, then refusals whose Retry-After is the time to the next token", async () => {
    const bucket = createRedisTokenBucket(client, freshKeyPrefix("clock"), { capacity: 3, refillPerMinute: 6 });
    const results = [];
    for (let index = 0; index < 4; index++) results.push(await bucket.take("203.0.113.9"));
    expect(results.slice(0, 3)).toEqual([
      { ok: true, remaining: 2 },
      { ok: true, remaining: 1 },
      { ok: true, remaining: 0 },
    ]);
    // 6 a minute: one token every 10 s, and none has had time to come back.
    expect(results[3]).toEqual({ ok: false, retryAfterS: 10 });
    // Another client's budget is its own.
    expect(await bucket.take("203.0.113.10")).toEqual({ ok: true, remaining: 2 });
  });

  it("is atomic: concurrent takes from many connections never hand out more than the capacity", async () => {
    const prefix = freshKeyPrefix("race");
    const clients = await Promise.all(Array.from({ length: 4 }, () => createClient({ url: redisUrl }).connect()));
    try {
      const buckets = clients.map((each) => createRedisTokenBucket(each as RedisClient, prefix, { capacity: 25, refillPerMinute: 1 }));
      const takes = await Promise.all(Array.from({ length: 100 }, (_, index) => buckets[index % buckets.length].take("192.0.2.1")));
      expect(takes.filter((take) => take.ok)).toHaveLength(25);
    } finally {
      await Promise.all(clients.map((each) => each.close()));
    }
  });

  it("keeps keys short whatever the client address, and lets a bucket expire once it would be full again", async () => {
    const prefix = freshKeyPrefix("keys");
    const hostile = "x".repeat(100_000) + "\r\n*1\r\n$8\r\nFLUSHALL\r\n";
    expect(bucketKey(prefix, hostile)).toHaveLength(prefix.length + 1 + 32);
    expect(bucketKey(prefix, hostile)).not.toBe(bucketKey(prefix, hostile + "y"));
    const bucket = createRedisTokenBucket(client, prefix, { capacity: 10, refillPerMinute: 60 });
    expect(await bucket.take(hostile)).toEqual({ ok: true, remaining: 9 });
    // One token short at one a second: full again in 1 s, and the key goes a second after that.
    const ttl = await client.pTTL(bucketKey(prefix, hostile));
    expect(ttl).toBeGreaterThan(1500);
    expect(ttl).toBeLessThanOrEqual(2000);
    expect(await client.keys(`${prefix}:*`)).toHaveLength(1);
  });

  it("sends the script again when Redis has forgotten it (a restarted Redis)", async () => {
    const bucket = createRedisTokenBucket(client, freshKeyPrefix("flush"), { capacity: 2, refillPerMinute: 1 });
    expect(await bucket.take("a")).toEqual({ ok: true, remaining: 1 });
    await client.scriptFlush();
    expect(await bucket.take("a")).toEqual({ ok: true, remaining: 0 });
  });
});

describe("the run rate limits when Redis does not answer", () => {
  it("fall back to this web server's own buckets instead of failing the request or letting everything through", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "sandpit-rate-"));
    const saved = { DATA_DIR: process.env.DATA_DIR, API_RATE_LIMIT_BURST: process.env.API_RATE_LIMIT_BURST };
    Object.assign(process.env, { DATA_DIR: dataDir, API_RATE_LIMIT_BURST: "2" });
    try {
      const { installWebRedis } = await import("@/lib/redis/web-redis");
      const { assertRunToken } = await import("@/lib/rate-limit/run-rate-limit");
      // Never connected, offline queue off: every command fails at once, as while Redis is down.
      const down = createClient({ url: "redis://127.0.0.1:1", disableOfflineQueue: true }) as RedisClient;
      installWebRedis({ fanOut: down, commands: down, keyPrefix: freshKeyPrefix("down") });
      await assertRunToken("api", "198.51.100.1");
      await assertRunToken("api", "198.51.100.1");
      await expect(assertRunToken("api", "198.51.100.1")).rejects.toMatchObject({ code: "rate_limited" });
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
