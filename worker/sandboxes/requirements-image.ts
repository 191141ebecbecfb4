import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { ContainerEngine } from "../engine/container-engine";

const run = promisify(execFile);
/** Bump when the recipes below change, so old cached layers are not reused. */
const RECIPE_VERSION = "2";
/** The host's CA bundle: a build behind a TLS-inspecting proxy must trust what the host trusts. */
const HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

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
      const hasCa = existsSync(HOST_CA_BUNDLE);
      if (hasCa) copyFileSync(HOST_CA_BUNDLE, path.join(contextDir, "host-ca.crt"));
      else writeFileSync(path.join(contextDir, "host-ca.crt"), "");
      writeFileSync(
        path.join(contextDir, "Dockerfile"),
        [
          `FROM ${base}`,
          "USER root",
          // Cached by Docker across requirement sets: same parent, same instruction.
          "RUN apt-get update -q && apt-get install -y -q --no-install-recommends python3-pip >/dev/null && rm -rf /var/lib/apt/lists/*",
          "COPY requirements.txt host-ca.crt /opt/sandpit/build/",
          "RUN pip install --break-system-packages --no-cache-dir --disable-pip-version-check -q --retries 1 " +
            (hasCa ? "--cert /opt/sandpit/build/host-ca.crt " : "") +
            "-r /opt/sandpit/build/requirements.txt",
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
      throw new Error(`requirements install failed: ${installerMessage((error as Error).message)}`);
    }
    return { image: tag, cached: false };
  } finally {
    rmSync(contextDir, { recursive: true, force: true });
  }
}

/** The installer's own complaint from a build log: its ERROR lines when it has any, else the log's tail. */
function installerMessage(log: string): string {
  // eslint-disable-next-line no-control-regex
  const lines = log.replace(/\u001b\[[0-9;]*m/g, "").split("\n");
  const errors = lines.filter((line) => /\bERROR\b|npm error/i.test(line));
  return (errors.length ? errors.join("\n") : lines.join("\n")).trim().slice(-2000);
}
