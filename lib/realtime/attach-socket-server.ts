import { timingSafeEqual } from "node:crypto";
import type { Server as HttpServer } from "node:http";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import { Server as SocketServer, type Socket } from "socket.io";
import type { SandpitDb } from "@/lib/db/open-database";
import { isSameOrigin } from "@/lib/http/same-origin";
import { webRedis } from "@/lib/redis/web-redis";
import { findEndedRuns, findRun, isTerminal, listChunks, toChunkEvent, toEndEvent } from "@/lib/runs/run-view";
import { DeliveryLedger } from "./delivery-ledger";
import {
  busAnnouncementSchema,
  CHANNELS,
  roomForRun,
  runIdOfRoom,
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
    // The run before its chunks: a worker stores every chunk before the end, so a run already over here has all of
    // them in the read below. Read the other way round, a run ending in between gave the end without its last chunks.
    const latest = (await findRun(db, runId))!;
    for (const chunk of await listChunks(db, runId, afterSeq)) deliver(socket, toChunkEvent(chunk));
    if (isTerminal(latest.status)) deliver(socket, toEndEvent(latest));
    return { ok: true, status: latest.status };
  } finally {
    if (replaying(socket).get(runId) === held) replaying(socket).delete(runId);
    for (const event of held) deliver(socket, event);
  }
}

/** Delivers the chunks after `afterSeq` from the database, then `event` and whatever arrived meanwhile, in order. */
async function fillGap(socket: Socket, db: SandpitDb, event: RunEvent, afterSeq: number): Promise<void> {
  const held: RunEvent[] = [event];
  replaying(socket).set(event.runId, held);
  try {
    for (const chunk of await listChunks(db, event.runId, afterSeq)) deliver(socket, toChunkEvent(chunk));
  } finally {
    if (replaying(socket).get(event.runId) === held) replaying(socket).delete(event.runId);
    for (const each of held) deliver(socket, each);
  }
}

/** How often a web server looks in the database for runs its viewers watch whose end never reached it. */
const MISSED_END_SWEEP_MS = 2000;

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

  /**
   * Sends a worker's event to this web server's viewers of the run. An event that skips ahead (a relay lost while
   * Redis reconnected) is held while the gap is read from the database, like a subscribe's replay.
   */
  const relayToViewers = (event: RunEvent) => {
    for (const socketId of io.sockets.adapter.rooms.get(roomForRun(event.runId)) ?? []) {
      const browser = io.sockets.sockets.get(socketId);
      if (!browser) continue;
      const replayAfter = replaying(browser).has(event.runId) ? null : (browser.data.ledger as DeliveryLedger).replayBefore(event);
      if (replayAfter === null) relay(browser, event);
      else
        fillGap(browser, db, event, replayAfter).catch((error: unknown) => {
          console.error("[socket] gap fill failed:", (error as Error).message);
        });
    }
  };

  /**
   * The safety net for an end that never came: a worker that dies between recording a run's end and sending it (or
   * an end lost between web servers, with nothing after it to reveal the gap) leaves viewers waiting forever. Every
   * MISSED_END_SWEEP_MS, each watched run that some viewer has not seen end is read; if it is over, those viewers get
   * the missing chunks and the end, as a gap fill. One query for all of them.
   */
  let sweeping = false;
  const sweepMissedEnds = async () => {
    // Viewers per run, copied now: rooms come and go while the read below waits.
    const waitingByRun = new Map<string, Socket[]>();
    for (const [room, members] of io.sockets.adapter.rooms) {
      const runId = runIdOfRoom(room);
      if (!runId) continue;
      const waiting = [...members]
        .map((id) => io.sockets.sockets.get(id))
        .filter((browser): browser is Socket => !!browser && !replaying(browser).has(runId) && !(browser.data.ledger as DeliveryLedger).ended(runId));
      if (waiting.length) waitingByRun.set(runId, waiting);
    }
    if (!waitingByRun.size) return;
    for (const run of await findEndedRuns(db, [...waitingByRun.keys()])) {
      const end = toEndEvent(run);
      for (const browser of waitingByRun.get(run.id) ?? []) {
        const replayAfter = (browser.data.ledger as DeliveryLedger).replayBefore(end);
        if (replayAfter !== null && !replaying(browser).has(run.id)) await fillGap(browser, db, end, replayAfter);
      }
    }
  };
  const sweepTimer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    sweepMissedEnds()
      .catch((error: unknown) => console.error("[socket] missed-end sweep failed:", (error as Error).message))
      .finally(() => (sweeping = false));
  }, MISSED_END_SWEEP_MS);
  sweepTimer.unref();
  httpServer.once("close", () => clearInterval(sweepTimer));

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
