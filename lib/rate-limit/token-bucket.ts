/** A token bucket per key: `capacity` runs at once, refilled at `refillPerMinute`. In memory, per web process. */
export type TokenBucketOptions = { capacity: number; refillPerMinute: number; maxKeys?: number };
export type TakeResult = { ok: true; remaining: number } | { ok: false; retryAfterS: number };

type Bucket = { tokens: number; updatedAt: number };

export function createTokenBucket({ capacity, refillPerMinute, maxKeys = 10_000 }: TokenBucketOptions) {
  const buckets = new Map<string, Bucket>();
  const refillPerMs = refillPerMinute / 60_000;

  const refill = (bucket: Bucket, now: number) => {
    bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.updatedAt) * refillPerMs);
    bucket.updatedAt = now;
  };

  /** Drops full buckets (they carry no information) so a flood of addresses cannot grow the map forever. */
  const prune = (now: number) => {
    for (const [key, bucket] of buckets) {
      refill(bucket, now);
      if (bucket.tokens >= capacity) buckets.delete(key);
    }
    // Still too many: forget the oldest (Map iterates in insertion order).
    for (const key of buckets.keys()) {
      if (buckets.size <= maxKeys) break;
      buckets.delete(key);
    }
  };

  return {
    take(key: string, now = Date.now()): TakeResult {
      let bucket = buckets.get(key);
      if (!bucket) {
        if (buckets.size >= maxKeys) prune(now);
        bucket = { tokens: capacity, updatedAt: now };
        buckets.set(key, bucket);
      }
      refill(bucket, now);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { ok: true, remaining: Math.floor(bucket.tokens) };
      }
      return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerMs / 1000)) };
    },
  };
}

export type TokenBucket = ReturnType<typeof createTokenBucket>;
