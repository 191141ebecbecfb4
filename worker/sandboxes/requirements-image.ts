import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { RequirementsInstaller } from "@/lib/requirements/parse-requirements";
import { RequirementsRejected, RequirementsUnavailable } from "@/lib/requirements/requirements-errors";
import { getRuntime } from "@/lib/runtimes/catalog";
import type { ContainerEngine, ExecOptions } from "../engine/container-engine";
import { buildContainerSpec } from "../container/build-container-spec";
import type { HardeningPolicy } from "../container/hardening-policy";
import { REQUIREMENTS_CACHE_LABEL, type RequirementsCache } from "./requirements-cache";
import { RelayEnded, startSocketRelay } from "./socket-relay";
import { PROXY_MOUNT, PROXY_SOCKET_NAME, registryHostPorts, startRegistryProxy, type RegistryProxy } from "./registry-proxy";

/** Bump when the recipes below change: part of every cache key, so old images are not reused. */
const RECIPE_VERSION = "4";
/** The host's CA bundle: a fetch behind a TLS-inspecting proxy must trust what the host trusts. */
const HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
/** How much of a lockfile the worker reads back from npm. */
const MAX_LOCKFILE_BYTES = 8 * 1024 * 1024;
/** Limits of a fetch or install container (besides the run policy's): room for wheels, node_modules and their tar. */
const BUILD_MEMORY_MB = 2048;
const BUILD_TMPFS_MB = 768;
const BUILD_FSIZE_MB = 512;
const BUILD_CPUS = 1;
/** The most a step may hand back (a tar of wheels, site-packages or node_modules), read into the worker's memory. */
const MAX_OUTPUT_TAR_BYTES = 512 * 1024 * 1024;
/** The relay inside a fetch container listens here (its own loopback; the container has no other network). */
const RELAY_PORT = 3128;
const WORK = "/sandbox";

export type RequirementsImageRequest = {
  imagePrefix: string;
  runtime: string;
  /** Canonical, sorted requirement set from parseRequirements. */
  requirements: string[];
  buildTimeoutMs: number;
  pipIndexUrl: string;
  /** Hosts (host[:port]) the index sends pip to for files, besides the index's own (PyPI: files.pythonhosted.org). */
  pipFileHosts?: string[];
  npmRegistry: string;
  /** The image to build on (and to use as is without requirements); default: the runtime's own image. */
  baseImage?: string;
};

/** Who the fetch and install containers belong to: labelled like the sandbox being provisioned, reaped with it. */
export type RequirementsBuildContext = {
  sandboxId: string;
  workerId: string;
  instanceId: string;
  policy: HardeningPolicy;
  /** The install step's runtime: gVisor where registered. */
  containerRuntime: "runc" | "runsc";
  /** The fetch step's gVisor (a Docker runtime with `--host-uds=open`, to reach the proxy socket); null: runc. */
  fetchDockerRuntime?: string | null;
};

/** The image tag for a requirement set: (runtime, recipe version, base image recipe, normalised sorted set). */
export function requirementsImageTag(
  request: Pick<RequirementsImageRequest, "imagePrefix" | "runtime" | "requirements" | "pipIndexUrl" | "npmRegistry">,
  baseImage: string,
): string {
  const registry = getRuntime(request.runtime).requirements === "pip" ? request.pipIndexUrl : request.npmRegistry;
  const hash = createHash("sha256")
    .update(JSON.stringify([RECIPE_VERSION, request.runtime, baseImage, registry, ...request.requirements]))
    .digest("hex")
    .slice(0, 24);
  return `${request.imagePrefix}requirements:${request.runtime}-${hash}`;
}

