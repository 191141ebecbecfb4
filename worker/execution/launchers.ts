import type { SandpitDb } from "@/lib/db/open-database";
import type { RunRow } from "@/lib/db/schema";
import { resolveModelPath } from "@/lib/models/list-models";
import { findSandbox } from "@/lib/sandboxes/sandbox-view";
import { isRuntimeName } from "@/lib/runtimes/catalog";
import { randomBytes } from "node:crypto";
import type { ContainerEngine, StartedContainer } from "../engine/container-engine";
import type { PoolKey, WarmPool } from "../pool/warm-pool";
import { buildContainerSpec, type ContainerRequest } from "../container/build-container-spec";
import type { HardeningPolicy } from "../container/hardening-policy";

export type LaunchDeps = {
  db: SandpitDb;
  engine: ContainerEngine;
  policy: HardeningPolicy;
  workerId: string;
  instanceId: string;
  imagePrefix: string;
  modelsDir: string;
  containerRuntime: "runc" | "runsc";
  /** Warm single-use containers; absent when the pool is turned off. */
  pool?: WarmPool;
};

/** A started program: its streams, how to kill it, and what to do after it exits. */
export type Launched = {
  process: StartedContainer;
  /** Bytes for the program's stdin, per the image's agent protocol. */
  input: Buffer[];
  /** The token of the agent's in-band completion marker (worker/pool/completion-marker.ts), when it writes one. */
  completionToken?: string;
  /** Whether the container came warm from the pool. */
  warm: boolean;
  /** The run's own container (single-use runs; a sandbox's container outlives its runs). */
  containerId?: string;
  kill(): Promise<void>;
  /** Exit status as the engine saw it (OOM included). */
  inspectExit(exitCode: number): Promise<{ exitCode: number; oomKilled: boolean }>;
  /** For an agent that reported a child killed by a signal: whether the container had hit its memory limit. */
  memoryLimitReached(): Promise<boolean>;
  /** The engine killed the container without Sandpit asking (shutting down, an operator): not the program's doing. */
  killedFromOutside(): boolean;
  /**
   * A handler's JSON result, if the code had a handler (sandbox runs). The sandbox controls the file, so the
   * read gives up after `budgetMs` or when `signal` aborts (cancel), and takes at most RESPONSE_LIMIT_BYTES.
   */
  readResponse(signal: AbortSignal, budgetMs: number): Promise<string | null>;
  cleanUp(): Promise<void>;
};

/** How long a finished single-use container waits before it is removed (see cleanUp below). */
const TEARDOWN_DEFER_MS = 25;

const framed = (payload: Buffer, token?: string) => [Buffer.from(token ? `${payload.length} ${token}\n` : `${payload.length}\n`), payload];

/** The image and limits a single-use container for `run` gets, shared by the pool and cold starts. */
export function singleUseRequest(key: PoolKey, deps: LaunchDeps): Omit<ContainerRequest, "role"> {
  return {
    workerId: deps.workerId,
    instanceId: deps.instanceId,
    image: deps.imagePrefix + key.runtime, // scripts/build-images.sh tags images/<name> as sandpit/<name>
    memoryMb: key.memoryMb,
    cpus: key.cpusMilli / 1000,
    containerRuntime: deps.containerRuntime,
  };
}

/**
 * A single-use container, never reused: warm from the pool when one with the run's limits is idle,
 * else created now. Either way its agent gets the code on stdin and marks the program's exit in-band.
 */
export async function launchSingleUse(run: RunRow, deps: LaunchDeps): Promise<Launched> {
  if (!isRuntimeName(run.runtime)) throw new Error(`unknown runtime ${run.runtime}`);
  const key: PoolKey = { runtime: run.runtime, memoryMb: run.memoryMb, cpusMilli: run.cpus };
  let model: { hostPath: string; name: string } | undefined;
  if (run.model) {
    const hostPath = resolveModelPath(deps.modelsDir, run.model);
    if (!hostPath) throw new Error(`model ${run.model} is no longer in the model store`);
    model = { hostPath, name: run.model };
  }
  // A model mount is per run, so those containers are never made ahead of time.
  const pooled = model ? undefined : await deps.pool?.takeOrWait(key);
  const container =
    pooled?.container ?? (await deps.engine.start(buildContainerSpec({ ...singleUseRequest(key, deps), role: { run: run.id }, model }, deps.policy)));
  const token = randomBytes(16).toString("hex");
  return {
    process: container,
    input: [...framed(Buffer.from(run.code, "utf8"), token), Buffer.from(run.stdin, "utf8")],
    completionToken: token,
    // Warm: the container was idle in the pool. One the run waited for while it was being created is not.
    warm: Boolean(pooled && !pooled.waited),
    containerId: container.id,
    kill: () => deps.engine.kill(container.id),
    inspectExit: async (exitCode) => {
      const exit = await deps.engine.inspectExit(container.id);
      return { exitCode: exit.exitCode ?? exitCode, oomKilled: exit.oomKilled };
    },
    killedFromOutside: () => deps.engine.killedFromOutside(container.id),
    // A failure here (the engine going down) ends the run with a platform error, named by describeEngineError.
    memoryLimitReached: () => deps.engine.memoryLimitReached(container.id),
    readResponse: async () => null,
    // Off the result's path: the outcome is recorded before this runs. Removal (a burst of work for dockerd
    // and containerd) waits a moment so the web server answers the caller first; one call kills and removes.
    // With a pool, the pool refills first and removes this container in the background after its refills.
    cleanUp: async () => {
      await new Promise((resolve) => setTimeout(resolve, TEARDOWN_DEFER_MS));
      await (deps.pool ? deps.pool.retire(container.id) : deps.engine.remove(container.id));
    },
  };
}

