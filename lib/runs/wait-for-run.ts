import type { SandpitDb } from "@/lib/db/open-database";
import type { RunRow } from "@/lib/db/schema";
import { waitForBus } from "@/lib/realtime/wait-for-bus";
import { findRun, isTerminal } from "./run-view";

/** Resolves once the run is terminal or the deadline passes (woken by the worker's end event). */
export function waitForRun(db: SandpitDb, id: string, deadlineMs: number, signal?: AbortSignal): Promise<RunRow | undefined> {
  return waitForBus({
    event: "end",
    matches: (event) => event.runId === id,
    read: () => findRun(db, id),
    settled: (run) => !run || isTerminal(run.status),
    deadlineMs,
    signal,
  });
}

/** `?wait=1` (or `true`) on a request: answer once the run is terminal instead of at once. */
export function wantsToWait(request: Request): boolean {
  return ["1", "true"].includes(new URL(request.url).searchParams.get("wait") ?? "");
}

/** Waits up to the run's own timeout plus `marginMs` for queueing and start-up, then returns it as it is. */
export async function waitForRunWithin(db: SandpitDb, id: string, marginMs: number, signal?: AbortSignal): Promise<RunRow | undefined> {
  const run = await findRun(db, id);
  if (!run) return undefined;
  return (await waitForRun(db, id, Date.now() + run.timeoutMs + marginMs, signal)) ?? run;
}
