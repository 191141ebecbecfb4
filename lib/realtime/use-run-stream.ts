"use client";

import { useEffect, useRef, useState } from "react";
import { io, type Socket } from "socket.io-client";
import { CHANNELS, runEventSchema, type RunChunkEvent, type RunEndEvent } from "./events";

export type RunStreamState = {
  chunks: RunChunkEvent[];
  end: RunEndEvent | null;
  started: boolean;
  connected: boolean;
};

const empty: RunStreamState = { chunks: [], end: null, started: false, connected: false };

/**
 * Follows a run over Socket.IO: replay of what exists, then live chunks, in order.
 * On reconnect it resubscribes after the last chunk it has, so nothing is lost or repeated.
 */
export function useRunStream(runId: string | null): RunStreamState {
  const [state, setState] = useState<RunStreamState>(empty);
  const lastSeq = useRef(-1);

  useEffect(() => {
    setState(empty);
    lastSeq.current = -1;
    if (!runId) return;
    const socket: Socket = io({ transports: ["websocket"] });
    const subscribe = () => socket.emit(CHANNELS.subscribe, { runId, afterSeq: lastSeq.current });
    socket.on("connect", () => {
      setState((previous) => ({ ...previous, connected: true }));
      subscribe();
    });
    socket.on("disconnect", () => setState((previous) => ({ ...previous, connected: false })));
    socket.on(CHANNELS.runEvent, (payload: unknown) => {
      const parsed = runEventSchema.safeParse(payload);
      if (!parsed.success || parsed.data.runId !== runId) return;
      const event = parsed.data;
      if (event.type === "chunk") {
        if (event.seq <= lastSeq.current) return; // already have it (replay overlapping live)
        lastSeq.current = event.seq;
        setState((previous) => ({ ...previous, started: true, chunks: [...previous.chunks, event] }));
      } else if (event.type === "started") {
        setState((previous) => ({ ...previous, started: true }));
      } else {
        setState((previous) => (previous.end ? previous : { ...previous, end: event }));
      }
    });
    return () => {
      socket.close();
    };
  }, [runId]);

  return state;
}
