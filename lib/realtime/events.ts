import { z } from "zod";
import { RUN_STATUSES, SANDBOX_STATUSES } from "@/lib/db/schema";

/**
 * The one realtime contract, shared by worker, web server and browser.
 * Every message about a run travels as a RunEvent on the "run:event" channel.
 */
export const outputStreamSchema = z.enum(["stdout", "stderr"]);
export type OutputStream = z.infer<typeof outputStreamSchema>;

export const runChunkEventSchema = z.object({
  type: z.literal("chunk"),
  runId: z.string(),
  seq: z.number().int().nonnegative(),
  stream: outputStreamSchema,
  data: z.string(),
  at: z.number(),
});

export const runStartedEventSchema = z.object({
  type: z.literal("started"),
  runId: z.string(),
  startedAt: z.number(),
  containerRuntime: z.string(),
  /** Whether the run got a container from the warm pool (false: created for it, or a sandbox). */
  warm: z.boolean().optional(),
});

export const runEndEventSchema = z.object({
  type: z.literal("end"),
  runId: z.string(),
  status: z.enum(RUN_STATUSES),
  exitCode: z.number().int().nullable(),
  oomKilled: z.boolean(),
  truncated: z.boolean(),
  error: z.string().nullable(),
  queuedAt: z.number(),
  startedAt: z.number().nullable(),
  firstOutputAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
  durationMs: z.number().nullable(),
});

export const runEventSchema = z.discriminatedUnion("type", [runChunkEventSchema, runStartedEventSchema, runEndEventSchema]);

export type RunChunkEvent = z.infer<typeof runChunkEventSchema>;
export type RunStartedEvent = z.infer<typeof runStartedEventSchema>;
export type RunEndEvent = z.infer<typeof runEndEventSchema>;
export type RunEvent = z.infer<typeof runEventSchema>;

/** Browser → server: join a run's room, replaying every chunk after `afterSeq`. */
export const subscribeRequestSchema = z.object({
  runId: z.string().min(1).max(64),
  afterSeq: z.number().int().min(-1).default(-1),
});
export type SubscribeRequest = z.input<typeof subscribeRequestSchema>;

/** Server → browser or SDK: the acknowledgement of a subscribe. */
export const subscribeReplySchema = z.union([
  z.object({ ok: z.literal(true), status: z.enum(RUN_STATUSES) }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);
export type SubscribeReply = z.infer<typeof subscribeReplySchema>;

/** Worker → server: a sandbox changed state (ready, error, expired, deleted). */
export const sandboxEventSchema = z.object({
  type: z.literal("sandbox"),
  sandboxId: z.string(),
  status: z.enum(SANDBOX_STATUSES),
  error: z.string().nullable(),
});
export type SandboxEvent = z.infer<typeof sandboxEventSchema>;

/**
 * Web server → the other web servers (through Redis, when there are several): a run ended or a sandbox changed,
 * for the requests waiting on it there (lib/realtime/wait-for-bus.ts).
 */
export const busAnnouncementSchema = z.discriminatedUnion("event", [
  z.object({ event: z.literal("end"), payload: runEndEventSchema }),
  z.object({ event: z.literal("sandbox"), payload: sandboxEventSchema }),
]);
export type BusAnnouncement = z.infer<typeof busAnnouncementSchema>;

/** Server → worker: a control message. */
export const workerCommandSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("wake") }),
  z.object({ type: z.literal("cancel"), runId: z.string() }),
  z.object({ type: z.literal("delete-sandbox"), sandboxId: z.string() }),
]);
export type WorkerCommand = z.infer<typeof workerCommandSchema>;

export const CHANNELS = {
  runEvent: "run:event",
  subscribe: "run:subscribe",
  unsubscribe: "run:unsubscribe",
  workerCommand: "worker:command",
  sandboxEvent: "sandbox:event",
  /** Between web servers (Socket.IO server-side events): a worker's run event, for the viewers connected there. */
  peerRunEvent: "peer:run-event",
  /** Between web servers: a BusAnnouncement. */
  peerBus: "peer:bus",
} as const;

export const WORKER_NAMESPACE = "/worker";

const RUN_ROOM_PREFIX = "run:";
export const roomForRun = (runId: string) => `${RUN_ROOM_PREFIX}${runId}`;
/** The run a room is for, or undefined for any other room (Socket.IO gives each connection a room of its own id). */
export const runIdOfRoom = (room: string): string | undefined => (room.startsWith(RUN_ROOM_PREFIX) ? room.slice(RUN_ROOM_PREFIX.length) : undefined);
