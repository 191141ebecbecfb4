import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { RequirementsRejected, RequirementsUnavailable } from "@/lib/requirements/requirements-errors";
import type { ContainerEngine } from "../engine/container-engine";
import { REQUIREMENTS_CACHE_LABEL, type RequirementsCache } from "./requirements-cache";

const run = promisify(execFile);
/** Bump when the recipes below change: part of every cache key, so old images are not reused. */
const RECIPE_VERSION = "3";
/** The host's CA bundle: a build behind a TLS-inspecting proxy must trust what the host trusts. */
const HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
/** How much of a lockfile the worker reads back from npm. */
const MAX_LOCKFILE_BYTES = 8 * 1024 * 1024;

export type RequirementsImageRequest = {
  imagePrefix: string;
  runtime: string;
  /** Canonical, sorted requirement set from parseRequirements. */
  requirements: string[];
  buildTimeoutMs: number;
  pipIndexUrl: string;
  npmRegistry: string;
};

/** The image tag for a requirement set: (runtime, recipe version, base image recipe, normalised sorted set). */
export function requirementsImageTag(
  request: Pick<RequirementsImageRequest, "imagePrefix" | "runtime" | "requirements" | "pipIndexUrl" | "npmRegistry">,
  baseImage: string,
): string {
  const registry = request.runtime === "python" ? request.pipIndexUrl : request.npmRegistry;
  const hash = createHash("sha256")
    .update(JSON.stringify([RECIPE_VERSION, request.runtime, baseImage, registry, ...request.requirements]))
    .digest("hex")
    .slice(0, 24);
  return `${request.imagePrefix}requirements:${request.runtime}-${hash}`;
}

/**
 * An image with the sandbox's packages installed, cached (see RequirementsCache) by (runtime, recipe, base
 * image, normalised set). Python: `pip install --only-binary=:all:` in a build step: wheels only, so no
 * package's setup.py runs there. Node: npm resolves and fetches registry tarballs with scripts, git, remote,
 * file and directory specs off, and every locked package is checked to come from the registry with an
 * integrity hash before anything is fetched; the image is FROM + COPY.
 */
export async function ensureRequirementsImage(
  engine: ContainerEngine,
  cache: RequirementsCache,
  request: RequirementsImageRequest,
): Promise<{ image: string; cached: boolean }> {
  const base = `${request.imagePrefix}${request.runtime}`;
  if (!request.requirements.length) return { image: base, cached: true };
  if (request.runtime !== "python" && request.runtime !== "node") throw new RequirementsRejected(`requirements are not supported for ${request.runtime}`);
  const tag = requirementsImageTag(request, base);
  const { cached } = await cache.ensure(tag, () => buildRequirementsImage(engine, base, tag, request));
  return { image: tag, cached };
}

async function buildRequirementsImage(engine: ContainerEngine, base: string, tag: string, request: RequirementsImageRequest): Promise<void> {
  const contextDir = mkdtempSync(path.join(os.tmpdir(), "sandpit-req-"));
  try {
    if (request.runtime === "python") writePythonContext(contextDir, base, request);
    else await writeNodeContext(contextDir, base, request);
    const labels = { [REQUIREMENTS_CACHE_LABEL]: request.runtime, "sandpit.runtime": request.runtime };
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Closing the build request makes Docker stop the step and remove its container (forcerm).
        abort.abort();
        reject(new RequirementsRejected(`the install took longer than ${request.buildTimeoutMs / 1000} s`));
      }, request.buildTimeoutMs);
    });
    try {
      await Promise.race([engine.buildImage({ tag, contextDir, networkMode: "default", labels, signal: abort.signal }), timeout]);
    } catch (error) {
      if (error instanceof RequirementsRejected) throw error;
      // A build that failed while the engine is unreachable is the platform's failure, not the installer's.
      const message = (error as Error).message;
      const engineUp = await engine.ping().then(() => true, () => false);
      if (!engineUp) throw new RequirementsUnavailable(`the container engine is unavailable: ${message.slice(0, 500)}`);
      throw new RequirementsRejected(stripAnsi(message));
    } finally {
      clearTimeout(timer);
    }
  } finally {
    rmSync(contextDir, { recursive: true, force: true });
  }
}

