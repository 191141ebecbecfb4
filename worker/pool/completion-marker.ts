import type { OutputStream } from "@/lib/realtime/events";

/**
 * The warm agents (images/*\/warm*) end each stream with "\x1e<token>:<exit code>\x1e" once the program
 * has exited. Seeing it on both stdout and stderr means every byte the program wrote before exiting has
 * arrived (each pipe is FIFO), so the run can end without waiting ~30–70 ms for the container to stop.
 * The token is fresh per run and only in the agent's memory; a program that forges the marker can only
 * end its own run early with an exit code it could have chosen anyway.
 */
export class CompletionMarkers {
  private readonly streams: Record<OutputStream, StreamMarker>;
  private resolveCompleted!: (exitCode: number) => void;
  /** Resolves with the program's exit code once both streams carried the marker. */
  readonly completed = new Promise<number>((resolve) => (this.resolveCompleted = resolve));

  constructor(token: string) {
    this.streams = { stdout: new StreamMarker(token), stderr: new StreamMarker(token) };
  }

  /** Returns the bytes to forward as program output (the marker and anything after it removed). */
  push(stream: OutputStream, payload: Buffer): Buffer {
    const marker = this.streams[stream];
    const data = marker.push(payload);
    const { stdout, stderr } = this.streams;
    if (stdout.exitCode !== undefined && stderr.exitCode !== undefined) this.resolveCompleted(stdout.exitCode);
    return data;
  }

  /** Bytes held back as a possible marker start, released when the stream ends without one. */
  flush(stream: OutputStream): Buffer {
    return this.streams[stream].flush();
  }
}

const RECORD_SEPARATOR = 0x1e;
const MAX_EXIT_CODE_DIGITS = 3;

class StreamMarker {
  private readonly prefix: Buffer;
  private held: Buffer = Buffer.alloc(0);
  exitCode: number | undefined;

  constructor(token: string) {
    this.prefix = Buffer.from(`\x1e${token}:`, "latin1");
  }

  push(payload: Buffer): Buffer {
    if (this.exitCode !== undefined) return EMPTY; // whatever a leftover process writes after the program's exit
    const buffer = this.held.length ? Buffer.concat([this.held, payload]) : payload;
    this.held = EMPTY;
    const at = buffer.indexOf(this.prefix);
    if (at >= 0) {
      const codeStart = at + this.prefix.length;
      const end = buffer.indexOf(RECORD_SEPARATOR, codeStart);
      if (end < 0) {
        if (buffer.length - codeStart > MAX_EXIT_CODE_DIGITS) return buffer; // not a marker after all
        this.held = buffer.subarray(at);
        return buffer.subarray(0, at);
      }
      const digits = buffer.toString("latin1", codeStart, end);
      if (/^\d{1,3}$/.test(digits)) {
        this.exitCode = Number(digits);
        return buffer.subarray(0, at);
      }
      return buffer;
    }
    // Hold back a tail that could be the start of a marker split across two reads.
    const keep = this.partialPrefixLength(buffer);
    if (keep) this.held = Buffer.from(buffer.subarray(buffer.length - keep));
    return keep ? buffer.subarray(0, buffer.length - keep) : buffer;
  }

  flush(): Buffer {
    const held = this.held;
    this.held = EMPTY;
    return held;
  }

  private partialPrefixLength(buffer: Buffer): number {
    const from = buffer.lastIndexOf(RECORD_SEPARATOR, -1);
    if (from < 0 || buffer.length - from >= this.prefix.length) return 0;
    const tail = buffer.subarray(from);
    return this.prefix.subarray(0, tail.length).equals(tail) ? tail.length : 0;
  }
}

const EMPTY: Buffer = Buffer.alloc(0);
