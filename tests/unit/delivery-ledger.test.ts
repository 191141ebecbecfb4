import { describe, expect, it } from "vitest";
import type { RunEvent } from "@/lib/realtime/events";
import { DeliveryLedger } from "@/lib/realtime/delivery-ledger";

const chunk = (runId: string, seq: number) => ({ type: "chunk", runId, seq, stream: "stdout", data: `${seq}`, at: 0 }) as RunEvent;
const end = (runId: string) => ({ type: "end", runId }) as unknown as RunEvent;

describe("DeliveryLedger", () => {
  it("lets each chunk and the end through once, whether replayed or relayed first", () => {
    const ledger = new DeliveryLedger();
    ledger.resubscribe("r", -1);
    const replayed = [0, 1].map((seq) => ledger.admit(chunk("r", seq)));
    const relayed = [1, 2, 2].map((seq) => ledger.admit(chunk("r", seq)));
    expect([...replayed, ...relayed]).toEqual([true, true, false, true, false]);
    expect(ledger.admit(end("r"))).toBe(true);
    expect(ledger.admit(end("r"))).toBe(false);
    expect(ledger.admit(chunk("r", 3))).toBe(false);
  });

  it("keeps runs apart, and a new subscription replays from its offset again", () => {
    const ledger = new DeliveryLedger();
    expect(ledger.admit(chunk("a", 0))).toBe(true);
    expect(ledger.admit(chunk("b", 0))).toBe(true);
    expect(ledger.admit(end("a"))).toBe(true);
    ledger.resubscribe("a", 0);
    expect(ledger.admit(chunk("a", 0))).toBe(false);
    expect(ledger.admit(chunk("a", 1))).toBe(true);
    expect(ledger.admit(end("a"))).toBe(true);
    expect(ledger.admit({ type: "started", runId: "b" } as unknown as RunEvent)).toBe(true);
  });

  it("says where to replay from when a relayed chunk skips ahead or the end arrives, and nothing when none can be missing", () => {
    const ledger = new DeliveryLedger();
    expect(ledger.replayBefore(chunk("r", 5))).toBeNull(); // not subscribed here
    ledger.resubscribe("r", 1);
    expect(ledger.replayBefore(chunk("r", 2))).toBeNull();
    expect(ledger.replayBefore(chunk("r", 1))).toBeNull();
    expect(ledger.replayBefore(chunk("r", 4))).toBe(1);
    expect(ledger.replayBefore({ type: "started", runId: "r" } as unknown as RunEvent)).toBeNull();
    expect(ledger.replayBefore(end("r"))).toBe(1);
    ledger.admit(end("r"));
    expect(ledger.replayBefore(end("r"))).toBeNull();
  });

  it("knows whether a run's end was sent (the missed-end sweep asks)", () => {
    const ledger = new DeliveryLedger();
    expect(ledger.ended("r")).toBe(false);
    ledger.resubscribe("r", -1);
    ledger.admit(chunk("r", 0));
    expect(ledger.ended("r")).toBe(false);
    ledger.admit(end("r"));
    expect(ledger.ended("r")).toBe(true);
    ledger.forget("r");
    expect(ledger.ended("r")).toBe(false);
  });
});
