import { timingSafeEqual } from "node:crypto";
import type { Server as HttpServer } from "node:http";
import { Server as SocketServer, type Socket } from "socket.io";
import type { SandpitDb } from "@/lib/db/open-database";
import { isSameOrigin } from "@/lib/http/same-origin";
import { findRun, isTerminal, listChunks, toChunkEvent, toEndEvent } from "@/lib/runs/run-view";
import { DeliveryLedger } from "./delivery-ledger";
import {
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
import { announceRunEnd, announceSandboxChange, installWorkerCommander } from "./web-bus";

/** Sends a run event to one browser connection unless it already has it (see DeliveryLedger). */
function deliver(socket: Socket, event: RunEvent): void {
  if ((socket.data.ledger as DeliveryLedger).admit(event)) socket.emit(CHANNELS.runEvent, event);
}

/** Runs being replayed to this connection, with the live events held back until the replay is sent. */
const replaying = (socket: Socket) => socket.data.replaying as Map<string, RunEvent[]>;

/** A live event: held while its run's replay is being read (so it cannot overtake older chunks), else delivered. */
function relay(socket: Socket, event: RunEvent): void {
  const held = replaying(socket).get(event.runId);
  if (held) held.push(event);
  else deliver(socket, event);
}

/**
 * Joins the run's room and replays what the database has after `afterSeq`. Live events that arrive while the
 * replay is read are held and delivered after it; the ledger drops those the replay already sent, so each
 * chunk reaches the client once, in order.
 */
async function subscribe(socket: Socket, db: SandpitDb, runId: string, afterSeq: number): Promise<SubscribeReply> {
  if (!(await findRun(db, runId))) return { ok: false, error: "run not found" };
  const held: RunEvent[] = [];
  replaying(socket).set(runId, held);
  try {
    void socket.join(roomForRun(runId)); // the default in-memory adapter joins synchronously
    socket.data.ledger.resubscribe(runId, afterSeq);
    for (const chunk of await listChunks(db, runId, afterSeq)) deliver(socket, toChunkEvent(chunk));
    const latest = (await findRun(db, runId))!;
    if (isTerminal(latest.status)) deliver(socket, toEndEvent(latest));
    return { ok: true, status: latest.status };
  } finally {
    if (replaying(socket).get(runId) === held) replaying(socket).delete(runId);
    for (const event of held) deliver(socket, event);
  }
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
 */
export function attachSocketServer(httpServer: HttpServer, db: SandpitDb, workerSecret: string, { trustProxy = false } = {}): SocketServer {
  const io = new SocketServer(httpServer, {
    serveClient: false,
    // Leave other upgrade requests (Next.js dev HMR) alone.
    destroyUpgrade: false,
    // Browsers may connect only from this site: `Origin: null` (sandboxed frames) and other sites are refused.
    allowRequest: (request, callback) => callback(null, isSameOrigin(request.headers, trustProxy)),
    maxHttpBufferSize: 2 * 1024 * 1024,
  });

  io.on("connection", (socket) => {
    // What this connection has been sent: it lives and dies with the socket.
    socket.data.ledger = new DeliveryLedger();
    socket.data.replaying = new Map<string, RunEvent[]>();
    socket.on(CHANNELS.subscribe, (payload: unknown, ack?: (reply: SubscribeReply) => void) => {
      const parsed = subscribeRequestSchema.safeParse(payload);
      if (!parsed.success) return ack?.({ ok: false, error: "invalid subscribe request" });
      subscribe(socket, db, parsed.data.runId, parsed.data.afterSeq).then(
        (reply) => ack?.(reply),
        (error: unknown) => {
          console.error("[socket] replay failed:", (error as Error).message);
          ack?.({ ok: false, error: "could not read the run" });
        },
      );
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
      for (const socketId of io.sockets.adapter.rooms.get(roomForRun(event.runId)) ?? []) {
        const browser = io.sockets.sockets.get(socketId);
        if (browser) relay(browser, event);
      }
      if (event.type === "end") announceRunEnd(event);
    });
    socket.on(CHANNELS.sandboxEvent, (payload: unknown) => {
      const parsed = sandboxEventSchema.safeParse(payload);
      if (parsed.success) announceSandboxChange(parsed.data);
    });
  });

  installWorkerCommander((command: WorkerCommand) => {
    workers.emit(CHANNELS.workerCommand, command);
  });
  return io;
}
