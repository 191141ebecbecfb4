import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { ContainerEngine, StartedContainer } from "@/worker/engine/container-engine";
import { RemovalQueue } from "@/worker/pool/removal-queue";
import { WarmPool, type PoolKey, type PoolSettings } from "@/worker/pool/warm-pool";

const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fake removal: each call waits until the test releases it, so the test sees how many run at once. */
function controlledRemove() {
  const calls: { id: string; release: () => void }[] = [];
  const removed: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const remove = (id: string) =>
    new Promise<void>((resolve) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      calls.push({
        id,
        release: () => {
          inFlight--;
          removed.push(id);
          resolve();
        },
      });
    });
  return { remove, calls, removed, maxInFlight: () => maxInFlight };
}

describe("removal queue", () => {
  it("removes every queued container, never more than `concurrency` at once", async () => {
    const fake = controlledRemove();
    const queue = new RemovalQueue(fake.remove, { concurrency: 2, maxDeferMs: 1000, busy: () => false });
    const done = Array.from({ length: 7 }, (_, i) => queue.enqueue(`c${i}`));
    await tick();
    expect(fake.calls.length).toBe(2);
    for (let released = 0; released < 7; released++) {
      fake.calls[released].release();
      await tick();
    }
    await Promise.all(done);
    expect(fake.removed.sort()).toEqual(["c0", "c1", "c2", "c3", "c4", "c5", "c6"]);
    expect(fake.maxInFlight()).toBe(2);
    expect(queue.size()).toBe(0);
  });

  it("holds removals while busy and starts them when kicked after busy clears", async () => {
    const fake = controlledRemove();
    let busy = true;
    const queue = new RemovalQueue(fake.remove, { concurrency: 1, maxDeferMs: 60_000, busy: () => busy });
    const done = queue.enqueue("used");
    await tick(20);
    expect(fake.calls.length).toBe(0);
    busy = false;
    queue.kick();
    await tick();
    expect(fake.calls.map((call) => call.id)).toEqual(["used"]);
    fake.calls[0].release();
    await done;
  });

  it("removes a held-back container anyway once it has waited maxDeferMs, however busy", async () => {
    const fake = controlledRemove();
    const queue = new RemovalQueue(fake.remove, { concurrency: 1, maxDeferMs: 40, busy: () => true });
    const done = queue.enqueue("used");
    await tick(10);
    expect(fake.calls.length).toBe(0);
    await tick(80);
    expect(fake.calls.length).toBe(1);
    fake.calls[0].release();
    await done;
  });

  it("drain removes everything at once even while busy, and a failed removal rejects its own promise only", async () => {
    const failing = new Set(["bad"]);
    const removed: string[] = [];
    const queue = new RemovalQueue(
      async (id) => {
        if (failing.has(id)) throw new Error("engine said no");
        removed.push(id);
      },
      { concurrency: 1, maxDeferMs: 60_000, busy: () => true },
    );
    const outcomes = ["a", "bad", "b"].map((id) =>
      queue.enqueue(id).then(
        () => "removed",
        (error: Error) => error.message,
      ),
    );
    await queue.drain();
    expect(await Promise.all(outcomes)).toEqual(["removed", "engine said no", "removed"]);
    expect(removed).toEqual(["a", "b"]);
  });
});

/** A fake engine whose creations finish only when the test says so; removals are recorded in order. */
class SlowEngine {
  events: string[] = [];
  private next = 0;
  private readonly waiting: (() => void)[] = [];
  /** Set when the test is over: creations finish at once, so the pool can stop. */
  instant = false;
  async start(): Promise<StartedContainer> {
    const id = `c${this.next++}`;
    this.events.push(`create ${id}`);
    if (!this.instant) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.events.push(`created ${id}`);
    return { id, stdin: new PassThrough(), output: new PassThrough(), exited: new Promise<number>(() => {}) };
  }
  finishCreations(): void {
    if (this.instant) return;
    for (const resolve of this.waiting.splice(0)) resolve();
  }
  async remove(id: string): Promise<void> {
    this.events.push(`remove ${id}`);
  }
}

const KEY: PoolKey = { runtime: "python", memoryMb: 256, cpusMilli: 1000 };

function makePool(engine: SlowEngine, overrides: Partial<PoolSettings> = {}) {
  return new WarmPool(engine as unknown as ContainerEngine, () => ({}) as never, {
    enabled: true,
    min: 1,
    max: 4,
    maxKeys: 4,
    memoryBudgetMb: 4096,
    fillConcurrency: 2,
    idleMs: 60_000,
    maxAgeMs: 600_000,
    defaultKeys: [KEY],
    ...overrides,
  });
}

