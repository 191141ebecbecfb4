import { readdirSync, readFileSync } from "node:fs";
import type { ContainerEngine } from "../engine/container-engine";

const CONTAINER_ID = /\b[0-9a-f]{64}\b/g;

/** `runsc-sandbox` processes on this host with the container ids named in their command lines. */
function runscSandboxProcesses(): { pid: number; containerIds: string[] }[] {
  const found: { pid: number; containerIds: string[] }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    const argv0 = cmdline.split("\0")[0] ?? "";
    if (!argv0.includes("runsc-sandbox")) continue;
    found.push({ pid: Number(entry), containerIds: cmdline.match(CONTAINER_ID) ?? [] });
  }
  return found;
}

/**
 * A failed runsc start can leave its sandbox process behind with no container to own it.
 * Kills those whose container Docker no longer runs.
 */
export async function reapStrayRunscSandboxes(engine: ContainerEngine): Promise<number> {
  const candidates = runscSandboxProcesses();
  if (!candidates.length) return 0;
  const running = new Set(await engine.listRunningIds());
  let killed = 0;
  for (const candidate of candidates) {
    // Without an id to match we cannot tell whose it is: leave it.
    if (!candidate.containerIds.length || candidate.containerIds.some((id) => running.has(id))) continue;
    try {
      process.kill(candidate.pid, "SIGKILL");
      killed++;
    } catch {
      // already gone, or not ours to kill
    }
  }
  if (killed) console.warn(`[worker] killed ${killed} stray runsc-sandbox process(es)`);
  return killed;
}
