import { io, type Socket } from "socket.io-client";
import { SandpitError, SandpitTimeoutError } from "./errors.js";
import { SOCKET_IO, type RunEvent, type SubscribeReply, type SubscribeRequest } from "./generated/api.js";

export type OutputCallback = (data: string) => void | Promise<void>;

export type StreamHandlers = { onStdout?: OutputCallback; onStderr?: OutputCallback };

/** What the stream delivered, so a fallback can hand over only the rest. */
export type Delivered = { stdout: number; stderr: number };

/** Thrown when the socket never connected: the caller falls back to waiting over HTTP. */
export class StreamUnavailable extends Error {}

/**
 * Follows one run over Socket.IO: subscribes (replaying from the start), calls the handlers in order,
 * one at a time, and resolves after the run's `end` event once every callback has finished.
 * No token is sent: like `GET /api/v1/runs/{id}`, the stream needs only the run's unguessable id.
 */
export function followRun(baseUrl: string, runId: string, handlers: StreamHandlers, delivered: Delivered, deadlineMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let lastSeq = -1;
    let connected = false;
    let settled = false;
    let chain: Promise<void> = Promise.resolve();
    const socket: Socket = io(baseUrl, {
      path: SOCKET_IO.path,
      transports: ["websocket"],
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
      () => finish(new SandpitTimeoutError(`run ${runId}: no end event within ${Math.round(deadlineMs / 1000)} s`, { kind: "client" })),
      deadlineMs,
    );
    const subscribe = () => {
      const request: SubscribeRequest = { runId, afterSeq: lastSeq };
      socket.emit(SOCKET_IO.subscribe, request, (reply: SubscribeReply | undefined) => {
        if (reply && !reply.ok) finish(new SandpitError(`run ${runId}: subscribe refused: ${reply.error}`));
      });
    };
    socket.on("connect", () => {
      connected = true;
      subscribe();
    });
    socket.on("connect_error", (error) => {
      if (!connected) finish(new StreamUnavailable(error.message));
    });
    socket.on(SOCKET_IO.runEvent, (event: RunEvent) => {
      if (!event || event.runId !== runId) return;
      if (event.type === "chunk") {
        const chunk = event;
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
