import { execFileSync } from "node:child_process";

/** Containers (any state) that carry a run's label: the test's independent view of Docker. */
export function containersForRun(runId: string): string[] {
  const output = execFileSync("docker", ["ps", "-aq", "--filter", `label=sandpit.run=${runId}`], { encoding: "utf8" });
  return output.split("\n").filter(Boolean);
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
