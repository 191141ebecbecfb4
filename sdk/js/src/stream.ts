import { io, type Socket } from "socket.io-client";
import { SandpitError, TimeoutError } from "./errors.js";

export type OutputCallback = (data: string) => void | Promise<void>;

export type StreamHandlers = { onStdout?: OutputCallback; onStderr?: OutputCallback };

type ChunkEvent = { type: "chunk"; runId: string; seq: number; stream: "stdout" | "stderr"; data: string };
type EndEvent = { type: "end"; runId: string; status: string };
type RunEvent = ChunkEvent | EndEvent | { type: string; runId: string };

/** What the stream delivered, so a fallback can hand over only the rest. */
export type Delivered = { stdout: number; stderr: number };

/** Thrown when the socket never connected: the caller falls back to waiting over HTTP. */
export class StreamUnavailable extends Error {}

/**
 * Follows one run over Socket.IO: subscribes (replaying from the start), calls the handlers in order,
 * one at a time, and resolves after the run's `end` event once every callback has finished.
 */
export function followRun(
  baseUrl: string,
  apiToken: string | undefined,
  runId: string,
  handlers: StreamHandlers,
  delivered: Delivered,
  deadlineMs: number,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let lastSeq = -1;
    let connected = false;
    let settled = false;
    let chain: Promise<void> = Promise.resolve();
    const socket: Socket = io(baseUrl, {
      path: "/socket.io",
      transports: ["websocket"],
      auth: apiToken ? { token: apiToken } : undefined,
      // A restarting server comes back on its own time: keep trying until the run's deadline, then
      // resubscribe after the last chunk delivered (see "connect"), so nothing is lost or repeated.
      reconnection: true,
      reconnectionAttempts: Infinity,
      reconnectionDelay: 250,
      reconnectionDelayMax: 2000,
      timeout: 10_000,
      forceNew: true,
    });
    const finish = (error?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.disconnect();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(
      () => finish(new TimeoutError(`run ${runId}: no end event within ${Math.round(deadlineMs / 1000)} s`, { kind: "client" })),
      deadlineMs,
    );
    const subscribe = () => {
      socket.emit("run:subscribe", { runId, afterSeq: lastSeq, token: apiToken }, (reply: { ok?: boolean; error?: string } | undefined) => {
        if (reply && reply.ok === false) finish(new SandpitError(`run ${runId}: subscribe refused: ${reply.error ?? "unknown reason"}`));
      });
    };
    socket.on("connect", () => {
      connected = true;
      subscribe();
    });
    socket.on("connect_error", (error) => {
      if (!connected) finish(new StreamUnavailable(error.message));
    });
    socket.on("run:event", (event: RunEvent) => {
      if (!event || event.runId !== runId) return;
      if (event.type === "chunk") {
        const chunk = event as ChunkEvent;
        if (chunk.seq <= lastSeq) return; // replayed twice around the subscribe: drop
        lastSeq = chunk.seq;
        const handler = chunk.stream === "stderr" ? handlers.onStderr : handlers.onStdout;
        chain = chain.then(async () => {
          delivered[chunk.stream] += chunk.data.length;
          if (handler) await handler(chunk.data);
        });
        chain.catch(finish);
      } else if (event.type === "end") {
        chain.then(() => finish(), finish);
      }
    });
  });
}
