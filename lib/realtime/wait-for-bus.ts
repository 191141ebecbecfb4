import type { RunEndEvent, SandboxEvent } from "./events";
import { webBus } from "./web-bus";

const FALLBACK_POLL_MS = 250;

type BusEvents = { end: RunEndEvent; sandbox: SandboxEvent };

export type BusWait<Row, Name extends keyof BusEvents> = {
  /** The bus event that may end the wait ("end" for runs, "sandbox" for sandboxes), and whether it is this one's. */
  event: Name;
  matches: (payload: BusEvents[Name]) => boolean;
  /** Reads the current state from the database. */
  read: () => Promise<Row>;
  /** True once there is nothing left to wait for. */
  settled: (row: Row) => boolean;
  deadlineMs: number;
  signal?: AbortSignal;
};

/**
 * Resolves with the row, read afresh, once a matching bus event arrives, the row is settled, the deadline
 * passes or the signal aborts. The event (the worker's, relayed by this web process) is the fast path; a slow
 * database poll covers a worker that is not connected to this web process.
 */
export async function waitForBus<Row, Name extends keyof BusEvents>({ event, matches, read, settled, deadlineMs, signal }: BusWait<Row, Name>): Promise<Row> {
  const current = await read();
  if (settled(current)) return current;

  return new Promise((resolve, reject) => {
    const bus = webBus().runEnds;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      bus.off(event, onEvent);
      signal?.removeEventListener("abort", finish);
      read().then(resolve, reject);
    };
    const onEvent = (payload: BusEvents[Name]) => {
      if (matches(payload)) finish();
    };
    const poll = () => {
      read().then(
        (row) => {
          if (done) return;
          if (settled(row) || Date.now() >= deadlineMs) return finish();
          timer = setTimeout(poll, Math.min(FALLBACK_POLL_MS, Math.max(0, deadlineMs - Date.now())));
        },
        (error: unknown) => {
          if (done) return;
          done = true;
          bus.off(event, onEvent);
          signal?.removeEventListener("abort", finish);
          reject(error as Error);
        },
      );
    };
    bus.on(event, onEvent);
    signal?.addEventListener("abort", finish);
    timer = setTimeout(poll, FALLBACK_POLL_MS);
  });
}
