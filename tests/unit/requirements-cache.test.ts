import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type CachedImage, REQUIREMENTS_CACHE_LABEL, RequirementsCache, type RequirementsImageStore } from "@/worker/sandboxes/requirements-cache";

const MB = 1024 * 1024;

/** An in-memory image store: our own eviction logic is what is under test, not Docker. */
class FakeStore implements RequirementsImageStore {
  images = new Map<string, CachedImage>();
  inUse = new Set<string>();
  labelsAsked: string[] = [];
  async imageExists(tag: string) {
    return this.images.has(tag);
  }
  async listLabelledImages(label: string) {
    this.labelsAsked.push(label);
    return [...this.images.values()];
  }
  async removeImage(tag: string) {
    if (this.inUse.has(tag)) throw new Error("conflict: image is being used by a container");
    this.images.delete(tag);
  }
  add(tag: string, sizeMb: number, createdMs: number) {
    this.images.set(tag, { tag, sizeBytes: sizeMb * MB, createdMs });
  }
  total() {
    return [...this.images.values()].reduce((sum, image) => sum + image.sizeBytes, 0);
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function clock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("RequirementsCache", () => {
  it("evicts least recently used images until the total is under the cap", async () => {
    const store = new FakeStore();
    const time = clock();
    const cache = new RequirementsCache(store, 100 * MB, null, time.now);
    for (const [i, tag] of ["a", "b", "c"].entries()) {
      time.advance(1);
      await cache.ensure(tag, async () => store.add(tag, 40, time.now() + i));
    }
    // a (40) + b (40) fit; c made it 120 MB, so the least recently used, a, went.
    expect([...store.images.keys()].sort()).toEqual(["b", "c"]);
    expect(store.labelsAsked.every((label) => label === REQUIREMENTS_CACHE_LABEL)).toBe(true);

    time.advance(1);
    expect(await cache.ensure("b", async () => expect.unreachable("b is cached"))).toEqual({ cached: true });
    time.advance(1);
    await cache.ensure("d", async () => store.add("d", 40, time.now()));
    // b was used after c, so c is the one to go.
    expect([...store.images.keys()].sort()).toEqual(["b", "d"]);
    expect(store.total()).toBeLessThanOrEqual(100 * MB);
  });

  it("keeps under the cap across many builds and never evicts the image just built", async () => {
    const store = new FakeStore();
    const time = clock();
    const cache = new RequirementsCache(store, 250 * MB, null, time.now);
    for (let i = 0; i < 30; i++) {
      time.advance(10);
      const tag = `img-${i}`;
      const sizeMb = 20 + ((i * 37) % 90);
      await cache.ensure(tag, async () => store.add(tag, sizeMb, time.now()));
      expect(store.images.has(tag)).toBe(true);
      expect(store.total()).toBeLessThanOrEqual(250 * MB);
    }
  });

  it("skips an image Docker refuses to remove (in use) and evicts the next one", async () => {
    const store = new FakeStore();
    store.add("old", 60, 1);
    store.add("mid", 60, 2);
    store.inUse.add("old");
    const time = clock(10);
    const cache = new RequirementsCache(store, 100 * MB, null, time.now);
    await cache.ensure("new", async () => store.add("new", 30, 3));
    expect([...store.images.keys()].sort()).toEqual(["new", "old"]);
  });

  it("shares one build among concurrent requests for the same set", async () => {
    const store = new FakeStore();
    const cache = new RequirementsCache(store, 1000 * MB, null);
    let builds = 0;
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    const build = async () => {
      builds++;
      await gate;
      store.add("shared", 10, 1);
    };
    const requests = Array.from({ length: 5 }, () => cache.ensure("shared", build));
    await new Promise((resolve) => setTimeout(resolve, 10));
    finish();
    const results = await Promise.all(requests);
    expect(builds).toBe(1);
    expect(results.filter((result) => !result.cached)).toHaveLength(1);
  });

  it("a deleted sandbox stops waiting at once; the shared build goes on for the others and is aborted when nobody waits", async () => {
    const store = new FakeStore();
    const cache = new RequirementsCache(store, 1000 * MB, null);
    let finish = () => {};
    const gate = new Promise<void>((resolve) => (finish = resolve));
    const signals: AbortSignal[] = [];
    const build = async (signal: AbortSignal) => {
      signals.push(signal);
      await gate;
      store.add("shared", 10, 1);
    };
    const first = new AbortController();
    const second = new AbortController();
    const firstWait = cache.ensure("shared", build, first.signal);
    const secondWait = cache.ensure("shared", build, second.signal);
    await new Promise((resolve) => setTimeout(resolve, 10));
    first.abort(new Error("sandbox deleted"));
    await expect(firstWait).rejects.toThrow("sandbox deleted");
    expect(signals).toHaveLength(1);
    expect(signals[0].aborted, "a build someone still waits for must go on").toBe(false);
    finish();
    expect(await secondWait).toEqual({ cached: true });

    // Alone: deleting the only waiting sandbox aborts the build, and a later request builds afresh.
    const lone = new AbortController();
    let loneSignal: AbortSignal | undefined;
    const loneWait = cache.ensure(
      "alone",
      (signal) => {
        loneSignal = signal;
        return new Promise<void>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
      },
      lone.signal,
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    lone.abort(new Error("sandbox deleted"));
    await expect(loneWait).rejects.toThrow("sandbox deleted");
    expect(loneSignal?.aborted).toBe(true);
    expect(await cache.ensure("alone", async () => store.add("alone", 1, 1))).toEqual({ cached: false });
  });

  it("a failed build is not cached: the next request builds again", async () => {
    const store = new FakeStore();
    const cache = new RequirementsCache(store, 1000 * MB, null);
    await expect(cache.ensure("x", async () => Promise.reject(new Error("no such package")))).rejects.toThrow("no such package");
    expect(await cache.ensure("x", async () => store.add("x", 1, 1))).toEqual({ cached: false });
  });

  it("remembers last use across worker restarts in its usage file", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "sandpit-cache-test-"));
    dirs.push(dir);
    const usageFile = path.join(dir, "requirements-cache.json");
    const store = new FakeStore();
    store.add("first-built", 60, 1);
    store.add("second-built", 60, 2);
    const time = clock(100);
    // first-built is used recently, so after a restart the older-by-use second-built is the one to go.
    new RequirementsCache(store, 1000 * MB, usageFile, time.now).touch("first-built");
    const restarted = new RequirementsCache(store, 100 * MB, usageFile, time.now);
    expect(await restarted.evict()).toEqual(["second-built"]);
  });
});
