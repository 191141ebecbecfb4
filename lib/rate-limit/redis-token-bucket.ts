import { createHash } from "node:crypto";
import type { RedisClient } from "@/lib/redis/web-redis";
import type { TakeResult, TokenBucketOptions } from "./token-bucket";

/**
 * The same bucket as token-bucket.ts, kept in Redis so every web server draws on one budget per key. One Lua
 * script per take: read, refill, take and write happen atomically. The clock is Redis's own (TIME) unless a
 * test passes `now`, so web servers with skewed clocks agree. A bucket expires a second after it would be full
 * again (it then carries no information; kept longer, its refill would fill it all the same), so keys do not
 * accumulate.
 */
const TAKE_SCRIPT = `
local capacity = tonumber(ARGV[1])
local refill_per_ms = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * refill_per_ms)
local taken = 0
if tokens >= 1 then
  tokens = tokens - 1
  taken = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%d', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / refill_per_ms) + 1000)
if taken == 1 then
  return {1, math.floor(tokens)}
end
return {0, math.max(1, math.ceil((1 - tokens) / refill_per_ms / 1000))}
`;
const TAKE_SHA = createHash("sha1").update(TAKE_SCRIPT).digest("hex");

/** Keys come from untrusted client addresses: hashed, every key has the same short length whatever was sent. */
export function bucketKey(prefix: string, key: string): string {
  return `${prefix}:${createHash("sha256").update(key).digest("base64url").slice(0, 32)}`;
}

export function createRedisTokenBucket(client: RedisClient, keyPrefix: string, { capacity, refillPerMinute }: TokenBucketOptions) {
  const refillPerMs = refillPerMinute / 60_000;
  return {
    async take(key: string, now?: number): Promise<TakeResult> {
      const options = { keys: [bucketKey(keyPrefix, key)], arguments: [String(capacity), String(refillPerMs), now === undefined ? "" : String(now)] };
      let reply: unknown;
      try {
        reply = await client.evalSha(TAKE_SHA, options);
      } catch (error) {
        // Not cached yet on this server (first use, or Redis restarted): send the script itself once.
        if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
        reply = await client.eval(TAKE_SCRIPT, options);
      }
      const [taken, value] = reply as [number, number];
      return taken === 1 ? { ok: true, remaining: value } : { ok: false, retryAfterS: value };
    },
  };
}

export type RedisTokenBucket = ReturnType<typeof createRedisTokenBucket>;
