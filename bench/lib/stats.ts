/** Nearest-rank percentile of samples (ms). */
export function percentile(samples: number[], p: number): number {
  if (!samples.length) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export type Summary = { n: number; p50: number; p95: number; p99: number; mean: number };

export function summarize(samples: number[]): Summary {
  const mean = samples.reduce((sum, value) => sum + value, 0) / (samples.length || 1);
  return { n: samples.length, p50: percentile(samples, 50), p95: percentile(samples, 95), p99: percentile(samples, 99), mean };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Milliseconds with sub-millisecond resolution, comparable across processes on this host (epoch based). */
export const epochMs = () => performance.timeOrigin + performance.now();
