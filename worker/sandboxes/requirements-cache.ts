import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";

/** Docker label every requirements image carries: how the cache finds its own images (and only those). */
export const REQUIREMENTS_CACHE_LABEL = "sandpit.requirements-cache";

type BuildInFlight = { done: Promise<void>; controller: AbortController; waiters: number };

export type CachedImage = { tag: string; sizeBytes: number; createdMs: number };

/** The little the cache needs from the engine: list its labelled images, remove one. */
export interface RequirementsImageStore {
  imageExists(tag: string): Promise<boolean>;
  listLabelledImages(label: string): Promise<CachedImage[]>;
  removeImage(tag: string): Promise<void>;
}

/**
 * Requirement images, capped in total size with least-recently-used eviction. Last use is kept in a small
 * JSON file (Docker labels cannot change after build); an image the file does not know counts as used when
 * it was built. A build in progress is shared by every request for the same tag, never run twice.
 */
export class RequirementsCache {
  private readonly building = new Map<string, BuildInFlight>();
  private readonly lastUsedMs: Map<string, number>;

  constructor(
    private readonly store: RequirementsImageStore,
    private readonly capBytes: number,
    private readonly usageFile: string | null,
    private readonly now: () => number = Date.now,
  ) {
    this.lastUsedMs = new Map(Object.entries(readUsage(usageFile)));
  }

  /**
   * Returns the image `tag`, building it with `build` when it is missing. `cached` is true when no build ran
   * for this call (it existed, or another request's build made it). `waiter` is the caller's cancellation (its
   * sandbox was deleted): the caller stops waiting at once, and the build is aborted when nobody waits for it.
   */
  async ensure(tag: string, build: (signal: AbortSignal) => Promise<void>, waiter?: AbortSignal): Promise<{ cached: boolean }> {
    waiter?.throwIfAborted();
    const inFlight = this.building.get(tag);
    if (inFlight) {
      await this.wait(tag, inFlight, waiter);
      this.touch(tag);
      return { cached: true };
    }
    if (await this.store.imageExists(tag)) {
      this.touch(tag);
      return { cached: true };
    }
    // Checked again: another request may have started the build while imageExists was answering.
    if (this.building.has(tag)) return this.ensure(tag, build, waiter);
    const controller = new AbortController();
    const job: BuildInFlight = { done: build(controller.signal), controller, waiters: 0 };
    this.building.set(tag, job);
    // Registered before any waiter's: once the build settles, the next request checks the image again.
    const forget = () => this.forget(tag, job);
    job.done.then(forget, forget);
    await this.wait(tag, job, waiter);
    this.touch(tag);
    await this.evict(new Set([tag]));
    return { cached: false };
  }

  private forget(tag: string, job: BuildInFlight): void {
    if (this.building.get(tag) === job) this.building.delete(tag);
  }

  /** Waits for a shared build; the last waiter to give up aborts it (and a later request starts afresh). */
  private async wait(tag: string, job: BuildInFlight, waiter?: AbortSignal): Promise<void> {
    job.waiters++;
    let onAbort: (() => void) | undefined;
    try {
      await Promise.race([
        job.done,
        new Promise<never>((_, reject) => {
          if (!waiter) return;
          onAbort = () => reject(waiter.reason);
          waiter.addEventListener("abort", onAbort, { once: true });
        }),
      ]);
    } finally {
      if (onAbort) waiter?.removeEventListener("abort", onAbort);
      job.waiters--;
      if (job.waiters === 0 && waiter?.aborted) {
        job.controller.abort(waiter.reason);
        this.forget(tag, job);
      }
    }
  }

  /** Records a use of `tag` now. */
  touch(tag: string): void {
    this.lastUsedMs.set(tag, this.now());
    this.saveUsage();
  }

  /**
   * Removes least-recently-used images until the total is under the cap. Never removes `keep` or an image
   * being built; an image that is the only one over the cap stays (a sandbox is about to use it).
   */
  async evict(keep: ReadonlySet<string> = new Set()): Promise<string[]> {
    const images = await this.store.listLabelledImages(REQUIREMENTS_CACHE_LABEL);
    let total = images.reduce((sum, image) => sum + image.sizeBytes, 0);
    const removed: string[] = [];
    const oldestFirst = [...images].sort((a, b) => this.lastUse(a) - this.lastUse(b));
    for (const image of oldestFirst) {
      if (total <= this.capBytes) break;
      if (keep.has(image.tag) || this.building.has(image.tag)) continue;
      try {
        await this.store.removeImage(image.tag);
      } catch (error) {
        // In use by a running sandbox's container: Docker refuses; it goes on a later pass.
        console.error(`[worker] could not evict requirements image ${image.tag}:`, (error as Error).message);
        continue;
      }
      total -= image.sizeBytes;
      removed.push(image.tag);
      this.lastUsedMs.delete(image.tag);
    }
    if (removed.length) this.saveUsage();
    return removed;
  }

  private lastUse(image: CachedImage): number {
    return this.lastUsedMs.get(image.tag) ?? image.createdMs;
  }

  private saveUsage(): void {
    if (!this.usageFile) return;
    try {
      const temp = `${this.usageFile}.tmp`;
      writeFileSync(temp, JSON.stringify(Object.fromEntries(this.lastUsedMs)));
      renameSync(temp, this.usageFile);
    } catch (error) {
      // Losing last-use times only makes eviction fall back to build times; never worth failing a sandbox.
      console.error("[worker] could not save requirements cache usage:", (error as Error).message);
    }
  }
}

function readUsage(file: string | null): Record<string, number> {
  if (!file || !existsSync(file)) return {};
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as unknown;
    if (!parsed || typeof parsed !== "object") return {};
    return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, number] => typeof entry[1] === "number"));
  } catch {
    return {};
  }
}
