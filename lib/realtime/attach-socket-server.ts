import { timingSafeEqual } from "node:crypto";
import type { Server as HttpServer } from "node:http";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import { Server as SocketServer, type Socket } from "socket.io";
import type { SandpitDb } from "@/lib/db/open-database";
import { isSameOrigin } from "@/lib/http/same-origin";
import { webRedis } from "@/lib/redis/web-redis";
import { findRun, isTerminal, listChunks, toChunkEvent, toEndEvent } from "@/lib/runs/run-view";
import { DeliveryLedger } from "./delivery-ledger";
import {
  busAnnouncementSchema,
  CHANNELS,
  roomForRun,
  runEventSchema,
  sandboxEventSchema,
  subscribeRequestSchema,
  WORKER_NAMESPACE,
  type RunEvent,
  type SubscribeReply,
  type WorkerCommand,
} from "./events";
import { announceRunEnd, announceSandboxChange, hearFromPeer, installPeerLink, installWorkerCommander } from "./web-bus";

/** Sends a run event to one browser connection unless it already has it (see DeliveryLedger). */
function deliver(socket: Socket, event: RunEvent): void {
  if ((socket.data.ledger as DeliveryLedger).admit(event)) socket.emit(CHANNELS.runEvent, event);
}

function secretsMatch(given: unknown, expected: string): boolean {
  if (typeof given !== "string") return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Socket.IO on the web server: browsers join one room per run and get a replay then live chunks;
 * workers connect to /worker with the shared secret, publish run events and receive commands.
 * With several web servers (webRedis()), the Redis streams adapter carries worker commands to workers connected
 * anywhere, and each worker event is passed to the other web servers, which relay it to their own viewers.
 */
export function attachSocketServer(httpServer: HttpServer, db: SandpitDb, workerSecret: string, { trustProxy = false } = {}): SocketServer {
  const redis = webRedis();
  const io = new SocketServer(httpServer, {
    serveClient: false,
    // Leave other upgrade requests (Next.js dev HMR) alone.
    destroyUpgrade: false,
    // Browsers may connect only from this site: `Origin: null` (sandboxed frames) and other sites are refused.
    allowRequest: (request, callback) => callback(null, isSameOrigin(request.headers, trustProxy)),
    maxHttpBufferSize: 2 * 1024 * 1024,
    ...(redis && { adapter: createAdapter(redis.fanOut, { streamName: `${redis.keyPrefix}:socket.io`, channelPrefix: `${redis.keyPrefix}:socket.io` }) }),
  });

  /** Sends a worker's event to this web server's viewers of the run, first filling any gap from the database. */
  const relayToViewers = (event: RunEvent) => {
    for (const socketId of io.sockets.adapter.rooms.get(roomForRun(event.runId)) ?? []) {
      const browser = io.sockets.sockets.get(socketId);
      if (!browser) continue;
      const replayAfter = (browser.data.ledger as DeliveryLedger).replayBefore(event);
      if (replayAfter !== null) for (const chunk of listChunks(db, event.runId, replayAfter)) deliver(browser, toChunkEvent(chunk));
      deliver(browser, event);
    }
  };

  io.on("connection", (socket) => {
    // What this connection has been sent: it lives and dies with the socket.
    socket.data.ledger = new DeliveryLedger();
    socket.on(CHANNELS.subscribe, (payload: unknown, ack?: (reply: SubscribeReply) => void) => {
      const parsed = subscribeRequestSchema.safeParse(payload);
      if (!parsed.success) return ack?.({ ok: false, error: "invalid subscribe request" });
      const { runId, afterSeq } = parsed.data;
      const run = findRun(db, runId);
      if (!run) return ack?.({ ok: false, error: "run not found" });
      // Joining and replaying in one synchronous step means no live chunk can slip in between; a chunk
      // written to the database but not yet relayed is replayed now, and the ledger drops its relay later.
      void socket.join(roomForRun(runId)); // the default in-memory adapter joins synchronously
      socket.data.ledger.resubscribe(runId, afterSeq);
      for (const chunk of listChunks(db, runId, afterSeq)) deliver(socket, toChunkEvent(chunk));
      const latest = findRun(db, runId)!;
      if (isTerminal(latest.status)) deliver(socket, toEndEvent(latest));
      ack?.({ ok: true, status: latest.status });
    });
    socket.on(CHANNELS.unsubscribe, (payload: unknown) => {
      const parsed = subscribeRequestSchema.safeParse(payload);
      if (!parsed.success) return;
      void socket.leave(roomForRun(parsed.data.runId));
      socket.data.ledger.forget(parsed.data.runId);
    });
  });

  const workers = io.of(WORKER_NAMESPACE);
  workers.use((socket, next) => {
    if (secretsMatch(socket.handshake.auth?.secret, workerSecret)) return next();
    next(new Error("unauthorized"));
  });
  workers.on("connection", (socket) => {
    socket.on(CHANNELS.runEvent, (payload: unknown) => {
      const parsed = runEventSchema.safeParse(payload);
      if (!parsed.success) return;
      const event = parsed.data;
      relayToViewers(event);
      if (redis) io.serverSideEmit(CHANNELS.peerRunEvent, event);
      if (event.type === "end") announceRunEnd(event);
    });
    socket.on(CHANNELS.sandboxEvent, (payload: unknown) => {
      const parsed = sandboxEventSchema.safeParse(payload);
      if (parsed.success) announceSandboxChange(parsed.data);
    });
  });

  // With the Redis adapter this reaches the workers connected to every web server.
  installWorkerCommander((command: WorkerCommand) => {
    workers.emit(CHANNELS.workerCommand, command);
  });
  if (redis) {
    io.on(CHANNELS.peerRunEvent, (payload: unknown) => {
      const parsed = runEventSchema.safeParse(payload);
      if (parsed.success) relayToViewers(parsed.data);
    });
    io.on(CHANNELS.peerBus, (payload: unknown) => {
      const parsed = busAnnouncementSchema.safeParse(payload);
      if (parsed.success) hearFromPeer(parsed.data);
    });
    installPeerLink((announcement) => io.serverSideEmit(CHANNELS.peerBus, announcement));
  }
  return io;
}
