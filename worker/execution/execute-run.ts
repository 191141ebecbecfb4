import { abandonFailedTransaction } from "@/lib/db/open-database";
import type { RunRow } from "@/lib/db/schema";
import type { RunEvent } from "@/lib/realtime/events";
import { appendRunOutput, finishRun, isCancelRequested, markRunStarted, type RunOutcome } from "@/lib/runs/record-run-progress";
import { toEndEvent } from "@/lib/runs/run-view";
import { FrameParser } from "../container/frame-parser";
import { CompletionMarkers } from "../pool/completion-marker";
import { launchInSandbox, launchSingleUse, type LaunchDeps, type Launched } from "./launchers";
import { OutputCollector } from "./output-collector";
import { describeEngineError } from "../engine/describe-engine-error";

export type ExecutionDeps = LaunchDeps & {
  outputLimitBytes: number;
  publish: (event: RunEvent) => void;
};

type StopReason = "timeout" | "cancel" | "output_limit" | "engine_lost";

/** How long to wait for the output stream to drain after the program has exited. */
const DRAIN_GRACE_MS = 2000;
/**
 * After a stop (timeout, cancel, output limit) the run ends this long later even if its process has not gone:
 * a sandbox child holding the exec's output open, or a slow engine, never keeps the worker slot.
 */
export const STOP_GRACE_MS = 500;
/** A handler's response file is read within the run's remaining time, but at least this long and at most RESPONSE_READ_MAX_MS. */
const RESPONSE_READ_MIN_MS = 500;
const RESPONSE_READ_MAX_MS = 2000;

/** Handle to a run in flight, so a cancel command can stop it. */
export type ActiveRun = { stop(reason: StopReason): void };

