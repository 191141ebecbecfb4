import { afterEach, describe, expect, it } from "vitest";
import { buildContainerSpec } from "@/worker/container/build-container-spec";
import type { ContainerSpec } from "@/worker/container/container-spec";
import { DEFAULT_HARDENING } from "@/worker/container/hardening-policy";
import type { RuntimeName } from "@/lib/runtimes/catalog";
import { WarmPool, type PoolKey, type PoolSettings } from "@/worker/pool/warm-pool";
import { FakeEngine } from "../support/fake-engine";

const DEFAULT_KEY: PoolKey = { runtime: "python", memoryMb: 256, cpusMilli: 1000 };
const MB = 1024 * 1024;

const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));
const settle = async () => {
  for (let i = 0; i < 20; i++) await tick(2);
};

/** The spec the worker gives a pool container for `key` (as worker/main.ts does). */
const poolSpec = (key: PoolKey): ContainerSpec =>
  buildContainerSpec(
    {
      role: { pool: true },
      workerId: "w1",
      instanceId: "i1",
      image: `sandpit/${key.runtime}`,
      memoryMb: key.memoryMb,
      cpus: key.cpusMilli / 1000,
      containerRuntime: "runc",
    },
    DEFAULT_HARDENING,
  );

/** The key a container was made for, read back from its spec. */
const keyOf = (spec: ContainerSpec): PoolKey => ({
  runtime: spec.image.split("/")[1] as RuntimeName,
  memoryMb: spec.limits.memoryBytes / MB,
  cpusMilli: Math.round(spec.limits.cpus * 1000),
});

const pools: WarmPool[] = [];
const engines: FakeEngine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) engine.resumeStarts();
  await Promise.all(pools.splice(0).map((pool) => pool.stop()));
});

function makePool(overrides: Partial<PoolSettings> = {}, engine = new FakeEngine()) {
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
  const pool = new WarmPool(engine, poolSpec, settings);
  pools.push(pool);
  engines.push(engine);
  const live = () => engine.live().map((container) => keyOf(container.spec));
  return { engine, pool, live };
}

describe("warm pool sizing and refill", () => {
  it("keeps `min` idle containers of each default key and none of other limits until they are asked for", async () => {
    const { engine, pool, live } = makePool({ min: 2, defaultKeys: [DEFAULT_KEY, { ...DEFAULT_KEY, runtime: "bash" }] });
    pool.start();
    await settle();
    await settle();
    expect(
      live()
        .map((key) => key.runtime)
        .sort(),
    ).toEqual(["bash", "bash", "python", "python"]);
    // Hardened exactly as a run's container, labelled for this worker's pool.
    for (const container of engine.live()) expect(container.spec.labels).toMatchObject({ "sandpit.pool": "1", "sandpit.worker": "w1" });
  });

  it("makes nothing when turned off", async () => {
    const { engine, pool } = makePool({ enabled: false });
    pool.start();
    await settle();
    expect(pool.take(DEFAULT_KEY)).toBeUndefined();
    expect(await pool.takeOrWait(DEFAULT_KEY)).toBeUndefined();
    expect(engine.events).toEqual([]);
  });

  it("refills a key once taken, and a taken container is never idle again", async () => {
    const { engine, pool } = makePool({ min: 1 });
    pool.start();
    await settle();
    const first = pool.take(DEFAULT_KEY);
    expect(first).toBeDefined();
    await settle();
    // Besides the taken one (still running its run): at least one replacement, sized to the demand just seen.
    const others = engine.live().filter((container) => container.id !== first!.id);
    expect(others.length).toBeGreaterThanOrEqual(1);
    expect(others.length).toBeLessThanOrEqual(4);
    const second = pool.take(DEFAULT_KEY);
    expect(second).toBeDefined();
    expect(second!.id).not.toBe(first!.id);
  });

  it("grows a busy key toward `max` and never past it", async () => {
    const { engine, pool } = makePool({ min: 1, max: 3, fillConcurrency: 4 });
    pool.start();
    await settle();
    for (let i = 0; i < 30; i++) {
      const taken = pool.take(DEFAULT_KEY);
      if (taken) await pool.retire(taken.id);
      await tick(1);
    }
    await settle();
    const idle = engine.live().filter((container) => container.running);
    expect(idle.length).toBeGreaterThan(1);
    expect(idle.length).toBeLessThanOrEqual(3);
  });

  it("never hands out a container killed while idle", async () => {
    const { engine, pool } = makePool({ min: 1 });
    pool.start();
    await settle();
    const [idle] = engine.live();
    engine.killFromOutside(idle.id);
    await settle();
    expect(engine.events).toContain(`remove ${idle.id}`);
    const taken = pool.take(DEFAULT_KEY);
    expect(taken?.id).not.toBe(idle.id);
  });

  it("backs off after a failed creation instead of retrying at once, and a waiting run starts cold", async () => {
    const { engine, pool } = makePool({ min: 1 });
    engine.startError = new Error("engine says no");
    pool.start();
    await settle();
    expect(engine.events.filter((event) => event.startsWith("create "))).toHaveLength(1);
    expect(await pool.takeOrWait(DEFAULT_KEY)).toBeUndefined();
  });

  it("removes its idle containers on stop, and those still being created once they are made", async () => {
    const { engine, pool } = makePool({ min: 1, fillConcurrency: 1 });
    pool.start();
    await settle();
    engine.holdStarts();
    pool.take(DEFAULT_KEY); // the key ran dry: its refill starts at once, and waits in "creating"
    await settle();
    expect(engine.heldStarts()).toBeGreaterThan(0);
    const stopped = pool.stop();
    engine.resumeStarts();
    await stopped;
    const taken = engine.live().filter((container) => container.running);
    // Only the container handed to the run stays (the run retires it); nothing idle is left behind.
    expect(taken).toHaveLength(1);
  });
});

