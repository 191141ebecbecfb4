import type { RuntimeName } from "@/lib/runtimes/catalog";
import type { PoolKeyState } from "@/lib/workers/worker-capacity";
import type { ContainerSpec } from "../container/container-spec";
import type { ContainerEngine, StartedContainer } from "../engine/container-engine";
import { targetPoolSize, updateAverage } from "./pool-sizing";
import { RemovalQueue } from "./removal-queue";

/** What a warm container is made for: a run takes one only if its limits match exactly. */
export type PoolKey = { runtime: RuntimeName; memoryMb: number; cpusMilli: number };

export type PoolSettings = {
  enabled: boolean;
  /** Idle containers kept per runtime for the default limits, even without recent demand. */
  min: number;
  /** Idle containers at most per key. */
  max: number;
  /**
   * Limits other than the defaults that the pool learns from runs, at most this many: the least recently
   * used is forgotten first (its idle containers removed), so clients choosing many limits cannot grow it.
   */
  maxKeys: number;
  /** The memory limits of all idle containers together stay under this. */
  memoryBudgetMb: number;
  /** Containers created at once while refilling. */
  fillConcurrency: number;
  /** An idle container above its key's target is removed after this long. */
  idleMs: number;
  /** No container waits longer than this (a rebuilt image reaches the pool within this time). */
  maxAgeMs: number;
  defaultKeys: PoolKey[];
};

type IdleContainer = { container: StartedContainer; key: string; memoryMb: number; since: number };

const DEMAND_WINDOW_MS = 10_000;
const TICK_MS = 1000;
const FAILURE_BACKOFF_MS = 5000;
/** A used container waits at most this long for the refills in progress before it is removed anyway. */
const REMOVAL_MAX_DEFER_MS = 1000;

const keyOf = (key: PoolKey) => `${key.runtime}/${key.memoryMb}/${key.cpusMilli}`;

/**
 * Single-use containers created, started and hardened ahead of demand. A run takes one and hands it
 * its code; the container is destroyed after that run and never given to another. The pool refills
 * in the background and sizes each key to its recent demand (see pool-sizing.ts).
 */
export class WarmPool {
  private readonly idle = new Map<string, IdleContainer[]>();
  /** Every key the pool fills, the least recently taken first (a Map keeps insertion order). */
  private readonly keys = new Map<string, PoolKey>();
  private readonly defaultIds: Set<string>;
  private readonly takes = new Map<string, number[]>();
  private readonly filling = new Map<string, number>();
  private readonly fillingMemoryMb = new Map<string, number>();
  private readonly failedUntil = new Map<string, number>();
  private fillingTotal = 0;
  private readonly creations = new Set<Promise<void>>();
  private refillMs: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Runs that found no idle container and wait for one being created (oldest first), per key. */
  private readonly waiters = new Map<string, ((container: StartedContainer | undefined) => void)[]>();
  private readonly removals: RemovalQueue;

  constructor(
    private readonly engine: ContainerEngine,
    private readonly createSpec: (key: PoolKey) => ContainerSpec,
    private readonly settings: PoolSettings,
  ) {
    this.removals = new RemovalQueue((id) => engine.remove(id), {
      concurrency: settings.fillConcurrency,
      maxDeferMs: REMOVAL_MAX_DEFER_MS,
      busy: () => this.fillingTotal > 0,
    });
    this.defaultIds = new Set(settings.defaultKeys.map(keyOf));
    for (const key of settings.defaultKeys) this.keys.set(keyOf(key), key);
  }

  start(): void {
    if (!this.settings.enabled) return;
    this.fill();
    this.timer = setInterval(() => {
      this.evict();
      this.fill();
    }, TICK_MS);
  }

  /** A started container waiting for code, or undefined (the caller starts a cold one). */
  take(key: PoolKey): StartedContainer | undefined {
    if (!this.settings.enabled || this.stopped) return undefined;
    const id = keyOf(key);
    this.keys.delete(id);
    this.keys.set(id, key);
    this.forgetLeastRecentKeys();
    const now = Date.now();
    const takes = (this.takes.get(id) ?? []).filter((at) => now - at < DEMAND_WINDOW_MS);
    takes.push(now);
    this.takes.set(id, takes);
    const taken = this.idle.get(id)?.shift();
    // Creating a container is a burst of CPU in dockerd, containerd and runc that would compete with the
    // run just handed out: the run's clean-up refills (refill() below) and the tick catches long runs.
    // A key that ran dry refills at once.
    if (!this.idle.get(id)?.length) setImmediate(() => this.fill());
    return taken?.container;
  }

