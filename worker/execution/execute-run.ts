import type { RunRow } from "@/lib/db/schema";
import type { RunEvent } from "@/lib/realtime/events";
import { appendRunOutput, finishRun, isCancelRequested, markRunStarted, type RunOutcome } from "@/lib/runs/record-run-progress";
import { toEndEvent } from "@/lib/runs/run-view";
import { DockerFrameParser } from "./docker-frame-parser";
import { launchFreshContainer, launchInSandbox, type LaunchDeps, type Launched } from "./launchers";
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
    const parser = new DockerFrameParser((stream, payload) => collector.push(stream, payload));

    launched = await (run.sandboxId ? launchInSandbox(run, deps) : launchFreshContainer(run, deps));
    const { process } = launched;
    const startedAt = Date.now();
    markRunStarted(db, run.id, startedAt);
    deps.publish({ type: "started", runId: run.id, startedAt, containerRuntime: deps.containerRuntime });
    if (stopReason || isCancelRequested(db, run.id)) stop(stopReason ?? "cancel");

    const timer = setTimeout(() => stop("timeout"), run.timeoutMs);
    const drained = new Promise<void>((resolve) => {
      process.output.on("data", (chunk: Buffer) => parser.push(chunk));
      process.output.on("end", resolve);
      process.output.on("close", resolve);
      process.output.on("error", () => resolve());
    });
    process.stdin.on("error", () => {}); // the program may exit without reading its stdin
    for (const part of launched.input.slice(0, -1)) process.stdin.write(part);
    process.stdin.end(launched.input.at(-1));

    let exitCode: number;
    try {
      exitCode = await process.exited;
    } finally {
      clearTimeout(timer);
    }
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, DRAIN_GRACE_MS))]);
    collector.end();

    const exit = await launched.inspectExit(exitCode);
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