describe("warm pool keys", () => {
  it("keeps at most maxKeys learned keys under 200 distinct limits, dropping the least recently used with its containers", async () => {
    const { pool, live } = makePool({ maxKeys: 8 });
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
    for (const key of live()) expect(key.memoryMb === DEFAULT_KEY.memoryMb || recent.has(key.memoryMb), JSON.stringify(key)).toBe(true);

    // A learned key used again moves to the front: a new key then drops another one, not it.
    pool.take({ runtime: "bash", memoryMb: 64 + 192, cpusMilli: 500 + (192 % 7) * 100 });
    pool.take({ runtime: "bash", memoryMb: 9999, cpusMilli: 1000 });
    await settle();
    expect(live().some((key) => key.memoryMb === 64 + 192)).toBe(true);
    expect(live().some((key) => key.memoryMb === 64 + 193)).toBe(false);
  });

  it("refills the default key first, removing idle learned containers to make room in the memory budget", async () => {
    // Room for four 256 MB containers: learned keys alone could fill it.
    const { pool, live } = makePool({ memoryBudgetMb: 1024, maxKeys: 16 });
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
    const usedMb = () => live().reduce((sum, key) => sum + key.memoryMb, 0);
    expect(usedMb()).toBeLessThanOrEqual(1024);

    // Now runs with the default limits: every one finds a warm container.
    for (let i = 0; i < 50; i++) {
      expect(await run(DEFAULT_KEY), `default take ${i}`).toBeDefined();
      await settle();
      expect(usedMb()).toBeLessThanOrEqual(1024);
    }
  });

  it("never forgets a default key, even with no learned keys allowed", async () => {
    const { pool } = makePool({ maxKeys: 0 });
    for (let i = 0; i < 20; i++) pool.take({ runtime: "go", memoryMb: 100 + i, cpusMilli: 1000 });
    expect(pool.keyCount()).toBe(1);
    pool.start();
    await settle();
    expect(pool.take(DEFAULT_KEY)).toBeDefined();
  });
});

