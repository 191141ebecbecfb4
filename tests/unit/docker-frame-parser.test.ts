import { describe, expect, it } from "vitest";
import { DockerFrameParser } from "@/worker/execution/docker-frame-parser";

function frame(type: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe("DockerFrameParser", () => {
  it("splits packed frames and joins frames split across chunks, byte by byte", () => {
    const wire = Buffer.concat([frame(1, "out one\n"), frame(2, "err\n"), frame(1, "out two\n")]);
    const frames: [string, string][] = [];
    const parser = new DockerFrameParser((stream, payload) => frames.push([stream, payload.toString()]));
    for (const byte of wire) parser.push(Buffer.from([byte]));
    expect(frames).toEqual([
      ["stdout", "out one\n"],
      ["stderr", "err\n"],
      ["stdout", "out two\n"],
    ]);
  });

  it("handles many frames in one chunk", () => {
    const frames: string[] = [];
    const parser = new DockerFrameParser((_stream, payload) => frames.push(payload.toString()));
    parser.push(Buffer.concat(Array.from({ length: 100 }, (_, index) => frame(1, String(index)))));
    expect(frames).toHaveLength(100);
    expect(frames[99]).toBe("99");
  });
});
