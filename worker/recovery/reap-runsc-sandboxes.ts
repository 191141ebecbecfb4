import { readdirSync, readFileSync } from "node:fs";
import type { ContainerEngine } from "../engine/container-engine";

const RUNSC_PROCESS_NAMES = new Set(["runsc-sandbox", "runsc-gofer"]);
const CONTAINER_ID = /^[0-9a-f]{64}$/;
/** A sandbox exists for a moment during `docker start` before Docker lists its container as running. */
const MIN_AGE_S = 30;
const CLOCK_TICKS_PER_S = 100;

type RunscProcess = { pid: number; containerId: string; stateRoot: string; ageS: number };

/**
 * runsc state folders (`--root`) known to belong to this worker's Docker daemon. Another daemon on the same
 * host (a second installation, a test's private daemon) keeps its runsc state elsewhere, and its sandboxes
 * are not ours to judge: its containers never show in our daemon's list.
 */
const ourStateRoots = new Set<string>();

/** gVisor's sandbox and gofer processes: argv[0] names them and their last argument is the container id. */
function runscProcesses(): RunscProcess[] {
  const uptimeS = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  const found: RunscProcess[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean);
      if (!RUNSC_PROCESS_NAMES.has(argv[0] ?? "") || !CONTAINER_ID.test(argv.at(-1) ?? "")) continue;
      const rootArg = argv.find((arg) => arg.startsWith("--root="));
      if (!rootArg) continue;
      // Field 22 of /proc/PID/stat is the start time in clock ticks; the command name (field 2) may hold spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const startTicks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
      found.push({ pid: Number(entry), containerId: argv.at(-1)!, stateRoot: rootArg.slice("--root=".length), ageS: uptimeS - startTicks / CLOCK_TICKS_PER_S });
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/**
 * A failed runsc start can leave its sandbox processes behind with no container to own them.
 * Kills those whose container our Docker daemon no longer runs, among the runsc processes of our daemon
 * (their state root is one that a container of ours was seen using).
 */
export async function reapStrayRunscSandboxes(engine: ContainerEngine): Promise<number> {
  const processes = runscProcesses();
  if (!processes.length) return 0;
  const running = new Set(await engine.listRunningIds());
  const managed = new Set((await engine.listManaged()).map((container) => container.id));
  for (const candidate of processes) {
    if (running.has(candidate.containerId) || managed.has(candidate.containerId)) ourStateRoots.add(candidate.stateRoot);
  }
  let killed = 0;
  for (const candidate of processes) {
    if (candidate.ageS < MIN_AGE_S || running.has(candidate.containerId) || !ourStateRoots.has(candidate.stateRoot)) continue;
    try {
      process.kill(candidate.pid, "SIGKILL");
      killed++;
    } catch {
      // already gone
    }
  }
  if (killed) console.warn(`[worker] killed ${killed} stray runsc process(es)`);
  return killed;
}
