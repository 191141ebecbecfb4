/**
 * How many idle warm containers a pool key should hold. Little's law: the containers in flight
 * between "taken" and "replaced" are the take rate times the time one refill takes, so that many
 * (plus one for a burst) keep every run warm. Bounded by POOL_MIN/POOL_MAX; a key nobody used
 * lately falls back to its minimum.
 */
export type PoolDemand = {
  /** Takes (hits and misses) in the last `windowMs`. */
  recentTakes: number;
  windowMs: number;
  /** Moving average of how long creating and starting one container takes. */
  refillMs: number;
};

export type PoolBounds = { min: number; max: number };

export function targetPoolSize(demand: PoolDemand, bounds: PoolBounds): number {
  if (bounds.max <= 0) return 0;
  if (demand.recentTakes === 0) return Math.min(bounds.min, bounds.max);
  const inFlight = (demand.recentTakes / demand.windowMs) * demand.refillMs;
  const wanted = Math.ceil(inFlight) + 1;
  return Math.max(bounds.min, Math.min(bounds.max, wanted));
}

/** Exponentially weighted moving average: recent refills count most, one slow outlier does not dominate. */
export function updateAverage(previous: number | undefined, sample: number, weight = 0.2): number {
  return previous === undefined ? sample : previous + weight * (sample - previous);
}
