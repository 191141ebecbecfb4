import { describe, expect, it } from "vitest";
import { targetPoolSize, updateAverage } from "@/worker/pool/pool-sizing";

describe("targetPoolSize", () => {
  const bounds = { min: 1, max: 4 };

  it("keeps the minimum when nobody asked lately, and nothing when the pool is off", () => {
    expect(targetPoolSize({ recentTakes: 0, windowMs: 10_000, refillMs: 300 }, bounds)).toBe(1);
    expect(targetPoolSize({ recentTakes: 50, windowMs: 10_000, refillMs: 300 }, { min: 1, max: 0 })).toBe(0);
  });

  it("holds the containers in flight during one refill (take rate x refill time) plus one", () => {
    // 1 take/s, refills take 0.3 s: 0.3 in flight -> 1, +1 for a burst.
    expect(targetPoolSize({ recentTakes: 10, windowMs: 10_000, refillMs: 300 }, bounds)).toBe(2);
    // 8 takes/s with 0.35 s refills (gVisor): 2.8 in flight -> 3, +1.
    expect(targetPoolSize({ recentTakes: 80, windowMs: 10_000, refillMs: 350 }, bounds)).toBe(4);
  });

  it("never goes past the maximum, and a key without a minimum follows demand alone", () => {
    expect(targetPoolSize({ recentTakes: 1000, windowMs: 10_000, refillMs: 500 }, bounds)).toBe(4);
    expect(targetPoolSize({ recentTakes: 1, windowMs: 10_000, refillMs: 300 }, { min: 0, max: 4 })).toBe(2);
  });
});

describe("updateAverage", () => {
  it("starts at the first sample and moves a fifth of the way toward each new one", () => {
    expect(updateAverage(undefined, 300)).toBe(300);
    expect(updateAverage(300, 400)).toBe(320);
  });
});