/**
 * An image with the sandbox's packages installed, cached (see RequirementsCache) by (runtime, recipe, base
 * image, normalised set). No package manager runs on the host and no `docker build` RUN step runs at all:
 * 1. fetch (network through the registry proxy only, runs no package code): NetworkMode none, gVisor where Docker
 *    has a runtime allowed to reach the proxy's host socket (REQUIREMENTS_FETCH_DOCKER_RUNTIME), else runc;
 *    pip downloads wheels only / npm resolves a lockfile (checked here) and installs with scripts off;
 * 2. install (may run package code, no network): gVisor container, NetworkMode none: pip installs the wheels
 *    offline into a folder. npm needs no install step: node_modules from step 1 ran nothing.
 * 3. the image is FROM + COPY of the tar the last step handed back.
 */
export async function ensureRequirementsImage(
  engine: ContainerEngine,
  cache: RequirementsCache,
  request: RequirementsImageRequest,
  context: RequirementsBuildContext,
  cancelled?: AbortSignal,
): Promise<{ image: string; cached: boolean }> {
  const base = request.baseImage ?? `${request.imagePrefix}${request.runtime}`;
  if (!request.requirements.length) return { image: base, cached: true };
  if (getRuntime(request.runtime).requirements === "none") throw new RequirementsRejected(`requirements are not supported for ${request.runtime}`);
  const tag = requirementsImageTag(request, base);
  const { cached } = await cache.ensure(tag, (signal) => buildRequirementsImage(engine, base, tag, request, context, signal), cancelled);
  return { image: tag, cached };
}

/** The hosts the fetch step's proxy lets through for this runtime. */
export function registryAllowlist(request: RequirementsImageRequest): Set<string> {
  if (getRuntime(request.runtime).requirements === "pip") return registryHostPorts([request.pipIndexUrl, ...(request.pipFileHosts ?? [])]);
  return registryHostPorts([request.npmRegistry]);
}

class StepFailed extends Error {}

/** The containers of one build; every one is removed when the build ends, however it ends. */
class BuildSteps {
  private readonly containers: string[] = [];
  readonly abort = new AbortController();

  constructor(
    private readonly engine: ContainerEngine,
    private readonly context: RequirementsBuildContext,
  ) {}

  /** A fetch container (with the proxy socket) or an install container (no way out at all). */
  async start(image: string, step: "fetch" | "install", proxyDir?: string): Promise<string> {
    this.abort.signal.throwIfAborted();
    const fetchRuntime = this.context.fetchDockerRuntime;
    const runtime = step === "install" ? this.context.containerRuntime : fetchRuntime ? "runsc" : "runc";
    const policy: HardeningPolicy = {
      ...this.context.policy,
      tmpfsMb: BUILD_TMPFS_MB,
      fsizeMb: BUILD_FSIZE_MB,
      ...(step === "fetch" && fetchRuntime ? { runscDockerRuntime: fetchRuntime } : {}),
    };
    const spec = buildContainerSpec(
      {
        role: { sandbox: this.context.sandboxId },
        workerId: this.context.workerId,
        instanceId: this.context.instanceId,
        image,
        memoryMb: BUILD_MEMORY_MB,
        cpus: BUILD_CPUS,
        containerRuntime: runtime,
        registryProxy: proxyDir ? { hostDir: proxyDir, mountPath: PROXY_MOUNT } : undefined,
      },
      policy,
    );
    // The same label as cached images, valued "build": a leftover is easy to find (recovery reaps it by its sandbox label).
    spec.labels = { ...spec.labels, [REQUIREMENTS_CACHE_LABEL]: "build" };
    const id = await this.engine.startDetached(spec);
    this.containers.push(id);
    if (this.abort.signal.aborted) await this.engine.remove(id).catch(() => {});
    return id;
  }

  /** Runs one step; a non-zero exit is the installer's refusal, with its own output's tail. */
  async run(id: string, options: ExecOptions, input?: Buffer | string, maxBytes = 4 * 1024 * 1024): Promise<Buffer> {
    const result = await this.engine.execCollect(
      id,
      { user: this.context.policy.user, workingDir: WORK, ...options },
      input ?? "",
      maxBytes,
      this.abort.signal,
    );
    if (result.overLimit) throw new StepFailed(`the output of \`${options.cmd[0]}\` passed ${Math.round(maxBytes / 1024 / 1024)} MB`);
    if (result.exitCode !== 0)
      throw new StepFailed(stripAnsi(`${result.stderr}\n${result.stdout}`.trim()) || `${options.cmd[0]} exited with ${result.exitCode}`);
    return result.stdoutBytes ?? Buffer.from(result.stdout);
  }

