import os from "node:os";
import type { SandpitDb } from "@/lib/db/open-database";
import { runtimeCatalog } from "@/lib/runtimes/catalog";
import { MAX_ADVERTISED_IMAGES, type PoolKeyState, type WorkerCapacity } from "@/lib/workers/worker-capacity";
import { servingWorkers } from "@/lib/workers/worker-registry";
import type { ContainerEngine } from "../engine/container-engine";
import { REQUIREMENTS_CACHE_LABEL } from "../sandboxes/requirements-cache";

/** How often the engine is asked which runtime and requirement images it has (a new image is served within this). */
const ENGINE_REFRESH_MS = 10_000;

/** What changes between heartbeats, read from the worker's own parts. */
export type WorkerLoad = { concurrency: number; activeRuns: number; liveSandboxes: number; pool: PoolKeyState[] };

/**
 * This worker's capacity for its heartbeat, and the routing facts its claims need: the runtimes whose image its
 * engine has, the requirement images it has built, and those the other serving workers advertise. Engine facts are
 * refreshed every ENGINE_REFRESH_MS, the other workers' images with every heartbeat (refresh()).
 */
export class CapacityTracker {
  private runtimeNames: string[] = [];
  private builtHereTags = new Set<string>();
  private builtElsewhereTags = new Set<string>();
  private engineCheckedAt = 0;

  constructor(
    private readonly engine: Pick<ContainerEngine, "imageExists" | "listLabelledImages">,
    private readonly imagePrefix: string,
    private readonly workerId: string,
  ) {}

  /** Asks the engine (when due, or `force`) and the database; keeps the last answer when either fails. */
  async refresh(db: SandpitDb | null, force = false): Promise<void> {
    if (force || Date.now() - this.engineCheckedAt >= ENGINE_REFRESH_MS) {
      try {
        await this.readEngine();
        this.engineCheckedAt = Date.now();
      } catch (error) {
        console.error("[worker] could not list images for the capacity report:", (error as Error).message);
      }
    }
    if (db) {
      const others = (await servingWorkers(db)).filter((worker) => worker.id !== this.workerId);
      this.builtElsewhereTags = new Set(others.flatMap((worker) => worker.capacity?.requirementImages ?? []));
    }
  }

  /** Runtimes whose image this worker's engine has: the only runs and sandboxes it claims. */
  runtimes(): readonly string[] {
    return this.runtimeNames;
  }

  builtHere(tag: string): boolean {
    return this.builtHereTags.has(tag);
  }

  builtElsewhere(tag: string): boolean {
    return this.builtElsewhereTags.has(tag);
  }

  /** Records an image this worker just built, before the next engine refresh sees it. */
  noteBuilt(tag: string): void {
    this.builtHereTags.add(tag);
  }

  capacity(load: WorkerLoad): WorkerCapacity {
    return {
      runtimes: [...this.runtimeNames],
      cores: os.availableParallelism(),
      memoryMb: Math.round(os.totalmem() / 1024 / 1024),
      ...load,
      requirementImages: [...this.builtHereTags].slice(0, MAX_ADVERTISED_IMAGES),
    };
  }

  private async readEngine(): Promise<void> {
    const names = runtimeCatalog().names;
    const present = await Promise.all(names.map((name) => this.engine.imageExists(`${this.imagePrefix}${name}`)));
    const images = await this.engine.listLabelledImages(REQUIREMENTS_CACHE_LABEL);
    this.runtimeNames = names.filter((_, index) => present[index]);
    // The most recently built first: past the cap, the oldest go unadvertised (they are the next to be evicted).
    this.builtHereTags = new Set(images.sort((a, b) => b.createdMs - a.createdMs).map((image) => image.tag));
  }
}
