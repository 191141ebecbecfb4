import { StringDecoder } from "node:string_decoder";
import type { OutputStream } from "@/lib/realtime/events";

export type CollectedChunk = { stream: OutputStream; data: string; bytes: number };

/**
 * Turns raw output into ordered, valid-UTF-8 chunks, enforcing the byte cap.
 * Output that arrives in one I/O turn is flushed together (setImmediate): bursts become few chunks
 * while a lone write is forwarded with no added delay.
 */
export class OutputCollector {
  private readonly decoders = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };
  private pending: CollectedChunk[] = [];
  private flushScheduled = false;
  private totalBytes = 0;
  truncated = false;

  constructor(
    private readonly limitBytes: number,
    private readonly emit: (chunks: CollectedChunk[]) => void,
    private readonly onLimitReached: () => void,
  ) {}

  push(stream: OutputStream, payload: Buffer): void {
    if (this.truncated) return;
    const room = this.limitBytes - this.totalBytes;
    const kept = payload.length > room ? payload.subarray(0, room) : payload;
    this.totalBytes += kept.length;
    this.add(stream, this.decoders[stream].write(kept), kept.length);
    if (payload.length > room) {
      this.truncated = true;
      this.add(stream, this.decoders[stream].end(), 0);
      this.add("stderr", `\n[sandpit] output truncated: the run exceeded its ${this.limitBytes}-byte output limit and was stopped\n`, 0);
      this.flush();
      this.onLimitReached();
    }
  }

  /** Flushes partial multi-byte sequences (as U+FFFD) and anything pending. */
  end(): void {
    if (!this.truncated) {
      this.add("stdout", this.decoders.stdout.end(), 0);
      this.add("stderr", this.decoders.stderr.end(), 0);
    }
    this.flush();
  }

  private add(stream: OutputStream, data: string, bytes: number): void {
    if (!data) return;
    const last = this.pending.at(-1);
    if (last && last.stream === stream) {
      last.data += data;
      last.bytes += bytes;
    } else {
      this.pending.push({ stream, data, bytes });
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (!this.pending.length) return;
    const chunks = this.pending;
    this.pending = [];
    this.emit(chunks);
  }
}
