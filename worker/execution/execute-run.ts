import type { SandpitDb } from "@/lib/db/open-database";
import type { RunRow } from "@/lib/db/schema";
import type { RunEvent } from "@/lib/realtime/events";
import { appendRunOutput, finishRun, isCancelRequested, markRunStarted, type RunOutcome } from "@/lib/runs/record-run-progress";
import { toEndEvent } from "@/lib/runs/run-view";
import { resolveModelPath } from "@/lib/models/list-models";
import { RUNTIMES, isRuntimeName } from "@/lib/runtimes/catalog";
import type { ContainerEngine, StartedContainer } from "../engine/container-engine";
import { buildContainerSpec } from "../sandbox/build-container-spec";
import type { HardeningPolicy } from "../sandbox/hardening-policy";
import { DockerFrameParser } from "./docker-frame-parser";
import { OutputCollector } from "./output-collector";

export type ExecutionDeps = {
  db: SandpitDb;
  engine: ContainerEngine;
  policy: HardeningPolicy;
  workerId: string;
  instanceId: string;
  imagePrefix: string;
  modelsDir: string;
  containerRuntime: "runc" | "runsc";
  outputLimitBytes: number;
  publish: (event: RunEvent) => void;
};

type StopReason = "timeout" | "cancel" | "output_limit";

/** How long to wait for the output stream to drain after the container has exited. */
const DRAIN_GRACE_MS = 2000;

/** Handle to a run in flight, so a cancel command can stop it. */
export type ActiveRun = { stop(reason: StopReason): void };

/** Executes one claimed run in a fresh container and records every byte and the outcome. */
export async function executeRun(run: RunRow, deps: ExecutionDeps, register: (handle: ActiveRun) => void): Promise<void> {
  const { db, engine } = deps;
  let container: StartedContainer | undefined;
  let stopReason: StopReason | undefined;
  let nextSeq = 0;

  const stop = (reason: StopReason) => {
    stopReason ??= reason;
    if (container) void engine.kill(container.id).catch(() => {});
  };
  register({ stop });

  try {
    if (!isRuntimeName(run.runtime)) throw new Error(`unknown runtime ${run.runtime}`);
    const image = deps.imagePrefix + RUNTIMES[run.runtime].image.split("/").pop();
    let model: { hostPath: string; name: string } | undefined;
    if (run.model) {
      const hostPath = resolveModelPath(deps.modelsDir, run.model);
      if (!hostPath) throw new Error(`model ${run.model} is no longer in the model store`);
      model = { hostPath, name: run.model };
    }
    const spec = buildContainerSpec(
      {
        runId: run.id,
        workerId: deps.workerId,
        instanceId: deps.instanceId,
        image,
        memoryMb: run.memoryMb,
        cpus: run.cpus / 1000,
        model,
        containerRuntime: deps.containerRuntime,
      },
      deps.policy,
    );

    const collector = new OutputCollector(
      deps.outputLimitBytes,
      (chunks) => {
        for (const chunk of chunks) deps.publish(appendRunOutput(db, run.id, nextSeq++, chunk.stream, chunk.data, chunk.bytes));
      },
      () => stop("output_limit"),
    );
    const parser = new DockerFrameParser((stream, payload) => collector.push(stream, payload));

    container = await engine.start(spec);
    const startedAt = Date.now();
    markRunStarted(db, run.id, startedAt);
    deps.publish({ type: "started", runId: run.id, startedAt, containerRuntime: deps.containerRuntime });
    if (stopReason || isCancelRequested(db, run.id)) stop(stopReason ?? "cancel");

    const timer = setTimeout(() => stop("timeout"), run.timeoutMs);
    const drained = new Promise<void>((resolve) => {
      container!.output.on("data", (chunk: Buffer) => parser.push(chunk));
      container!.output.on("end", resolve);
      container!.output.on("close", resolve);
      container!.output.on("error", () => resolve());
    });

    // The image's agent reads: "<code bytes>\n", the code, then the program's stdin until EOF.
    const code = Buffer.from(run.code, "utf8");
    container.stdin.on("error", () => {}); // the program may exit without reading its stdin
    container.stdin.write(`${code.length}\n`);
    container.stdin.write(code);
    container.stdin.end(run.stdin);

    let exitCode: number | null;
    try {
      exitCode = await container.exited;
    } finally {
      clearTimeout(timer);
    }
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, DRAIN_GRACE_MS))]);
    collector.end();

    const exit = await engine.inspectExit(container.id);
    exitCode = exit.exitCode ?? exitCode;
    const outcome: RunOutcome = {
      status: statusFor(stopReason, exitCode, exit.oomKilled),
      exitCode: stopReason === "timeout" || stopReason === "cancel" ? null : exitCode,
      oomKilled: exit.oomKilled,
      truncated: collector.truncated,
      error: null,
    };
    publishEnd(deps, run.id, outcome);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`[worker] run ${run.id} failed on the platform side:`, message);
    publishEnd(deps, run.id, {
      status: stopReason === "cancel" ? "cancelled" : "error",
      exitCode: null,
      oomKilled: false,
      truncated: false,
      error: stopReason === "cancel" ? null : `platform error: ${message}`,
    });
  } finally {
    // Removal is off the result's path: the outcome is already recorded and published.
    if (container) void engine.remove(container.id).catch((error) => console.error(`[worker] could not remove ${container!.id}:`, error));
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