export const RESPONSE_LIMIT_BYTES = 1024 * 1024;
/** How long the worker waits for a helper command (kill, clean-up) that touches files the sandbox controls. */
const HELPER_EXEC_MS = 5000;

/**
 * Reads the response file without trusting it: a link or anything but a regular file is no response, and
 * should the sandbox swap in a FIFO (blocks on open) or /dev/zero (never ends) after the check, `timeout`
 * and `head -c` bound the read inside the container as the AbortSignal bounds the worker's wait.
 * $1 file, $2 byte cap (one over the limit, to tell "too big"), $3 seconds.
 */
const READ_RESPONSE_SCRIPT = '[[ -f $1 && ! -L $1 ]] || exit 3; exec timeout -s KILL "$3" head -c "$2" -- "$1"';
/** Kills the run's process group; the pgid file is the sandbox's too, so it is read the same bounded way. */
const KILL_GROUP_SCRIPT = 'pgid=$(timeout -s KILL 2 head -c 32 -- "/tmp/.sandpit/pgid-$1") && kill -KILL -- -"$pgid"';

/**
 * A process exec'd into the sandbox's long-lived container, as its unprivileged user. `timeout` makes it
 * a process group (killed whole on cancel) and is a backstop should the worker's own timer be lost.
 */
export async function launchInSandbox(run: RunRow, deps: LaunchDeps): Promise<Launched> {
  const sandbox = run.sandboxId ? await findSandbox(deps.db, run.sandboxId) : undefined;
  if (!sandbox || sandbox.status !== "ready" || !sandbox.containerId) {
    throw new Error(`sandbox ${run.sandboxId} is ${sandbox?.status ?? "gone"}`);
  }
  const containerId = sandbox.containerId;
  const files = { event: `/tmp/.sandpit/event-${run.id}.json`, response: `/tmp/.sandpit/response-${run.id}.json` };
  const env = [
    `SANDPIT_RUN_ID=${run.id}`,
    `SANDPIT_EVENT_FILE=${files.event}`,
    `SANDPIT_RESPONSE_FILE=${files.response}`,
    `SANDPIT_SANDBOX_ID=${sandbox.id}`,
    `SANDPIT_SANDBOX_NAME=${sandbox.name}`,
    `SANDPIT_DEADLINE_MS=${Date.now() + run.timeoutMs}`,
    `SANDPIT_DENO_FLAGS=${(JSON.parse(sandbox.denoFlags) as string[]).join(" ")}`,
  ];
  if (run.command) env.push(`SANDPIT_COMMAND=${run.command}`);
  const backstopS = String(Math.ceil(run.timeoutMs / 1000) + 2);
  const process = await deps.engine.exec(containerId, {
    cmd: ["timeout", "-s", "KILL", backstopS, "/opt/sandpit/invoke"],
    env,
    workingDir: "/sandbox",
  });
  const event = Buffer.from(run.input ?? "", "utf8");
  return {
    process,
    input: [...framed(event), Buffer.from(run.stdin, "utf8")],
    warm: false,
    kill: async () => {
      await deps.engine.execCollect(containerId, { cmd: ["bash", "-c", KILL_GROUP_SCRIPT, "kill", run.id] }, "", 4096, AbortSignal.timeout(HELPER_EXEC_MS));
    },
    memoryLimitReached: async () => false,
    killedFromOutside: () => deps.engine.killedFromOutside(containerId),
    inspectExit: async (exitCode) => {
      const exit = await deps.engine.inspectExit(containerId).catch(() => ({ oomKilled: false }));
      return { exitCode, oomKilled: exitCode === 137 && exit.oomKilled };
    },
    readResponse: async (signal, budgetMs) => {
      if (run.command) return null;
      const seconds = (Math.max(budgetMs, 100) / 1000).toFixed(1);
      const result = await deps.engine
        .execCollect(
          containerId,
          { cmd: ["bash", "-c", READ_RESPONSE_SCRIPT, "read-response", files.response, String(RESPONSE_LIMIT_BYTES + 1), seconds] },
          "",
          RESPONSE_LIMIT_BYTES,
          AbortSignal.any([signal, AbortSignal.timeout(budgetMs)]),
        )
        .catch(() => null);
      // Missing, not a regular file, too slow or too big: the run has no handler response.
      if (!result || result.exitCode !== 0 || result.overLimit) return null;
      try {
        JSON.parse(result.stdout);
        return result.stdout;
      } catch {
        return null;
      }
    },
    cleanUp: async () => {
      await deps.engine.execCollect(
        containerId,
        { cmd: ["rm", "-f", "--", files.event, files.response, `/tmp/.sandpit/pgid-${run.id}`] },
        "",
        4096,
        AbortSignal.timeout(HELPER_EXEC_MS),
      );
    },
  };
}
