import { describe, expect, it } from "vitest";
import { CompletionMarkers } from "@/worker/pool/completion-marker";

const token = "0123456789abcdef0123456789abcdef";
const marker = (code: number) => Buffer.from(`\x1e${token}:${code}\x1e`, "latin1");

async function settled(promise: Promise<number>): Promise<number | "pending"> {
  return Promise.race([promise, new Promise<"pending">((resolve) => setTimeout(() => resolve("pending"), 10))]);
}

describe("CompletionMarkers", () => {
  it("strips the marker from both streams and completes with the exit code only once both carried it", async () => {
    const markers = new CompletionMarkers(token);
    expect(markers.push("stdout", Buffer.concat([Buffer.from("hello\n"), marker(3)])).toString()).toBe("hello\n");
    expect(await settled(markers.completed)).toBe("pending");
    expect(markers.push("stderr", Buffer.concat([Buffer.from("oops"), marker(3)])).toString()).toBe("oops");
    expect(await markers.completed).toBe(3);
  });

  it("finds a marker split across reads without forwarding any part of it", async () => {
    const markers = new CompletionMarkers(token);
    const whole = Buffer.concat([Buffer.from("data"), marker(0)]);
    const forwarded: string[] = [];
    for (let i = 0; i < whole.length; i += 5) forwarded.push(markers.push("stdout", whole.subarray(i, i + 5)).toString("latin1"));
    forwarded.push(markers.push("stderr", marker(0)).toString());
    expect(forwarded.join("")).toBe("data");
    expect(await markers.completed).toBe(0);
  });

  it("passes through look-alikes: another token, a bare separator, bad digits", async () => {
    const markers = new CompletionMarkers(token);
    const other = `\x1effffffffffffffffffffffffffffffff:0\x1e`;
    expect(markers.push("stdout", Buffer.from(other + "!", "latin1")).toString("latin1")).toBe(other + "!");
    expect(markers.push("stdout", Buffer.from("a\x1eb", "latin1")).toString("latin1")).toBe("a\x1eb");
    const bad = `\x1e${token}:12345\x1e`;
    expect(markers.push("stdout", Buffer.from(bad, "latin1")).toString("latin1")).toBe(bad);
    // A trailing separator is held back until the stream shows it is not a marker.
    expect(markers.push("stdout", Buffer.from("x\x1e", "latin1")).toString("latin1")).toBe("x");
    expect(markers.push("stdout", Buffer.from("y", "latin1")).toString("latin1")).toBe("\x1ey");
    expect(markers.push("stdout", Buffer.from("z\x1e", "latin1")).toString("latin1")).toBe("z");
    expect(markers.flush("stdout").toString("latin1")).toBe("\x1e");
    expect(await settled(markers.completed)).toBe("pending");
  });

  it("drops whatever arrives after the marker (a leftover process writing after the program exited)", () => {
    const markers = new CompletionMarkers(token);
    expect(markers.push("stdout", Buffer.concat([marker(0), Buffer.from("late")])).length).toBe(0);
    expect(markers.push("stdout", Buffer.from("later")).length).toBe(0);
  });
});
