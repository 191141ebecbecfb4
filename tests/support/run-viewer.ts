import { io, type Socket } from "socket.io-client";
import { CHANNELS, type RunEvent, type SubscribeReply } from "@/lib/realtime/events";

/** What one viewer saw of one run. */
export type ViewedRun = {
  /** The run's status when the subscription was acknowledged: "queued" means everything after came live. */
  statusAtSubscribe?: string;
  /** Chunks by seq; a seq seen twice is recorded in `duplicateSeqs`. */
  chunks: Map<number, { stream: string; data: string }>;
  duplicateSeqs: number;
  /** "started" events: a run executed twice would announce itself twice. */
  starts: number;
  end?: Extract<RunEvent, { type: "end" }>;
};

/**
 * A Socket.IO viewer on one web server, as the playground is: it subscribes to runs by id and records every
 * event it gets for them, so a test can compare what each viewer saw with what the database holds.
 */
export class RunViewer {
  readonly runs = new Map<string, ViewedRun>();
  /** Times the connection was lost and made again (each time, like the playground, it subscribes again). */
  reconnects = 0;
  private readonly socket: Socket;

  private constructor(readonly webUrl: string) {
    this.socket = io(webUrl, { transports: ["websocket"], reconnectionDelay: 200 });
    let connectedBefore = false;
    this.socket.on("connect", () => {
      if (connectedBefore) {
        this.reconnects++;
        // As lib/realtime/use-run-stream.ts does: a new connection has no rooms, so subscribe again after what arrived.
        for (const [runId, run] of this.runs) {
          if (!run.end) this.socket.emit(CHANNELS.subscribe, { runId, afterSeq: Math.max(-1, ...run.chunks.keys()) });
        }
      }
      connectedBefore = true;
    });
    this.socket.on(CHANNELS.runEvent, (event: RunEvent) => {
      const run = this.runs.get(event.runId);
      if (!run) return;
      if (event.type === "chunk") {
        if (run.chunks.has(event.seq)) run.duplicateSeqs++;
        run.chunks.set(event.seq, { stream: event.stream, data: event.data });
      } else if (event.type === "started") run.starts++;
      else run.end = event;
    });
  }

  static async connect(webUrl: string): Promise<RunViewer> {
    const viewer = new RunViewer(webUrl);
    await new Promise<void>((resolve, reject) => {
      viewer.socket.once("connect", () => resolve());
      viewer.socket.once("connect_error", reject);
    });
    return viewer;
  }

  /** Subscribes from the first chunk; resolves with the acknowledgement. */
  watch(runId: string): Promise<SubscribeReply> {
    const run: ViewedRun = { chunks: new Map(), duplicateSeqs: 0, starts: 0 };
    this.runs.set(runId, run);
    return new Promise((resolve, reject) => {
      this.socket.timeout(30_000).emit(CHANNELS.subscribe, { runId, afterSeq: -1 }, (error: Error | null, reply: SubscribeReply) => {
        if (error) return reject(new Error(`subscribe ${runId} on ${this.webUrl}: ${error.message}`));
        if (reply.ok) run.statusAtSubscribe = reply.status;
        resolve(reply);
      });
    });
  }

  /** One stream's output as this viewer assembled it, in seq order (only what arrived: a gap stays a gap). */
  output(runId: string, stream: "stdout" | "stderr" = "stdout"): string {
    const run = this.runs.get(runId);
    if (!run) return "";
    return [...run.chunks.entries()]
      .sort(([a], [b]) => a - b)
      .filter(([, chunk]) => chunk.stream === stream)
      .map(([, chunk]) => chunk.data)
      .join("");
  }

  close(): void {
    this.socket.close();
  }
}
