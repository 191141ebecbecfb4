import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { ContainerEngine } from "../engine/container-engine";

const run = promisify(execFile);
/** Bump when the recipes below change, so old cached layers are not reused. */
const RECIPE_VERSION = "1";

/**
 * An image with the sandbox's packages installed, cached by a hash of (runtime, sorted requirements).
 * Installs happen at build time, with network; the sandbox itself never has any.
 * Python: pip inside a build container. Node: `npm install --ignore-scripts` on the worker's host
 * (no package code runs there), copied to /node_modules where both require() and import find it.
 */
export async function ensureRequirementsImage(
  engine: ContainerEngine,
  imagePrefix: string,
  runtime: string,
  requirements: string[],
): Promise<{ image: string; cached: boolean }> {
  const base = `${imagePrefix}${runtime}`;
  if (!requirements.length) return { image: base, cached: true };
  const hash = createHash("sha256").update([RECIPE_VERSION, runtime, ...requirements].join("\n")).digest("hex").slice(0, 20);
  const tag = `${imagePrefix}req-${runtime}-${hash}`;
  if (await engine.imageExists(tag)) return { image: tag, cached: true };

  const contextDir = mkdtempSync(path.join(os.tmpdir(), "sandpit-req-"));
  try {
    if (runtime === "python") {
      writeFileSync(path.join(contextDir, "requirements.txt"), requirements.join("\n") + "\n");
      writeFileSync(
        path.join(contextDir, "Dockerfile"),
        [
          `FROM ${base}`,
          "USER root",
          // Cached by Docker across requirement sets: same parent, same instruction.
          "RUN apt-get update -q && apt-get install -y -q --no-install-recommends python3-pip >/dev/null && rm -rf /var/lib/apt/lists/*",
          "COPY requirements.txt /opt/sandpit/requirements.txt",
          "RUN pip install --break-system-packages --no-cache-dir --disable-pip-version-check -q -r /opt/sandpit/requirements.txt",
          "USER 1000:1000",
        ].join("\n") + "\n",
      );
    } else if (runtime === "node") {
      writeFileSync(path.join(contextDir, "package.json"), JSON.stringify({ name: "sandbox-requirements", private: true }));
      try {
        await run("npm", ["install", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error", ...requirements], {
          cwd: contextDir,
          timeout: 300_000,
        });
      } catch (error) {
        const { stderr, message } = error as { stderr?: string; message: string };
        throw new Error(`requirements install failed: ${(stderr || message).trim().slice(-2000)}`);
      }
      writeFileSync(path.join(contextDir, "Dockerfile"), `FROM ${base}\nCOPY node_modules /node_modules\n`);
    } else {
      throw new Error(`requirements install failed: not supported for ${runtime}`);
    }
    try {
      await engine.buildImage({
        tag,
        contextDir,
        networkMode: "default",
        labels: { "sandpit.requirements": requirements.join(","), "sandpit.runtime": runtime },
      });
    } catch (error) {
      throw new Error(`requirements install failed: ${(error as Error).message.trim().slice(-2000)}`);
    }
    return { image: tag, cached: false };
  } finally {
    rmSync(contextDir, { recursive: true, force: true });
  }
}