function writePythonContext(contextDir: string, base: string, request: RequirementsImageRequest): void {
  writeFileSync(path.join(contextDir, "requirements.txt"), request.requirements.join("\n") + "\n");
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
      // --only-binary=:all: installs wheels only: no sdist's setup.py ever runs in this networked step.
      // --isolated ignores any pip config and environment; --no-input never waits on a prompt.
      "RUN pip install --isolated --no-input --break-system-packages --no-cache-dir --disable-pip-version-check -q --retries 1 " +
        `--only-binary=:all: --index-url ${JSON.stringify(request.pipIndexUrl)} ` +
        (hasCa ? "--cert /opt/sandpit/build/host-ca.crt " : "") +
        "-r /opt/sandpit/build/requirements.txt",
      "USER 1000:1000",
    ].join("\n") + "\n",
  );
}

/** npm flags that keep every package a registry tarball and run nothing of any package. */
function npmSafetyArgs(contextDir: string, registry: string): string[] {
  return [
    "--ignore-scripts",
    "--allow-git=none",
    "--allow-remote=none",
    "--allow-file=none",
    "--allow-directory=none",
    `--registry=${registry}`,
    `--userconfig=${path.join(contextDir, "empty.npmrc")}`,
    `--globalconfig=${path.join(contextDir, "empty-global.npmrc")}`,
    ...(existsSync(HOST_CA_BUNDLE) ? [`--cafile=${HOST_CA_BUNDLE}`] : []),
    `--cache=${path.join(contextDir, "npm-cache")}`,
    "--no-audit",
    "--no-fund",
    "--loglevel=error",
  ];
}

async function writeNodeContext(contextDir: string, base: string, request: RequirementsImageRequest): Promise<void> {
  // Empty user and global configs: no operator or attacker .npmrc (git=, registry=, …) applies.
  writeFileSync(path.join(contextDir, "empty.npmrc"), "");
  writeFileSync(path.join(contextDir, "empty-global.npmrc"), "");
  writeFileSync(path.join(contextDir, "package.json"), JSON.stringify({ name: "sandbox-requirements", private: true }));
  // A bare environment: the worker's own variables (and any npm_config_*) never reach npm; git is /bin/false.
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: contextDir, npm_config_git: "/bin/false" } as unknown as NodeJS.ProcessEnv;
  const npm = async (args: string[]) => {
    try {
      await run("npm", [...args, ...npmSafetyArgs(contextDir, request.npmRegistry)], { cwd: contextDir, env, timeout: request.buildTimeoutMs, maxBuffer: 4 * 1024 * 1024 });
    } catch (error) {
      const { stderr, message, killed } = error as { stderr?: string; message: string; killed?: boolean };
      if (killed) throw new RequirementsRejected(`the install took longer than ${request.buildTimeoutMs / 1000} s`);
      throw new RequirementsRejected(stripAnsi(stderr || message));
    }
  };
  // Resolve first, fetch nothing: every locked package must be a registry tarball with an integrity hash.
  await npm(["install", "--package-lock-only", "--save-exact", ...request.requirements]);
  checkLockfile(path.join(contextDir, "package-lock.json"), request.npmRegistry);
  await npm(["ci"]);
  writeFileSync(path.join(contextDir, "Dockerfile"), `FROM ${base}\nCOPY node_modules /node_modules\n`);
}

/** Refuses a lockfile with any package not resolved from `registry` or without an integrity hash. */
export function checkLockfile(lockfilePath: string, registry: string): void {
  const text = readFileSync(lockfilePath, "utf8");
  if (text.length > MAX_LOCKFILE_BYTES) throw new RequirementsRejected("the resolved dependency tree is too large");
  const lock = JSON.parse(text) as { packages?: Record<string, { resolved?: string; integrity?: string; link?: boolean }> };
  for (const [location, entry] of Object.entries(lock.packages ?? {})) {
    if (location === "") continue;
    const name = location.replace(/^.*node_modules\//, "");
    if (entry.link || !entry.resolved || !entry.resolved.startsWith(registry) || !entry.integrity) {
      throw new RequirementsRejected(`dependency ${JSON.stringify(name.slice(0, 100))} does not come from the registry (${JSON.stringify(String(entry.resolved ?? "no resolved URL").slice(0, 100))}); only registry packages are installed`);
    }
  }
}

function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}
