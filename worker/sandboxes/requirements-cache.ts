import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";

/** Docker label every requirements image carries: how the cache finds its own images (and only those). */
export const REQUIREMENTS_CACHE_LABEL = "sandpit.requirements-cache";

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
  private readonly building = new Map<string, Promise<void>>();
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
   * for this call (it existed, or another request's build made it).
   */
  async ensure(tag: string, build: () => Promise<void>): Promise<{ cached: boolean }> {
    const inFlight = this.building.get(tag);
    if (inFlight) {
      await inFlight;
      this.touch(tag);
      return { cached: true };
    }
    if (await this.store.imageExists(tag)) {
      this.touch(tag);
      return { cached: true };
    }
    // Checked again: another request may have started the build while imageExists was answering.
    const raced = this.building.get(tag);
    if (raced) return this.ensure(tag, async () => raced);
    const job = build();
    this.building.set(tag, job);
    try {
      await job;
    } finally {
      this.building.delete(tag);
    }
    this.touch(tag);
    await this.evict(new Set([tag]));
    return { cached: false };
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
