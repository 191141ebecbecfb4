import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import path from "node:path";
import { readStackDatabase, type StackDatabase } from "./stack-database";

/**
 * Containers (any state) that belong to a run, as Docker sees them: one created for the run carries its
 * label; a warm one from the pool does not, and is found by the id the worker recorded when it took it.
 */
export async function containersForRun(stack: StackDatabase, runId: string): Promise<string[]> {
  const containerId = await recordedContainerId(stack, runId);
  const list = (filter: string) => execFileSync("docker", ["ps", "-aq", "--no-trunc", "--filter", filter], { encoding: "utf8" }).split("\n").filter(Boolean);
  return [...new Set([...list(`label=sandpit.run=${runId}`), ...(containerId ? list(`id=${containerId}`) : [])])];
}

/** The container id the worker recorded for a run when it started it (null before that). */
export async function recordedContainerId(stack: StackDatabase, runId: string): Promise<string | null> {
  const [row] = await readStackDatabase<{ container_id: string | null }>(stack, "select container_id from runs where id = $1", [runId]);
  return row?.container_id ?? null;
}

/** The installation label a stack's workers put on their containers (worker/config.ts: hash of the database path). */
export function instanceIdOf(dataDir: string): string {
  return createHash("sha256").update(path.join(dataDir, "sandpit.db")).digest("hex").slice(0, 16);
}

/** Warm pool containers of a stack (idle, or taken by a run that has not ended). */
export function poolContainers(dataDir: string): string[] {
  return execFileSync(
    "docker",
    ["ps", "-aq", "--no-trunc", "--filter", `label=sandpit.instance=${instanceIdOf(dataDir)}`, "--filter", "label=sandpit.pool=1"],
    {
      encoding: "utf8",
    },
  )
    .split("\n")
    .filter(Boolean);
}

export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return check();
}

export function registeredRuntimes(): string[] {
  const output = execFileSync("docker", ["info", "--format", "{{json .Runtimes}}"], { encoding: "utf8" });
  return Object.keys(JSON.parse(output));
}
