import { webConfig } from "@/lib/config/web-config";
import { SandpitError } from "@/lib/errors/sandpit-error";
import { processSingleton } from "@/lib/os/process-singleton";
import { webRedis, type WebRedis } from "@/lib/redis/web-redis";
import { createRedisTokenBucket, type RedisTokenBucket } from "./redis-token-bucket";
import { createTokenBucket, type TakeResult, type TokenBucket } from "./token-bucket";

/** Where a run request came from: the playground, embeds and anonymous API calls have separate budgets. */
export type RunSource = "playground" | "embed" | "api";

const SOURCES: RunSource[] = ["playground", "embed", "api"];
/** A take that Redis has not answered by then uses this process's bucket instead (see docs/security.md). */
const REDIS_TAKE_TIMEOUT_MS = 500;
const FALLBACK_LOG_INTERVAL_MS = 30_000;

function localLimiters(): Record<RunSource, TokenBucket> {
  return processSingleton("runRateLimits", () => {
    const { rateLimits } = webConfig();
    return Object.fromEntries(SOURCES.map((source) => [source, createTokenBucket(rateLimits[source])])) as Record<RunSource, TokenBucket>;
  });
}

function sharedLimiters(redis: WebRedis): Record<RunSource, RedisTokenBucket> {
  return processSingleton("sharedRunRateLimits", () => {
    const { rateLimits } = webConfig();
    const bucket = (source: RunSource) => createRedisTokenBucket(redis.commands, `${redis.keyPrefix}:rate:${source}`, rateLimits[source]);
    return Object.fromEntries(SOURCES.map((source) => [source, bucket(source)])) as Record<RunSource, RedisTokenBucket>;
  });
}

const fallbackLog = () => processSingleton("rateLimitFallbackLog", () => ({ lastAt: 0 }));

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One web server: this process's buckets. Several (REDIS_URL): the buckets in Redis that all of them share; while
 * Redis cannot answer, this process's own buckets, with a warning (docs/security.md "Rate limits across web servers").
 */
async function take(source: RunSource, client: string): Promise<TakeResult> {
  const redis = webRedis();
  if (!redis) return localLimiters()[source].take(client);
  try {
    return await withTimeout(sharedLimiters(redis)[source].take(client), REDIS_TAKE_TIMEOUT_MS);
  } catch (error) {
    const log = fallbackLog();
    if (Date.now() - log.lastAt >= FALLBACK_LOG_INTERVAL_MS) {
      log.lastAt = Date.now();
      console.warn(`[web] rate limits: Redis did not answer (${(error as Error).message}); this web server's own limits apply meanwhile`);
    }
    return localLimiters()[source].take(client);
  }
}

function rateLimitMessage(retryAfterS: number): string {
  return `Too many runs from your address: please wait ${retryAfterS} second${retryAfterS === 1 ? "" : "s"} and try again.`;
}

/** Takes one run from the client's budget for that source; a spent budget is a `rate_limited` error with Retry-After. */
export async function assertRunToken(source: RunSource, client: string): Promise<void> {
  const limit = await take(source, client);
  if (!limit.ok) throw new SandpitError("rate_limited", rateLimitMessage(limit.retryAfterS), { retryAfterS: limit.retryAfterS });
}
