import type { SandpitDb } from "@/lib/db/open-database";
import type { RunRow } from "@/lib/db/schema";
import type { RunEndEvent } from "@/lib/realtime/events";
import { webBus } from "@/lib/realtime/web-bus";
import { findRun, isTerminal } from "./run-view";

const FALLBACK_POLL_MS = 250;

/**
 * Resolves once the run is terminal or the deadline passes. Woken by the worker's end event;
 * a slow database poll covers a worker that is not connected to this web process.
 */
export function waitForRun(db: SandpitDb, id: string, deadlineMs: number, signal?: AbortSignal): Promise<RunRow | undefined> {
  const current = findRun(db, id);
  if (!current || isTerminal(current.status)) return Promise.resolve(current);

  return new Promise((resolve) => {
    const bus = webBus().runEnds;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      bus.off("end", onEnd);
      signal?.removeEventListener("abort", finish);
      resolve(findRun(db, id));
    };
    const onEnd = (event: RunEndEvent) => {
      if (event.runId === id) finish();
    };
    const poll = () => {
      const run = findRun(db, id);
      if (!run || isTerminal(run.status) || Date.now() >= deadlineMs) return finish();
      timer = setTimeout(poll, Math.min(FALLBACK_POLL_MS, Math.max(0, deadlineMs - Date.now())));
    };
    bus.on("end", onEnd);
    signal?.addEventListener("abort", finish);
    timer = setTimeout(poll, FALLBACK_POLL_MS);
  });
}

/** `?wait=1` (or `true`) on a request: answer once the run is terminal instead of at once. */
export function wantsToWait(request: Request): boolean {
  return ["1", "true"].includes(new URL(request.url).searchParams.get("wait") ?? "");
}

/** Waits up to the run's own timeout plus `marginMs` for queueing and start-up, then returns it as it is. */
export async function waitForRunWithin(db: SandpitDb, id: string, marginMs: number, signal?: AbortSignal): Promise<RunRow | undefined> {
  const run = findRun(db, id);
  if (!run) return undefined;
  return (await waitForRun(db, id, Date.now() + run.timeoutMs + marginMs, signal)) ?? run;
}
