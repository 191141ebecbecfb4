import { describe, expect, it } from "vitest";
import { RemovalQueue } from "@/worker/pool/removal-queue";

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
