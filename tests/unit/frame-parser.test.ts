import { describe, expect, it } from "vitest";
import { FrameParser, encodeFrame } from "@/worker/container/frame-parser";

const frame = (type: 1 | 2, text: string) => encodeFrame(type === 1 ? "stdout" : "stderr", text);

describe("FrameParser", () => {
  it("splits packed frames and joins frames split across chunks, byte by byte", () => {
    const wire = Buffer.concat([frame(1, "out one\n"), frame(2, "err\n"), frame(1, "out two\n")]);
    const frames: [string, string][] = [];
    const parser = new FrameParser((stream, payload) => frames.push([stream, payload.toString()]));
    for (const byte of wire) parser.push(Buffer.from([byte]));
    expect(frames).toEqual([
      ["stdout", "out one\n"],
      ["stderr", "err\n"],
      ["stdout", "out two\n"],
    ]);
  });

  it("handles many frames in one chunk", () => {
    const frames: string[] = [];
    const parser = new FrameParser((_stream, payload) => frames.push(payload.toString()));
    parser.push(Buffer.concat(Array.from({ length: 100 }, (_, index) => frame(1, String(index)))));
    expect(frames).toHaveLength(100);
    expect(frames[99]).toBe("99");
  });
});