  async writeFile(id: string, file: string, content: Buffer | string): Promise<void> {
    await this.run(id, { cmd: ["sh", "-c", 'cat > "$0"', file] }, content);
  }

  /** Starts the relay (127.0.0.1:RELAY_PORT -> the proxy socket) and waits until it listens. */
  async startRelay(id: string, installer: RequirementsInstaller): Promise<void> {
    const options = { installer, port: RELAY_PORT, socketPath: `${PROXY_MOUNT}/${PROXY_SOCKET_NAME}`, user: this.context.policy.user, workingDir: WORK };
    await startSocketRelay(this.engine, id, options, this.abort.signal).catch((error: unknown) => {
      throw error instanceof RelayEnded ? new StepFailed(`the registry ${error.message.replace(/^the /, "")}`) : error;
    });
  }

  /** Removes one step's container as soon as its output is out (its memory and tmpfs are freed). */
  async remove(id: string): Promise<void> {
    await this.engine.remove(id);
    this.containers.splice(this.containers.indexOf(id), 1);
  }

  async removeAll(): Promise<void> {
    await Promise.all(this.containers.map((id) => this.engine.remove(id).catch(() => {})));
  }
}

async function buildRequirementsImage(
  engine: ContainerEngine,
  base: string,
  tag: string,
  request: RequirementsImageRequest,
  context: RequirementsBuildContext,
  cancelled: AbortSignal,
): Promise<void> {
  const steps = new BuildSteps(engine, context);
  // Nobody waits any more (every sandbox that asked was deleted): stop the steps and remove their containers now.
  const onCancel = () => steps.abort.abort(new RequirementsRejected("the sandbox was deleted during its requirements install"));
  if (cancelled.aborted) onCancel();
  else cancelled.addEventListener("abort", onCancel, { once: true });
  const timeoutMessage = `the install took longer than ${request.buildTimeoutMs / 1000} s`;
  const timer = setTimeout(() => steps.abort.abort(new RequirementsRejected(timeoutMessage)), request.buildTimeoutMs);
  let proxy: RegistryProxy | undefined;
  try {
    proxy = await startRegistryProxy(registryAllowlist(request));
    const built =
      getRuntime(request.runtime).requirements === "pip"
        ? await pipSteps(steps, base, request, proxy.hostDir)
        : await npmSteps(steps, base, request, proxy.hostDir);
    await proxy.close();
    const labels = { [REQUIREMENTS_CACHE_LABEL]: request.runtime, "sandpit.runtime": request.runtime };
    // FROM + COPY only: the classic builder copies the tar's folder; nothing runs, no network.
    const dockerfile = `sandpit.Dockerfile.${randomBytes(8).toString("hex")}`;
    const contextTar = Buffer.concat([tarEntry(dockerfile, built.dockerfile), built.tar]);
    const build = engine.buildImage({ tag, contextTar, dockerfile, networkMode: "none", labels, signal: steps.abort.signal });
    await Promise.race([build, abortedPromise(steps.abort.signal)]);
  } catch (error) {
    const reason = steps.abort.signal.reason;
    if (reason instanceof RequirementsRejected) throw reason;
    if (error instanceof RequirementsRejected || error instanceof RequirementsUnavailable) throw error;
    if (error instanceof StepFailed) throw new RequirementsRejected(error.message);
    // Anything else failed in the engine: the platform's failure when the engine is unreachable.
    const message = (error as Error).message;
    const engineUp = await engine.ping().then(
      () => true,
      () => false,
    );
    if (!engineUp) throw new RequirementsUnavailable(`the container engine is unavailable: ${message.slice(0, 500)}`);
    throw new RequirementsUnavailable(`the requirements build failed: ${stripAnsi(message).slice(-500)}`);
  } finally {
    clearTimeout(timer);
    cancelled.removeEventListener("abort", onCancel);
    if (!steps.abort.signal.aborted) steps.abort.abort(new Error("build over"));
    await steps.removeAll();
    await proxy?.close().catch(() => {});
  }
}