/** Executes one claimed run (in a fresh container, or inside its sandbox) and records every byte and the outcome. */
export async function executeRun(run: RunRow, deps: ExecutionDeps, register: (handle: ActiveRun) => void): Promise<void> {
  const { db } = deps;
  let launched: Launched | undefined;
  let stopReason: StopReason | undefined;
  let nextSeq = 0;
  /** Output writes, one after another in seq order; the end is recorded only after the last of them. */
  let recording: Promise<void> = Promise.resolve();

  /** Set when output could not be stored (database locked past its busy timeout, disk full): the run stops. */
  let recordingFailure: string | undefined;

  // Aborted on any stop: ends every wait on the sandbox (the exit, the response read) within STOP_GRACE_MS.
  const stopped = new AbortController();
  const stop = (reason: StopReason) => {
    stopReason ??= reason;
    // Not for a lost engine: its closed stream ends the exit wait by itself. Letting go of the process early
    // there was followed, reproducibly, by the restarted daemon failing to start containerd (faults-docker's
    // "crash" test); the cause is not understood yet.
    if (reason !== "engine_lost") stopped.abort();
    if (launched) void launched.kill().catch(() => {});
  };
  register({ stop });

  try {
    const collector = new OutputCollector(
      deps.outputLimitBytes,
      (chunks) => {
        recording = recording.then(async () => {
          if (recordingFailure) return;
          try {
            for (const chunk of chunks) {
              deps.publish(await appendRunOutput(db, run.id, nextSeq, chunk.stream, chunk.data, chunk.bytes));
              nextSeq++;
            }
          } catch (error) {
            abandonFailedTransaction(db);
            // Output we cannot keep must not be reported as a normal run: stop it and say why.
            recordingFailure = `could not record output: ${(error as Error).message}`;
            console.error(`[worker] run ${run.id}: ${recordingFailure}`);
            stop("cancel");
          }
        });
      },
      () => stop("output_limit"),
    );
    launched = await (run.sandboxId ? launchInSandbox(run, deps) : launchSingleUse(run, deps));
    const { process } = launched;
    const markers = launched.completionToken ? new CompletionMarkers(launched.completionToken) : undefined;
    const parser = new FrameParser((stream, payload) => {
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
    const deadline = startedAt + run.timeoutMs;
    await markRunStarted(db, run.id, { startedAt, warm: launched.warm, containerId: launched.containerId ?? null });
    deps.publish({ type: "started", runId: run.id, startedAt, containerRuntime: deps.containerRuntime, warm: launched.warm });
    if (stopReason || (await isCancelRequested(db, run.id))) stop(stopReason ?? "cancel");

    // The agent's in-band marker ends the run at once. A child killed by a signal (the shell agents
    // report it; the agent stays up) may have been OOM-killed: the container's memory counters say.
    // Without a marker (the agent itself was killed, or we stopped the run) the container's exit decides.
    type Exit = { exitCode: number; oomKilled: boolean; marked: boolean; abandoned?: boolean };
    const containerExit = process.exited.then((code): Exit => ({ exitCode: code, oomKilled: false, marked: false }));
    const abandoned = afterAbort(stopped.signal, STOP_GRACE_MS).then((): Exit => ({ exitCode: 137, oomKilled: false, marked: true, abandoned: true }));
    const markedExit = markers?.completed.then(async (code): Promise<Exit> => ({
      exitCode: code,
      oomKilled: code >= 128 && (await launched!.memoryLimitReached()),
      marked: true,
    }));
    let exit: Exit;
    try {
      exit = await Promise.race(markedExit ? [containerExit, markedExit, abandoned] : [containerExit, abandoned]);
    } finally {
      clearTimeout(timer);
    }
    if (exit.abandoned) {
      console.error(`[worker] run ${run.id}: its process did not end within ${STOP_GRACE_MS} ms of the stop; letting it go`);
      process.output.destroy();
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
    await recording;

    if (recordingFailure) throw new Error(recordingFailure);
    // Whatever exit the program seemed to have, the engine ended it: say so rather than blame the program.
    if (stopReason === "engine_lost") throw new Error("the Docker engine went away while the run was in flight");
    if (launched.killedFromOutside()) throw new Error("the container was killed from outside Sandpit (the Docker engine shutting down?)");
    const readBudgetMs = Math.min(RESPONSE_READ_MAX_MS, Math.max(RESPONSE_READ_MIN_MS, deadline - Date.now()));
    const response = stopReason ? null : await launched.readResponse(stopped.signal, readBudgetMs);
    await publishEnd(deps, run.id, {
      status: statusFor(stopReason, exit.exitCode, exit.oomKilled),
      exitCode: stopReason === "timeout" || stopReason === "cancel" ? null : exit.exitCode,
      oomKilled: exit.oomKilled,
      truncated: collector.truncated,
      error: null,
      response,
    });
  } catch (error) {
    const message = describeEngineError(error);
    console.error(`[worker] run ${run.id} failed on the platform side:`, message);
    await recording;
    const cancelled = stopReason === "cancel" && !recordingFailure && !launched?.killedFromOutside();
    await publishEnd(deps, run.id, {
      status: cancelled ? "cancelled" : "error",
      exitCode: null,
      oomKilled: false,
      truncated: false,
      error: cancelled ? null : `platform error: ${message}`,
      response: null,
    });
  } finally {
    if (launched) void launched.cleanUp().catch((error) => console.error(`[worker] clean-up after run ${run.id} failed:`, error));
  }
}

/** Resolves `ms` after `signal` aborts (never, if it does not). */
function afterAbort(signal: AbortSignal, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const later = () => setTimeout(resolve, ms).unref();
    if (signal.aborted) later();
    else signal.addEventListener("abort", later, { once: true });
  });
}

function statusFor(stopReason: StopReason | undefined, exitCode: number | null, oomKilled: boolean): RunOutcome["status"] {
  if (stopReason === "cancel") return "cancelled";
  if (stopReason === "timeout") return "timed_out";
  if (oomKilled) return "failed";
  return exitCode === 0 && stopReason === undefined ? "succeeded" : "failed";
}

const FINISH_RETRY_MS = 1000;
const FINISH_RETRY_FOR_MS = 5 * 60_000;

/**
 * Records the outcome, retrying while the database is locked or the disk is full (each try is one
 * UPDATE: nothing half-written), so a run never stays "running" because of a passing storage fault.
 */
async function publishEnd(deps: ExecutionDeps, runId: string, outcome: RunOutcome): Promise<void> {
  const giveUpAt = Date.now() + FINISH_RETRY_FOR_MS;
  for (;;) {
    try {
      const finished = await finishRun(deps.db, runId, outcome);
      if (finished) deps.publish(toEndEvent(finished));
      return;
    } catch (error) {
      abandonFailedTransaction(deps.db);
      if (Date.now() > giveUpAt) throw error;
      console.error(`[worker] could not record the end of run ${runId}, retrying:`, (error as Error).message);
      await new Promise((resolve) => setTimeout(resolve, FINISH_RETRY_MS));
    }
  }
}
