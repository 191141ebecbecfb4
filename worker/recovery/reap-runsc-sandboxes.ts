import { readdirSync, readFileSync } from "node:fs";
import type { ContainerEngine } from "../engine/container-engine";

const RUNSC_PROCESS_NAMES = new Set(["runsc-sandbox", "runsc-gofer"]);
const CONTAINER_ID = /^[0-9a-f]{64}$/;
/** A sandbox exists for a moment during `docker start` before Docker lists its container as running. */
const MIN_AGE_S = 30;
const CLOCK_TICKS_PER_S = 100;

type RunscProcess = { pid: number; containerId: string; ageS: number };

/** gVisor's sandbox and gofer processes: argv[0] names them and their last argument is the container id. */
function runscProcesses(): RunscProcess[] {
  const uptimeS = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  const found: RunscProcess[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean);
      if (!RUNSC_PROCESS_NAMES.has(argv[0] ?? "") || !CONTAINER_ID.test(argv.at(-1) ?? "")) continue;
      // Field 22 of /proc/PID/stat is the start time in clock ticks; the command name (field 2) may hold spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const startTicks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
      found.push({ pid: Number(entry), containerId: argv.at(-1)!, ageS: uptimeS - startTicks / CLOCK_TICKS_PER_S });
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/**
 * A failed runsc start can leave its sandbox processes behind with no container to own them.
 * Kills those whose container Docker no longer runs.
 */
export async function reapStrayRunscSandboxes(engine: ContainerEngine): Promise<number> {
  const candidates = runscProcesses().filter((candidate) => candidate.ageS >= MIN_AGE_S);
  if (!candidates.length) return 0;
  const running = new Set(await engine.listRunningIds());
  let killed = 0;
  for (const candidate of candidates) {
    if (running.has(candidate.containerId)) continue;
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