function abortedPromise(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/** The host CA bundle, when there is one, for `--cert`/`--cafile` inside the fetch container. */
function hostCaBundle(): Buffer | null {
  return existsSync(HOST_CA_BUNDLE) ? readFileSync(HOST_CA_BUNDLE) : null;
}

const CLEAN_ENV = (extra: string[] = []) => ["HOME=/sandbox", "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", ...extra];

async function pipSteps(steps: BuildSteps, base: string, request: RequirementsImageRequest, proxyDir: string) {
  const requirementsFile = request.requirements.join("\n") + "\n";
  const pip = ["python3", "-m", "pip"];
  const quiet = ["--isolated", "--no-input", "--disable-pip-version-check", "--no-cache-dir", "-q"];
  // Step 1, fetch: wheels only (--only-binary=:all:), dependencies resolved from wheel metadata; no code runs.
  const fetcher = await steps.start(base, "fetch", proxyDir);
  await steps.writeFile(fetcher, `${WORK}/requirements.txt`, requirementsFile);
  const ca = hostCaBundle();
  if (ca) await steps.writeFile(fetcher, `${WORK}/host-ca.crt`, ca);
  await steps.startRelay(fetcher, "pip");
  await steps.run(fetcher, {
    cmd: [
      ...pip,
      "download",
      ...quiet,
      "--retries",
      "1",
      "--only-binary=:all:",
      "--index-url",
      request.pipIndexUrl,
      "--proxy",
      `http://127.0.0.1:${RELAY_PORT}`,
      ...(ca ? ["--cert", `${WORK}/host-ca.crt`] : []),
      "-d",
      `${WORK}/wheels`,
      "-r",
      `${WORK}/requirements.txt`,
    ],
    env: CLEAN_ENV(),
  });
  const wheels = await steps.run(
    fetcher,
    { cmd: ["tar", "-c", "-C", WORK, "wheels", "requirements.txt"], binaryStdout: true },
    undefined,
    MAX_OUTPUT_TAR_BYTES,
  );
  await steps.remove(fetcher);
  // Step 2, install: offline, under gVisor where registered, into a folder the image then copies.
  const installer = await steps.start(base, "install");
  await steps.run(installer, { cmd: ["tar", "-x", "-C", WORK] }, wheels);
  await steps.run(installer, {
    cmd: [
      ...pip,
      "install",
      ...quiet,
      "--break-system-packages",
      "--no-compile",
      "--no-index",
      "--only-binary=:all:",
      "--find-links",
      `${WORK}/wheels`,
      "--target",
      `${WORK}/site`,
      "-r",
      `${WORK}/requirements.txt`,
    ],
    env: CLEAN_ENV(),
  });
  const site = await steps.run(installer, { cmd: ["tar", "-c", "-C", WORK, "site"], binaryStdout: true }, undefined, MAX_OUTPUT_TAR_BYTES);
  return { tar: site, dockerfile: `FROM ${base}\nCOPY site ${PYTHON_SITE}\nENV PYTHONPATH=${PYTHON_SITE}\n` };
}

/** Where a pip requirements image keeps its packages (on PYTHONPATH). */
const PYTHON_SITE = "/opt/sandpit/site";

/** npm flags that keep every package a registry tarball and run nothing of any package. */
function npmSafetyArgs(registry: string, hasCa: boolean): string[] {
  return [
    "--ignore-scripts",
    "--allow-git=none",
    "--allow-remote=none",
    "--allow-file=none",
    "--allow-directory=none",
    `--registry=${registry}`,
    `--proxy=http://127.0.0.1:${RELAY_PORT}`,
    `--https-proxy=http://127.0.0.1:${RELAY_PORT}`,
    "--noproxy=",
    `--userconfig=${WORK}/empty.npmrc`,
    `--globalconfig=${WORK}/empty-global.npmrc`,
    ...(hasCa ? [`--cafile=${WORK}/host-ca.crt`] : []),
    `--cache=${WORK}/npm-cache`,
    "--no-audit",
    "--no-fund",
    "--no-update-notifier",
    "--loglevel=error",
  ];
}

async function npmSteps(steps: BuildSteps, base: string, request: RequirementsImageRequest, proxyDir: string) {
  const fetcher = await steps.start(base, "fetch", proxyDir);
  // Empty user and global configs: no operator or attacker .npmrc (git=, registry=, …) applies.
  await steps.writeFile(fetcher, `${WORK}/empty.npmrc`, "");
  await steps.writeFile(fetcher, `${WORK}/empty-global.npmrc`, "");
  await steps.writeFile(fetcher, `${WORK}/package.json`, JSON.stringify({ name: "sandbox-requirements", private: true }));
  const ca = hostCaBundle();
  if (ca) await steps.writeFile(fetcher, `${WORK}/host-ca.crt`, ca);
  await steps.startRelay(fetcher, "npm");
  // A bare environment: the worker's variables (and any npm_config_*) never reach npm; git is /bin/false.
  const env = CLEAN_ENV(["npm_config_git=/bin/false"]);
  const npm = (args: string[]) => steps.run(fetcher, { cmd: ["npm", ...args, ...npmSafetyArgs(request.npmRegistry, Boolean(ca))], env });
  // Resolve first, fetch nothing: every locked package must be a registry tarball with an integrity hash.
  await npm(["install", "--package-lock-only", "--save-exact", ...request.requirements]);
  const lockfile = await steps.run(fetcher, { cmd: ["cat", `${WORK}/package-lock.json`] }, undefined, MAX_LOCKFILE_BYTES);
  checkLockfileText(lockfile.toString("utf8"), request.npmRegistry);
  // Scripts off: nothing of any package runs, so node_modules needs no separate install step.
  await npm(["ci"]);
  const modules = await steps.run(fetcher, { cmd: ["tar", "-c", "-C", WORK, "node_modules"], binaryStdout: true }, undefined, MAX_OUTPUT_TAR_BYTES);
  return { tar: modules, dockerfile: `FROM ${base}\nCOPY node_modules /node_modules\n` };
}

/** One ustar entry (header + content + padding) for a small regular file. */
function tarEntry(name: string, content: string): Buffer {
  const data = Buffer.from(content);
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, "utf8");
  header.write("0000644\0", 100);
  header.write("0000000\0", 108);
  header.write("0000000\0", 116);
  header.write(data.length.toString(8).padStart(11, "0") + "\0", 124);
  header.write(
    Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, "0") + "\0",
    136,
  );
  header.write("        ", 148);
  header.write("0", 156);
  header.write("ustar\0" + "00", 257);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  const padding = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([header, data, padding]);
}

/** Refuses a lockfile with any package not resolved from `registry` or without an integrity hash. */
export function checkLockfile(lockfilePath: string, registry: string): void {
  checkLockfileText(readFileSync(lockfilePath, "utf8"), registry);
}

/** The same check on the lockfile's text (read out of the fetch container, size-capped). */
export function checkLockfileText(text: string, registry: string): void {
  if (text.length > MAX_LOCKFILE_BYTES) throw new RequirementsRejected("the resolved dependency tree is too large");
  const lock = JSON.parse(text) as { packages?: Record<string, { resolved?: string; integrity?: string; link?: boolean }> };
  for (const [location, entry] of Object.entries(lock.packages ?? {})) {
    if (location === "") continue;
    const name = location.replace(/^.*node_modules\//, "");
    if (entry.link || !entry.resolved || !entry.resolved.startsWith(registry) || !entry.integrity) {
      throw new RequirementsRejected(
        `dependency ${JSON.stringify(name.slice(0, 100))} does not come from the registry (${JSON.stringify(String(entry.resolved ?? "no resolved URL").slice(0, 100))}); only registry packages are installed`,
      );
    }
  }
}

function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}