describe("warm pool retiring used containers", () => {
  it("starts the refill before removing the used container, and removes it once the refill is done", async () => {
    const { engine, pool } = makePool();
    engine.holdStarts();
    pool.start();
    await tick();
    engine.releaseStarts();
    await tick();
    engine.events = [];
    const used = pool.take(DEFAULT_KEY);
    expect(used).toBeDefined();
    await tick();
    const gone = pool.retire(used!.id);
    await tick(20);
    // The replacement is being created; the used container waits for it.
    expect(engine.events.some((event) => event.startsWith("create "))).toBe(true);
    expect(engine.events).not.toContain(`remove ${used!.id}`);
    engine.releaseStarts();
    await gone;
    const created = engine.events.findIndex((event) => event.startsWith("created "));
    const removed = engine.events.indexOf(`remove ${used!.id}`);
    expect(created).toBeGreaterThanOrEqual(0);
    expect(removed).toBeGreaterThan(created);
  });

  it("never hands out a container twice: 100 back-to-back takes see 100 distinct containers, all retired ones removed", async () => {
    const { engine, pool } = makePool();
    engine.holdStarts();
    pool.start();
    const seen = new Set<string>();
    const retired: Promise<void>[] = [];
    let hits = 0;
    for (let i = 0; i < 100; i++) {
      engine.releaseStarts();
      await tick(2);
      const taken = pool.take(DEFAULT_KEY);
      if (!taken) continue;
      hits++;
      expect(seen.has(taken.id), taken.id).toBe(false);
      seen.add(taken.id);
      retired.push(pool.retire(taken.id));
    }
    engine.releaseStarts();
    await Promise.all(retired);
    expect(hits).toBeGreaterThan(50);
    for (const id of seen) expect(engine.events).toContain(`remove ${id}`);
    expect(pool.removalBacklog()).toBe(0);
  });
});

describe("warm pool: a run that finds the pool empty waits for a creation in flight", () => {
  it("hands the container being created to the waiting run (not warm); a run beyond the creations in flight adds one", async () => {
    // One fill slot: exactly one creation can be in flight.
    const { engine, pool } = makePool({ fillConcurrency: 1 });
    engine.holdStarts();
    pool.start();
    await tick();
    // The pool's first container is still being created: nothing idle.
    const creates = () => engine.events.filter((event) => event.startsWith("create ")).length;
    expect(creates()).toBe(1);
    const first = pool.takeOrWait(DEFAULT_KEY);
    expect(creates()).toBe(1); // the creation in flight is promised to the first run
    const second = pool.takeOrWait(DEFAULT_KEY);
    expect(creates()).toBe(2); // the second adds its own, beyond the one fill slot
    engine.releaseStarts();
    const [got, got2] = await Promise.all([first, second]);
    expect(got?.waited).toBe(true);
    expect(got2?.waited).toBe(true);
    expect(got2?.container.id).not.toBe(got?.container.id);
    // The next creation refills the pool; a later run then takes an idle one, never the same container.
    await tick();
    engine.releaseStarts();
    await tick();
    const later = await pool.takeOrWait(DEFAULT_KEY);
    expect(later?.waited).toBe(false);
    expect(later?.container.id).not.toBe(got?.container.id);
    expect(later?.container.id).not.toBe(got2?.container.id);
  });

  it("a waiting run gets undefined (and starts cold) when the creation fails or the pool stops", async () => {
    const { engine, pool } = makePool({ fillConcurrency: 1 });
    engine.holdStarts();
    engine.startError = new Error("create failed");
    pool.start();
    await tick();
    const waiting = pool.takeOrWait(DEFAULT_KEY);
    engine.releaseStarts();
    expect(await waiting).toBeUndefined();

    const { engine: engine2, pool: pool2 } = makePool({ fillConcurrency: 1 });
    engine2.holdStarts();
    pool2.start();
    await tick();
    const stopping = pool2.takeOrWait(DEFAULT_KEY);
    const stopped = pool2.stop();
    expect(await stopping).toBeUndefined();
    engine2.releaseStarts();
    await stopped;
    expect(engine2.live()).toEqual([]);
  });
});
