import { execFileSync } from "node:child_process";
import path from "node:path";

/** The repository root (the server, its scripts and the shared test harness live there). */
export const repoRoot = path.resolve(import.meta.dirname, "../../..");

/** `npx tsx scripts/token.ts create NAME` against the stack's database; the token is the last stdout line. */
export function createToken(dataDir: string, name = "test-user"): string {
  const stdout = execFileSync("npx", ["tsx", "scripts/token.ts", "create", name], {
    cwd: repoRoot,
    env: { ...process.env, DATA_DIR: dataDir },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines = stdout.trim().split("\n");
  const token = lines[lines.length - 1]?.trim();
  if (!token) throw new Error(`no token printed: ${stdout}`);
  return token;
}

/** Containers Docker still has for a sandbox (running or not). */
export function containersForSandbox(id: string): string[] {
  const out = execFileSync("docker", ["ps", "-a", "-q", "--filter", `label=sandpit.sandbox=${id}`], { encoding: "utf8" });
  return out.split("\n").filter(Boolean);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Removes the worker's cached install for this requirement text (keeping shared parent layers).
 * Best effort: call it after the sandboxes using the image are deleted; it retries while Docker
 * still holds the image for a container being removed.
 */
export async function removeRequirementImages(requirements: string): Promise<void> {
  const ids = [
    ...new Set(
      execFileSync("docker", ["images", "-q", "--filter", `label=sandpit.requirements=${requirements}`], { encoding: "utf8" })
        .split("\n")
        .filter(Boolean),
    ),
  ];
  for (let attempt = 0; ids.length && attempt < 10; attempt++) {
    try {
      execFileSync("docker", ["rmi", "--force", "--no-prune", ...ids], { stdio: "pipe" });
      return;
    } catch (error) {
      if (attempt === 9) console.warn(`could not remove requirement images ${ids.join(" ")}: ${(error as Error).message}`);
      await sleep(500);
    }
  }
}