describe("warm pool retiring used containers", () => {
  const pools: WarmPool[] = [];
  const engines: SlowEngine[] = [];
  afterEach(async () => {
    for (const engine of engines.splice(0)) {
      engine.finishCreations();
      engine.instant = true;
    }
    await Promise.all(pools.splice(0).map((pool) => pool.stop()));
  });

  it("starts the refill before removing the used container, and removes it once the refill is done", async () => {
    const engine = new SlowEngine();
    engines.push(engine);
    const pool = makePool(engine);
    pools.push(pool);
    pool.start();
    await tick();
    engine.finishCreations();
    await tick();
    engine.events = [];
    const used = pool.take(KEY);
    expect(used).toBeDefined();
    await tick();
    const gone = pool.retire(used!.id);
    await tick(20);
    // The replacement is being created; the used container waits for it.
    expect(engine.events.some((event) => event.startsWith("create "))).toBe(true);
    expect(engine.events).not.toContain(`remove ${used!.id}`);
    engine.finishCreations();
    await gone;
    const created = engine.events.findIndex((event) => event.startsWith("created "));
    const removed = engine.events.indexOf(`remove ${used!.id}`);
    expect(created).toBeGreaterThanOrEqual(0);
    expect(removed).toBeGreaterThan(created);
  });

  it("never hands out a container twice: 100 back-to-back takes see 100 distinct containers, all retired ones removed", async () => {
    const engine = new SlowEngine();
    engines.push(engine);
    const pool = makePool(engine);
    pools.push(pool);
    pool.start();
    const seen = new Set<string>();
    const retired: Promise<void>[] = [];
    let hits = 0;
    for (let i = 0; i < 100; i++) {
      engine.finishCreations();
      await tick(2);
      const taken = pool.take(KEY);
      if (!taken) continue;
      hits++;
      expect(seen.has(taken.id), taken.id).toBe(false);
      seen.add(taken.id);
      retired.push(pool.retire(taken.id));
    }
    engine.finishCreations();
    await Promise.all(retired);
    expect(hits).toBeGreaterThan(50);
    for (const id of seen) expect(engine.events).toContain(`remove ${id}`);
    expect(pool.removalBacklog()).toBe(0);
  });
});

describe("warm pool: a run that finds the pool empty waits for a creation in flight", () => {
  const pools: WarmPool[] = [];
  const engines: SlowEngine[] = [];
  afterEach(async () => {
    for (const engine of engines.splice(0)) {
      engine.finishCreations();
      engine.instant = true;
    }
    await Promise.all(pools.splice(0).map((pool) => pool.stop()));
  });

  it("hands the container being created to the waiting run (not warm); a run beyond the creations in flight adds one", async () => {
    const engine = new SlowEngine();
    engines.push(engine);
    // One fill slot: exactly one creation can be in flight.
    const pool = makePool(engine, { fillConcurrency: 1 });
    pools.push(pool);
    pool.start();
    await tick();
    // The pool's first container is still being created: nothing idle.
    const creates = () => engine.events.filter((event) => event.startsWith("create ")).length;
    expect(creates()).toBe(1);
    const first = pool.takeOrWait(KEY);
    expect(creates()).toBe(1); // the creation in flight is promised to the first run
    const second = pool.takeOrWait(KEY);
    expect(creates()).toBe(2); // the second adds its own, beyond the one fill slot
    engine.finishCreations();
    const [got, got2] = await Promise.all([first, second]);
    expect(got?.waited).toBe(true);
    expect(got2?.waited).toBe(true);
    expect(got2?.container.id).not.toBe(got?.container.id);
    expect(pool.stats.waited).toBe(2);
    // The next creation refills the pool; a later run then takes an idle one, never the same container.
    await tick();
    engine.finishCreations();
    await tick();
    const later = await pool.takeOrWait(KEY);
    expect(later?.waited).toBe(false);
    expect(later?.container.id).not.toBe(got?.container.id);
  });

  it("a waiting run gets undefined (and starts cold) when the creation fails or the pool stops", async () => {
    const engine = new SlowEngine();
    engines.push(engine);
    const failing = engine as unknown as { start: () => Promise<StartedContainer> };
    const realStart = engine.start.bind(engine);
    let fail = true;
    failing.start = async () => {
      const started = await realStart();
      if (fail) throw new Error("create failed");
      return started;
    };
    const pool = makePool(engine, { fillConcurrency: 1 });
    pools.push(pool);
    pool.start();
    await tick();
    const waiting = pool.takeOrWait(KEY);
    engine.finishCreations();
    expect(await waiting).toBeUndefined();

    fail = false;
    const engine2 = new SlowEngine();
    engines.push(engine2);
    const pool2 = makePool(engine2, { fillConcurrency: 1 });
    pools.push(pool2);
    pool2.start();
    await tick();
    const stopping = pool2.takeOrWait(KEY);
    const stopped = pool2.stop();
    expect(await stopping).toBeUndefined();
    engine2.finishCreations();
    await stopped;
  });
});