  /**
   * An idle container if there is one; else the first container of this key to finish being created
   * (`waited`): each waiting run adds a creation of its own when those in flight are all promised, as a cold
   * start would, outside the fill slots and the idle budget. Under sustained load the pool is often empty
   * with a creation half done: waiting for it costs the rest of one creation, where a cold start beside it
   * costs a whole one. Undefined when the pool is off or stopping (the caller starts a cold one).
   */
  async takeOrWait(key: PoolKey): Promise<{ container: StartedContainer; waited: boolean } | undefined> {
    const container = this.take(key);
    if (container) return { container, waited: false };
    if (!this.settings.enabled || this.stopped) return undefined;
    const id = keyOf(key);
    this.fill(); // starts a creation for this key now if a fill slot and the memory budget allow
    const waiting = this.waiters.get(id) ?? [];
    if ((this.filling.get(id) ?? 0) <= waiting.length) {
      const creation = this.createOne(id, key);
      this.creations.add(creation);
      void creation.finally(() => this.creations.delete(creation));
    }
    return new Promise((resolve) => {
      waiting.push((started) => resolve(started && { container: started, waited: true }));
      this.waiters.set(id, waiting);
    });
  }

  /** Hands `container` (undefined: none is coming) to the run waiting longest for key `id`; false if none waits. */
  private handToWaiter(id: string, container: StartedContainer | undefined): boolean {
    const waiting = this.waiters.get(id);
    const waiter = waiting?.shift();
    if (!waiting?.length) this.waiters.delete(id);
    if (!waiter) return false;
    waiter(container);
    return true;
  }

  /**
   * Called once a run's outcome is recorded, with the run's used container (warm or cold): the pool
   * refills first and the container is removed in the background, after the refills in progress (at most
   * REMOVAL_MAX_DEFER_MS later). Resolves once the container is gone.
   */
  retire(containerId: string): Promise<void> {
    if (this.stopped) return this.engine.remove(containerId);
    this.fill();
    return this.removals.enqueue(containerId);
  }

  /** Used containers waiting for removal or being removed. */
  removalBacklog(): number {
    return this.removals.size();
  }

  /** How many keys the pool knows: the defaults plus at most `maxKeys` learned ones. */
  keyCount(): number {
    return this.keys.size;
  }

