"use client";

import { useEffect, useRef, useState } from "react";
import { io, type Socket } from "socket.io-client";
import { CHANNELS, runEventSchema, type RunChunkEvent, type RunEndEvent } from "./events";

export type RunStreamState = {
  /** Every chunk so far, in seq order. Append-only and shared between renders: read it with `chunkCount`. */
  chunks: readonly RunChunkEvent[];
  chunkCount: number;
  end: RunEndEvent | null;
  started: boolean;
  /** When the container started (from the "started" event, or the end event). */
  startedAt: number | null;
  connected: boolean;
};

export type RunStreamOptions = {
  /** Chunks the page already has (a server-rendered transcript): the stream resumes after the last one. */
  initialChunks?: readonly RunChunkEvent[];
  /** Known end: nothing to follow. */
  initialEnd?: RunEndEvent | null;
  initialStartedAt?: number | null;
};

type Tracked = { chunks: RunChunkEvent[]; lastSeq: number; end: RunEndEvent | null; startedAt: number | null; started: boolean };

const snapshot = (tracked: Tracked, connected: boolean): RunStreamState => ({
  chunks: tracked.chunks,
  chunkCount: tracked.chunks.length,
  end: tracked.end,
  started: tracked.started,
  startedAt: tracked.startedAt,
  connected,
});

function track(options: RunStreamOptions): Tracked {
  const chunks = [...(options.initialChunks ?? [])];
  const end = options.initialEnd ?? null;
  return {
    chunks,
    lastSeq: chunks.length ? chunks[chunks.length - 1].seq : -1,
    end,
    startedAt: end?.startedAt ?? options.initialStartedAt ?? null,
    started: chunks.length > 0 || (end?.startedAt ?? options.initialStartedAt ?? null) !== null,
  };
}

/**
 * Follows a run over Socket.IO: replay of what exists, then live chunks, in order.
 * On reconnect it resubscribes after the last chunk it has, so nothing is lost or repeated.
 * Events are applied to React state at most once per animation frame, so a flood of output stays cheap.
 */
export function useRunStream(runId: string | null, options: RunStreamOptions = {}): RunStreamState {
  const trackedRef = useRef<Tracked>(track(options));
  const [state, setState] = useState<RunStreamState>(() => snapshot(trackedRef.current, false));
  const optionsRef = useRef(options);
  optionsRef.current = options;

  useEffect(() => {
    const tracked = track(runId ? optionsRef.current : {});
    trackedRef.current = tracked;
    let connected = false;
    let frame: number | null = null;
    const publish = () => {
      frame = null;
      setState(snapshot(tracked, connected));
    };
    const schedule = () => {
      if (frame === null) frame = requestAnimationFrame(publish);
    };
    publish();
    if (!runId || tracked.end) return;

    const socket: Socket = io({ transports: ["websocket"] });
    const subscribe = () => socket.emit(CHANNELS.subscribe, { runId, afterSeq: tracked.lastSeq });
    socket.on("connect", () => {
      connected = true;
      schedule();
      subscribe();
    });
    socket.on("disconnect", () => {
      connected = false;
      schedule();
    });
    socket.on(CHANNELS.runEvent, (payload: unknown) => {
      const parsed = runEventSchema.safeParse(payload);
      if (!parsed.success || parsed.data.runId !== runId) return;
      const event = parsed.data;
      if (event.type === "chunk") {
        if (event.seq <= tracked.lastSeq) return; // already have it (replay overlapping live)
        tracked.lastSeq = event.seq;
        tracked.chunks.push(event);
        tracked.started = true;
      } else if (event.type === "started") {
        tracked.started = true;
        tracked.startedAt = event.startedAt;
      } else if (!tracked.end) {
        tracked.end = event;
        tracked.startedAt = event.startedAt ?? tracked.startedAt;
        // Nothing more will come for this run.
        socket.close();
        connected = false;
      }
      schedule();
    });
    return () => {
      if (frame !== null) cancelAnimationFrame(frame);
      socket.close();
    };
  }, [runId]);

  return state;
}
