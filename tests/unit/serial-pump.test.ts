import { describe, expect, it } from "vitest";
import { serialPump } from "@/worker/queue/serial-pump";

describe("serialPump", () => {
  it("never runs the loop twice at once, and pumps during a run make exactly one more run", async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    let release: () => void = () => {};
    const pump = serialPump(async () => {
      runs += 1;
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await new Promise<void>((resolve) => (release = resolve));
      running -= 1;
    });
    pump();
    pump();
    pump();
    expect(runs).toBe(1);
    release();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(runs).toBe(2);
    release();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(runs).toBe(2);
    expect(maxRunning).toBe(1);
  });

  it("does not look again once stopped", async () => {
    let runs = 0;
    let stopped = false;
    let release: () => void = () => {};
    const pump = serialPump(
      async () => {
        runs += 1;
        await new Promise<void>((resolve) => (release = resolve));
      },
      () => stopped,
    );
    pump();
    pump();
    stopped = true;
    release();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(runs).toBe(1);
  });
});
