import type { RunRow } from "@/lib/db/schema";
import type { RunEvent } from "@/lib/realtime/events";
import { appendRunOutput, finishRun, isCancelRequested, markRunStarted, type RunOutcome } from "@/lib/runs/record-run-progress";
import { toEndEvent } from "@/lib/runs/run-view";
import { DockerFrameParser } from "./docker-frame-parser";
import { CompletionMarkers } from "../pool/completion-marker";
import { launchInSandbox, launchSingleUse, type LaunchDeps, type Launched } from "./launchers";
import { OutputCollector } from "./output-collector";

export type ExecutionDeps = LaunchDeps & {
  outputLimitBytes: number;
  publish: (event: RunEvent) => void;
};

type StopReason = "timeout" | "cancel" | "output_limit";

/** How long to wait for the output stream to drain after the program has exited. */
const DRAIN_GRACE_MS = 2000;

/** Handle to a run in flight, so a cancel command can stop it. */
export type ActiveRun = { stop(reason: StopReason): void };

/** Executes one claimed run (in a fresh container, or inside its sandbox) and records every byte and the outcome. */
export async function executeRun(run: RunRow, deps: ExecutionDeps, register: (handle: ActiveRun) => void): Promise<void> {
  const { db } = deps;
  let launched: Launched | undefined;
  let stopReason: StopReason | undefined;
  let nextSeq = 0;

  const stop = (reason: StopReason) => {
    stopReason ??= reason;
    if (launched) void launched.kill().catch(() => {});
  };
  register({ stop });

  try {
    const collector = new OutputCollector(
      deps.outputLimitBytes,
      (chunks) => {
        for (const chunk of chunks) deps.publish(appendRunOutput(db, run.id, nextSeq++, chunk.stream, chunk.data, chunk.bytes));
      },
      () => stop("output_limit"),
    );
    launched = await (run.sandboxId ? launchInSandbox(run, deps) : launchSingleUse(run, deps));
    const { process } = launched;
    const markers = launched.completionToken ? new CompletionMarkers(launched.completionToken) : undefined;
    const parser = new DockerFrameParser((stream, payload) => {
      const data = markers ? markers.push(stream, payload) : payload;
      if (data.length) collector.push(stream, data);
    });
    const drained = new Promise<void>((resolve) => {
      process.output.on("data", (chunk: Buffer) => parser.push(chunk));
      process.output.on("end", resolve);
      process.output.on("close", resolve);
      process.output.on("error", () => resolve());
    });
    process.stdin.on("error", () => {}); // the program may exit without reading its stdin
    // The code goes first: the program starts while the run's start is being recorded.
    // One write: the agent reads header, code and stdin in as few reads as the pipe allows.
    process.stdin.end(Buffer.concat(launched.input));
    // The run's limits apply from the moment its code arrives: the timeout counts from here.
    const timer = setTimeout(() => stop("timeout"), run.timeoutMs);
    const startedAt = Date.now();
    markRunStarted(db, run.id, { startedAt, warm: launched.warm, containerId: launched.containerId ?? null });
    deps.publish({ type: "started", runId: run.id, startedAt, containerRuntime: deps.containerRuntime, warm: launched.warm });
    if (stopReason || isCancelRequested(db, run.id)) stop(stopReason ?? "cancel");

    // The agent's in-band marker ends the run at once. A child killed by a signal (the shell agents
    // report it; the agent stays up) may have been OOM-killed: the container's memory counters say.
    // Without a marker (the agent itself was killed, or we stopped the run) the container's exit decides.
    type Exit = { exitCode: number; oomKilled: boolean; marked: boolean };
    const containerExit = process.exited.then((code): Exit => ({ exitCode: code, oomKilled: false, marked: false }));
    const markedExit = markers?.completed.then(
      async (code): Promise<Exit> => ({ exitCode: code, oomKilled: code >= 128 && (await launched!.memoryLimitReached()), marked: true }),
    );
    let exit: Exit;
    try {
      exit = await Promise.race(markedExit ? [containerExit, markedExit] : [containerExit]);
    } finally {
      clearTimeout(timer);
    }
    if (!exit.marked) {
      await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, DRAIN_GRACE_MS))]);
      for (const stream of ["stdout", "stderr"] as const) {
        const held = markers?.flush(stream);
        if (held?.length) collector.push(stream, held);
      }
      exit = { ...(await launched.inspectExit(exit.exitCode)), marked: false };
    }
    collector.end();

    const response = stopReason ? null : await launched.readResponse();
    publishEnd(deps, run.id, {
      status: statusFor(stopReason, exit.exitCode, exit.oomKilled),
      exitCode: stopReason === "timeout" || stopReason === "cancel" ? null : exit.exitCode,
      oomKilled: exit.oomKilled,
      truncated: collector.truncated,
      error: null,
      response,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`[worker] run ${run.id} failed on the platform side:`, message);
    publishEnd(deps, run.id, {
      status: stopReason === "cancel" ? "cancelled" : "error",
      exitCode: null,
      oomKilled: false,
      truncated: false,
      error: stopReason === "cancel" ? null : `platform error: ${message}`,
      response: null,
    });
  } finally {
    if (launched) void launched.cleanUp().catch((error) => console.error(`[worker] clean-up after run ${run.id} failed:`, error));
  }
}

function statusFor(stopReason: StopReason | undefined, exitCode: number | null, oomKilled: boolean): RunOutcome["status"] {
  if (stopReason === "cancel") return "cancelled";
  if (stopReason === "timeout") return "timed_out";
  if (oomKilled) return "failed";
  return exitCode === 0 && stopReason === undefined ? "succeeded" : "failed";
}

function publishEnd(deps: ExecutionDeps, runId: string, outcome: RunOutcome): void {
  const finished = finishRun(deps.db, runId, outcome);
  if (finished) deps.publish(toEndEvent(finished));
}