  /** Idle containers per key the pool fills (for the worker's capacity report); nothing once stopped. */
  state(): PoolKeyState[] {
    if (!this.settings.enabled || this.stopped) return [];
    return [...this.keys.entries()].map(([id, key]) => ({ ...key, idle: this.idle.get(id)?.length ?? 0 }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    for (const id of [...this.waiters.keys()]) while (this.handToWaiter(id, undefined));
    // A container still being created would outlive the worker: let each finish (it removes itself).
    await Promise.allSettled([...this.creations]);
    const all = [...this.idle.values()].flat();
    this.idle.clear();
    await Promise.all([...all.map((entry) => this.engine.remove(entry.container.id).catch(() => {})), this.removals.drain()]);
  }

  private target(id: string): number {
    const now = Date.now();
    const recentTakes = (this.takes.get(id) ?? []).filter((at) => now - at < DEMAND_WINDOW_MS).length;
    if (!this.keys.has(id)) return 0;
    const isDefault = this.defaultIds.has(id);
    return targetPoolSize(
      { recentTakes, windowMs: DEMAND_WINDOW_MS, refillMs: this.refillMs ?? 500 },
      { min: isDefault ? this.settings.min : 0, max: this.settings.max },
    );
  }

  private idleMemoryMb(): number {
    let total = 0;
    for (const list of this.idle.values()) for (const entry of list) total += entry.memoryMb;
    return total;
  }

  private fill(): void {
    if (this.stopped) return;
    const now = Date.now();
    // The default keys first, whatever else is wanted; then the largest shortfall first, so one busy key
    // cannot starve the others of fill slots.
    const shortfalls = [...this.keys.entries()]
      .map(([id, key]) => ({
        id,
        key,
        isDefault: this.defaultIds.has(id),
        missing: this.target(id) - (this.idle.get(id)?.length ?? 0) - (this.filling.get(id) ?? 0),
      }))
      .filter((entry) => entry.missing > 0 && (this.failedUntil.get(entry.id) ?? 0) <= now)
      .sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || b.missing - a.missing);
    let fillingMemory = 0;
    for (const [id, count] of this.filling) fillingMemory += count * (this.fillingMemoryMb.get(id) ?? 0);
    for (const entry of shortfalls) {
      for (let i = 0; i < entry.missing; i++) {
        if (this.fillingTotal >= this.settings.fillConcurrency) return;
        const fits = () => this.idleMemoryMb() + fillingMemory + entry.key.memoryMb <= this.settings.memoryBudgetMb;
        // A default key makes room by removing idle containers of learned keys, least recently used first.
        if (!fits() && entry.isDefault) this.reclaimLearned(() => fits());
        if (!fits()) {
          if (entry.isDefault) return;
          break; // a smaller learned key may still fit
        }
        fillingMemory += entry.key.memoryMb;
        const creation = this.createOne(entry.id, entry.key);
        this.creations.add(creation);
        void creation.finally(() => this.creations.delete(creation));
      }
    }
  }

  /** Drops learned keys past `maxKeys`, least recently taken first, with their idle containers. */
  private forgetLeastRecentKeys(): void {
    let learned = this.keys.size - this.defaultIds.size;
    for (const id of this.keys.keys()) {
      if (learned <= this.settings.maxKeys) return;
      if (this.defaultIds.has(id)) continue;
      this.keys.delete(id);
      this.takes.delete(id);
      this.failedUntil.delete(id);
      for (const entry of [...(this.idle.get(id) ?? [])]) this.discard(entry);
      this.idle.delete(id);
      learned--;
    }
  }

  /** Removes idle containers of learned keys (least recently used key first) until `enough()` says so. */
  private reclaimLearned(enough: () => boolean): void {
    for (const id of this.keys.keys()) {
      if (this.defaultIds.has(id)) continue;
      for (const entry of [...(this.idle.get(id) ?? [])]) {
        if (enough()) return;
        this.discard(entry);
      }
    }
  }

  private async createOne(id: string, key: PoolKey): Promise<void> {
    this.fillingTotal++;
    this.filling.set(id, (this.filling.get(id) ?? 0) + 1);
    this.fillingMemoryMb.set(id, key.memoryMb);
    const startedAt = Date.now();
    try {
      const container = await this.engine.start(this.createSpec(key));
      this.refillMs = updateAverage(this.refillMs, Date.now() - startedAt);
      if (this.stopped || !this.keys.has(id)) {
        // Stopping, or the key was forgotten while its container was being made.
        this.handToWaiter(id, undefined);
        await this.engine.remove(container.id).catch(() => {});
        return;
      }
      // A run waiting for this key takes it at once: it was never idle, so no other run can have seen it.
      if (this.handToWaiter(id, container)) return;
      const entry: IdleContainer = { container, key: id, memoryMb: key.memoryMb, since: Date.now() };
      const list = this.idle.get(id) ?? [];
      list.push(entry);
      this.idle.set(id, list);
      // Killed while idle (by hand, by the engine restarting): never hand it to a run.
      void container.exited.then(
        () => this.discard(entry),
        () => this.discard(entry),
      );
    } catch (error) {
      this.failedUntil.set(id, Date.now() + FAILURE_BACKOFF_MS);
      this.handToWaiter(id, undefined); // it starts a cold container (and sees that error, if it persists)
      console.error(`[worker] warm pool could not start a ${id} container:`, (error as Error).message);
    } finally {
      this.fillingTotal--;
      const left = (this.filling.get(id) ?? 1) - 1;
      if (left > 0) this.filling.set(id, left);
      else {
        this.filling.delete(id);
        this.fillingMemoryMb.delete(id);
        // No creation left for this key: whoever still waits starts a cold container.
        while (this.handToWaiter(id, undefined));
      }
      if (!this.stopped) setImmediate(() => this.fill());
      // A removal held back for this creation may go now (unless the fill above starts another).
      setImmediate(() => this.removals.kick());
    }
  }

  private discard(entry: IdleContainer): void {
    const list = this.idle.get(entry.key);
    const index = list?.indexOf(entry) ?? -1;
    if (index < 0) return; // taken by a run: the run owns it now
    list!.splice(index, 1);
    if (!list!.length) this.idle.delete(entry.key);
    void this.engine.remove(entry.container.id).catch(() => {});
  }

  private evict(): void {
    const now = Date.now();
    for (const [id, list] of this.idle) {
      let surplus = list.length - this.target(id);
      for (const entry of [...list]) {
        const tooOld = now - entry.since > this.settings.maxAgeMs;
        const unwanted = surplus > 0 && now - entry.since > this.settings.idleMs;
        if (!tooOld && !unwanted) continue;
        if (unwanted) surplus--;
        this.discard(entry);
      }
    }
  }
}
