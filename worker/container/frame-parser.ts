/**
 * A started container's output stream carries stdout and stderr multiplexed in frames: an 8-byte header
 * (stream type 1 or 2, 3 zero bytes, big-endian length), then the payload. It is Docker's attach format;
 * the container layer adopts it as its own, so any engine (and the fake one in tests) delivers output
 * this way and the order of stdout and stderr writes survives in one stream.
 * Frames may arrive split across or packed into socket chunks.
 */
export class FrameParser {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: "stdout" | "stderr", payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let offset = 0;
    while (this.pending.length - offset >= 8) {
      const type = this.pending[offset];
      const size = this.pending.readUInt32BE(offset + 4);
      if (this.pending.length - offset - 8 < size) break;
      const payload = this.pending.subarray(offset + 8, offset + 8 + size);
      offset += 8 + size;
      if (type === 1 || type === 2) this.onFrame(type === 1 ? "stdout" : "stderr", payload);
    }
    this.pending = offset === this.pending.length ? Buffer.alloc(0) : this.pending.subarray(offset);
  }
}

/** One frame of the format FrameParser reads (an engine that is not Docker frames its output with this). */
export function encodeFrame(stream: "stdout" | "stderr", payload: Buffer | string): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
  const header = Buffer.alloc(8);
  header[0] = stream === "stdout" ? 1 : 2;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}
