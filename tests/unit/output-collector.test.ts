import { describe, expect, it } from "vitest";
import { OutputCollector, type CollectedChunk } from "@/worker/execution/output-collector";

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("OutputCollector", () => {
  it("keeps order across streams and merges what arrives in one turn", async () => {
    const emitted: CollectedChunk[][] = [];
    const collector = new OutputCollector(
      1000,
      (chunks) => emitted.push(chunks),
      () => {},
    );
    collector.push("stdout", Buffer.from("a"));
    collector.push("stdout", Buffer.from("b"));
    collector.push("stderr", Buffer.from("c"));
    await tick();
    collector.push("stdout", Buffer.from("d"));
    collector.end();
    expect(emitted).toEqual([
      [
        { stream: "stdout", data: "ab", bytes: 2 },
        { stream: "stderr", data: "c", bytes: 1 },
      ],
      [{ stream: "stdout", data: "d", bytes: 1 }],
    ]);
  });

  it("joins a multi-byte character split across writes and replaces invalid bytes", () => {
    const emitted: CollectedChunk[] = [];
    const collector = new OutputCollector(
      1000,
      (chunks) => emitted.push(...chunks),
      () => {},
    );
    const rocket = Buffer.from("🚀");
    collector.push("stdout", rocket.subarray(0, 2));
    collector.push("stdout", rocket.subarray(2));
    collector.push("stdout", Buffer.from([0x21, 0xff, 0x21]));
    collector.end();
    expect(emitted.map((chunk) => chunk.data).join("")).toBe("🚀!\uFFFD!");
  });

  it("cuts at the byte cap, adds a marker and asks for the program to be stopped", () => {
    const emitted: CollectedChunk[] = [];
    let stopped = 0;
    const collector = new OutputCollector(
      10,
      (chunks) => emitted.push(...chunks),
      () => stopped++,
    );
    collector.push("stdout", Buffer.from("12345678"));
    collector.push("stdout", Buffer.from("abcdef"));
    collector.push("stdout", Buffer.from("more"));
    collector.end();
    expect(collector.truncated).toBe(true);
    expect(stopped).toBe(1);
    expect(
      emitted
        .filter((chunk) => chunk.stream === "stdout")
        .map((chunk) => chunk.data)
        .join(""),
    ).toBe("12345678ab");
    expect(emitted.at(-1)!.data).toMatch(/output truncated/);
  });
});
