import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { ContainerEngine, StartedContainer } from "@/worker/engine/container-engine";
import { WarmPool, type PoolKey, type PoolSettings } from "@/worker/pool/warm-pool";

/** A fake engine: containers "start" at once and never exit; the test sees what was made and removed. */
class FakeEngine {
  started = new Map<string, PoolKey>();
  removed = new Set<string>();
  private next = 0;
  async start(spec: { key: PoolKey }): Promise<StartedContainer> {
    const id = `c${this.next++}`;
    this.started.set(id, spec.key);
    return { id, stdin: new PassThrough(), output: new PassThrough(), exited: new Promise<number>(() => {}) };
  }
  async remove(id: string): Promise<void> {
    this.removed.add(id);
  }
  live(): PoolKey[] {
    return [...this.started].filter(([id]) => !this.removed.has(id)).map(([, key]) => key);
  }
}

const DEFAULT_KEY: PoolKey = { runtime: "python", memoryMb: 256, cpusMilli: 1000 };
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 2));
};

function makePool(overrides: Partial<PoolSettings> = {}) {
  const engine = new FakeEngine();
  const settings: PoolSettings = {
    enabled: true,
    min: 1,
    max: 4,
    maxKeys: 8,
    memoryBudgetMb: 2048,
    fillConcurrency: 2,
    idleMs: 60_000,
    maxAgeMs: 600_000,
    defaultKeys: [DEFAULT_KEY],
    ...overrides,
  };
  const pool = new WarmPool(engine as unknown as ContainerEngine, (key) => ({ key }) as never, settings);
  return { engine, pool };
}

describe("warm pool keys", () => {
  const pools: WarmPool[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.stop()));
  });

  it("keeps at most maxKeys learned keys under 200 distinct limits, dropping the least recently used with its containers", async () => {
    const { engine, pool } = makePool({ maxKeys: 8 });
    pools.push(pool);
    pool.start();
    for (let i = 0; i < 200; i++) {
      pool.take({ runtime: "bash", memoryMb: 64 + i, cpusMilli: 500 + (i % 7) * 100 });
      expect(pool.keyCount()).toBeLessThanOrEqual(1 + 8);
      if (i % 10 === 0) await settle();
    }
    await settle();
    expect(pool.keyCount()).toBe(1 + 8);
    // Every idle container left belongs to the default key or one of the 8 most recent limits.
    const recent = new Set(Array.from({ length: 8 }, (_, k) => 64 + 199 - k));
    for (const key of engine.live()) expect(key.memoryMb === DEFAULT_KEY.memoryMb || recent.has(key.memoryMb), JSON.stringify(key)).toBe(true);

    // A learned key used again moves to the front: a new key then drops another one, not it.
    pool.take({ runtime: "bash", memoryMb: 64 + 192, cpusMilli: 500 + (192 % 7) * 100 });
    pool.take({ runtime: "bash", memoryMb: 9999, cpusMilli: 1000 });
    await settle();
    expect(engine.live().some((key) => key.memoryMb === 64 + 192)).toBe(true);
    expect(engine.live().some((key) => key.memoryMb === 64 + 193)).toBe(false);
  });

  it("refills the default key first, removing idle learned containers to make room in the memory budget", async () => {
    // Room for four 256 MB containers: learned keys alone could fill it.
    const { engine, pool } = makePool({ memoryBudgetMb: 1024, maxKeys: 16 });
    pools.push(pool);
    pool.start();
    await settle();
    // A run removes the container it took, as its clean-up does.
    const run = async (key: PoolKey) => {
      const taken = pool.take(key);
      if (taken) await pool.retire(taken.id);
      return taken;
    };
    for (let i = 0; i < 200; i++) {
      await run({ runtime: "node", memoryMb: 256, cpusMilli: 100 + i * 10 });
      if (i % 5 === 0) await settle();
    }
    await settle();
    const usedMb = () => engine.live().reduce((sum, key) => sum + key.memoryMb, 0);
    expect(usedMb()).toBeLessThanOrEqual(1024);

    // Now runs with the default limits: every one finds a warm container.
    const before = { ...pool.stats };
    for (let i = 0; i < 50; i++) {
      expect(await run(DEFAULT_KEY), `default take ${i}`).toBeDefined();
      await settle();
      expect(usedMb()).toBeLessThanOrEqual(1024);
    }
    expect(pool.stats.hits - before.hits).toBe(50);
    expect(pool.stats.misses - before.misses).toBe(0);
  });

  it("never forgets a default key, even with no learned keys allowed", async () => {
    const { pool } = makePool({ maxKeys: 0 });
    pools.push(pool);
    for (let i = 0; i < 20; i++) pool.take({ runtime: "go", memoryMb: 100 + i, cpusMilli: 1000 });
    expect(pool.keyCount()).toBe(1);
    await settle();
    expect(pool.take(DEFAULT_KEY)).toBeDefined();
  });
});
