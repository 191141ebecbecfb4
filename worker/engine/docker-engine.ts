import Dockerode from "dockerode";
import type { Duplex } from "node:stream";
import tarFs from "tar-fs";
import type { ContainerSpec, TmpfsMount } from "../container/container-spec";
import type { RegisteredRuntime } from "../container/describe-gvisor";
import { FrameParser } from "../container/frame-parser";
import { LABELS } from "../container/labels";
import type { ContainerEngine, ContainerExit, ExecOptions, ExecResult, ImageBuild, ManagedContainer, StartedContainer } from "./container-engine";

const isNotFound = (error: unknown) => (error as { statusCode?: number })?.statusCode === 404;
/** After the attach stream closes, how long the wait may take to answer before we ask ourselves. */
const EXIT_GRACE_MS = 1000;
const INSPECT_INTERVAL_MS = 500;
const ENGINE_LOST_MS = 5000;
const SIGKILL_EXIT = 137;
/** How long a SIGKILL exit waits for a late "oom" event (see oomEvents). */
const OOM_EVENT_GRACE_MS = 150;

const isAlreadyStopped = (error: unknown) => [304, 404, 409].includes((error as { statusCode?: number })?.statusCode ?? 0);

const tmpfsOptions = (mount: TmpfsMount) =>
  [
    "rw",
    ...(mount.nosuid ? ["nosuid"] : []),
    ...(mount.nodev ? ["nodev"] : []),
    mount.exec ? "exec" : "noexec",
    `size=${mount.sizeMb}m`,
    `nr_inodes=${mount.inodes}`,
    ...(mount.owner ? [`uid=${mount.owner.uid}`, `gid=${mount.owner.gid}`] : []),
    `mode=${mount.mode}`,
  ].join(",");

/**
 * A ContainerSpec as Docker's create request: a translation, field by field, that decides nothing. Docker's
 * default seccomp profile applies because nothing here turns it off; logs are not kept (output is streamed
 * over attach and kept by Sandpit); the container stays after exit (its OOMKilled is read before removal).
 */
export function toDockerCreateOptions(spec: ContainerSpec): Dockerode.ContainerCreateOptions {
  return {
    Image: spec.image,
    Cmd: spec.cmd,
    User: spec.user,
    WorkingDir: spec.workDir,
    Env: spec.env,
    AttachStdin: spec.stdin,
    AttachStdout: spec.stdin,
    AttachStderr: spec.stdin,
    OpenStdin: spec.stdin,
    StdinOnce: spec.stdin,
    Tty: false,
    NetworkDisabled: spec.network === "none",
    Labels: spec.labels,
    HostConfig: {
      Runtime: spec.runtime,
      NetworkMode: spec.network,
      ReadonlyRootfs: spec.readOnlyRoot,
      Tmpfs: Object.fromEntries(spec.tmpfs.map((mount) => [mount.path, tmpfsOptions(mount)])),
      CapDrop: spec.capDrop,
      SecurityOpt: spec.noNewPrivileges ? ["no-new-privileges"] : [],
      PidsLimit: spec.limits.pids,
      Memory: spec.limits.memoryBytes,
      // Docker's MemorySwap is memory plus swap.
      MemorySwap: spec.limits.memoryBytes + spec.limits.swapBytes,
      NanoCpus: Math.round(spec.limits.cpus * 1e9),
      Mounts: spec.mounts.map((mount) => ({ Type: "bind" as const, Source: mount.source, Target: mount.target, ReadOnly: mount.readOnly })),
      ...(spec.devices?.length
        ? {
            DeviceRequests: spec.devices.map((device) => ({
              Driver: device.driver,
              DeviceIDs: device.ids,
              ...(device.capabilities ? { Capabilities: device.capabilities } : {}),
            })),
          }
        : {}),
      Ulimits: [
        { Name: "nofile", Soft: spec.limits.nofile, Hard: spec.limits.nofile },
        { Name: "fsize", Soft: spec.limits.fsizeBytes, Hard: spec.limits.fsizeBytes },
      ],
      OomScoreAdj: spec.oomScoreAdj,
      IpcMode: spec.ipc,
      ShmSize: spec.limits.shmBytes,
      LogConfig: { Type: "none", Config: {} },
      AutoRemove: false,
      Privileged: false,
    },
  };
}

/** The Docker Engine API, through dockerode. The only module that talks to Docker. */
export class DockerEngine implements ContainerEngine {
  private readonly docker: Dockerode;
  /** Containers Sandpit itself killed or removed, so their "kill" events are not mistaken for outside ones. */
  private readonly ourKills = new Set<string>();
  private readonly outsideKills = new Set<string>();
  /**
   * Containers Docker reported an "oom" event for. dockerd sets State.OOMKilled only when the OOM reaches it
   * before the exit; under gVisor it can come after (then only the event says so).
   */
  private readonly oomEvents = new Set<string>();

  constructor(
    socketPath: string,
    private readonly instanceId: string,
  ) {
    this.docker = new Dockerode({ socketPath });
  }

  async ping(): Promise<void> {
    await this.docker.ping();
  }

  async registeredRuntimes(): Promise<string[]> {
    const info = (await this.docker.info()) as { Runtimes?: Record<string, unknown> };
    return Object.keys(info.Runtimes ?? {});
  }

  /** A runtime's binary path and arguments as registered in daemon.json (undefined when not registered). */
  async registeredRuntime(name: string): Promise<RegisteredRuntime | undefined> {
    const info = (await this.docker.info()) as { Runtimes?: Record<string, RegisteredRuntime> };
    return info.Runtimes?.[name];
  }

  async start(spec: ContainerSpec): Promise<StartedContainer> {
    const container = await this.docker.createContainer(toDockerCreateOptions(spec));
    try {
      // Attach before start so not a byte of early output is lost.
      const stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as Duplex;
      const exited = this.watchExit(container, stream);
      exited.catch(() => {});
      await container.start();
      return { id: container.id, stdin: stream, output: stream, exited };
    } catch (error) {
      await this.remove(container.id).catch(() => {});
      throw error;
    }
  }

  /**
   * Resolves with the container's exit code. "next-exit", as `docker run` does: the default "not-running"
   * can answer at once, with 0, for a container still in "created" when the wait is registered before start.
   * A wait whose daemon dies after sending its headers never settles, so once the attach stream closes
   * the container is inspected until it is seen stopped; an engine that was unreachable meanwhile (or for
   * longer than ENGINE_LOST_MS) rejects: the run ends with a platform error, not the exit the engine forced.
   */
  private watchExit(container: Dockerode.Container, stream: Duplex): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let settled = false;
      const settle = (finish: () => void) => {
        if (settled) return;
        settled = true;
        finish();
      };
      container.wait({ condition: "next-exit" }).then(
        (result: { StatusCode: number }) => settle(() => resolve(result.StatusCode)),
        () => {}, // the inspect loop below decides
      );
      const inspectUntilStopped = async () => {
        let unreachableSince: number | undefined;
        while (!settled) {
          try {
            const info = await container.inspect();
            // An exit seen after the engine was gone is the engine's doing (it kills what it finds on restart).
            if (unreachableSince !== undefined && !info.State.Running) {
              return settle(() => reject(new Error("lost the connection to the Docker engine while the run was in flight")));
            }
            if (!info.State.Running) return settle(() => resolve(info.State.ExitCode ?? -1));
          } catch (error) {
            if (isNotFound(error)) return settle(() => reject(new Error("lost the Docker container: it was removed")));
            unreachableSince ??= Date.now();
            if (Date.now() - unreachableSince > ENGINE_LOST_MS) {
              return settle(() => reject(new Error(`lost the connection to the Docker engine: ${(error as Error).message}`)));
            }
          }
          await new Promise((wake) => setTimeout(wake, INSPECT_INTERVAL_MS));
        }
      };
      let watching = false;
      const onStreamClosed = () => {
        if (watching) return;
        watching = true;
        setTimeout(() => void inspectUntilStopped(), EXIT_GRACE_MS);
      };
      stream.once("close", onStreamClosed);
      stream.once("error", onStreamClosed);
    });
  }

  watch(onLost: () => void): void {
    const follow = async () => {
      for (;;) {
        try {
          const stream = (await this.docker.getEvents({
            filters: { type: ["container"], event: ["kill", "oom"], label: [`${LABELS.instance}=${this.instanceId}`] },
          })) as NodeJS.ReadableStream;
          let buffered = "";
          stream.on("data", (chunk: Buffer) => {
            buffered += chunk.toString("utf8");
            let newline: number;
            while ((newline = buffered.indexOf("\n")) >= 0) {
              const line = buffered.slice(0, newline);
              buffered = buffered.slice(newline + 1);
              try {
                const event = JSON.parse(line) as { id?: string; Action?: string };
                if (event.Action === "kill" && event.id && !this.ourKills.has(event.id)) this.outsideKills.add(event.id);
                if (event.Action === "oom" && event.id) this.oomEvents.add(event.id);
              } catch {
                // a partial line: wait for the rest
              }
            }
          });
          await new Promise<void>((resolve) => {
            stream.once("end", resolve);
            stream.once("close", resolve);
            stream.once("error", () => resolve());
          });
        } catch {
          // not reachable now
        }
        onLost();
        // Back when it answers again.
        for (;;) {
          await new Promise((resolve) => setTimeout(resolve, 500));
          try {
            await this.docker.ping();
            break;
          } catch {
            // still away
          }
        }
      }
    };
    void follow();
  }

  killedFromOutside(id: string): boolean {
    return this.outsideKills.has(id);
  }

  async kill(id: string): Promise<void> {
    this.ourKills.add(id);
    try {
      await this.docker.getContainer(id).kill({ signal: "SIGKILL" });
    } catch (error) {
      if (!isAlreadyStopped(error)) throw error;
    }
  }

  async inspectExit(id: string): Promise<ContainerExit> {
    const info = await this.docker.getContainer(id).inspect();
    const exitCode = info.State.ExitCode ?? null;
    const oomKilled = Boolean(info.State.OOMKilled);
    if (!oomKilled && !info.State.Running && exitCode === SIGKILL_EXIT && !this.oomEvents.has(id)) {
      // A SIGKILL exit may still be an OOM kill whose event has not arrived yet (seen under gVisor).
      await new Promise((resolve) => setTimeout(resolve, OOM_EVENT_GRACE_MS));
    }
    // Consumed once read: a long-lived sandbox's next process is not blamed for an earlier OOM.
    const oomEvent = this.oomEvents.delete(id);
    return { exitCode, oomKilled: oomKilled || oomEvent };
  }

  async memoryLimitReached(id: string): Promise<boolean> {
    // One sample, no waiting for a second one (API 1.41). cgroup v1 counts hits of the limit in failcnt.
    const stats = (await this.docker.getContainer(id).stats({ stream: false, "one-shot": true } as { stream: false })) as {
      memory_stats?: { failcnt?: number; max_usage?: number; limit?: number };
    };
    const memory = stats.memory_stats ?? {};
    return (memory.failcnt ?? 0) > 0 || (memory.limit !== undefined && (memory.max_usage ?? 0) >= memory.limit);
  }

  async remove(id: string): Promise<void> {
    this.ourKills.add(id);
    // Its events are over once it is gone; forget it a little later (a late kill event must still be ours).
    setTimeout(() => {
      this.ourKills.delete(id);
      this.outsideKills.delete(id);
      this.oomEvents.delete(id);
    }, 60_000).unref();
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (error) {
      if (!isNotFound(error) && (error as { statusCode?: number }).statusCode !== 409) throw error;
    }
  }

  async listManaged(): Promise<ManagedContainer[]> {
    const containers = await this.docker.listContainers({ all: true, filters: { label: [`${LABELS.managed}=1`, `${LABELS.instance}=${this.instanceId}`] } });
    return containers.map((container) => ({
      id: container.Id,
      runId: container.Labels[LABELS.run],
      sandboxId: container.Labels[LABELS.sandbox],
      workerId: container.Labels[LABELS.worker],
      pooled: container.Labels[LABELS.pool] === "1",
      running: container.State === "running",
    }));
  }

  async listRunningIds(): Promise<string[]> {
    return (await this.docker.listContainers()).map((container) => container.Id);
  }

  async startDetached(spec: ContainerSpec): Promise<string> {
    const container = await this.docker.createContainer(toDockerCreateOptions(spec));
    try {
      await container.start();
      return container.id;
    } catch (error) {
      await this.remove(container.id).catch(() => {});
      throw error;
    }
  }

  async exec(containerId: string, options: ExecOptions): Promise<StartedContainer> {
    const exec = await this.docker.getContainer(containerId).exec({
      Cmd: options.cmd,
      Env: options.env,
      User: options.user,
      WorkingDir: options.workingDir,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    const stream = (await exec.start({ hijack: true, stdin: true, Tty: false })) as Duplex;
    const exited = new Promise<number>((resolve, reject) => {
      const settle = () => {
        exec.inspect().then((info: { ExitCode: number | null }) => resolve(info.ExitCode ?? -1), reject);
      };
      stream.once("end", settle);
      stream.once("close", settle);
      stream.once("error", settle);
    });
    exited.catch(() => {});
    return { id: exec.id, stdin: stream, output: stream, exited };
  }

  async execCollect(containerId: string, options: ExecOptions, input: string | Buffer = "", maxBytes = 1024 * 1024, signal?: AbortSignal): Promise<ExecResult> {
    signal?.throwIfAborted();
    const started = await this.exec(containerId, options);
    const parts = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    let size = 0;
    let overLimit = false;
    const parser = new FrameParser((stream, payload) => {
      if (overLimit) return;
      size += payload.length;
      if (size <= maxBytes) parts[stream].push(Buffer.from(payload));
      else {
        // Stop reading: the process writing to a closed pipe ends (SIGPIPE) instead of streaming on.
        overLimit = true;
        started.output.destroy();
      }
    });
    started.output.on("data", (chunk: Buffer) => parser.push(chunk));
    started.stdin.on("error", () => {});
    started.output.on("error", () => {});
    started.stdin.end(input);
    // The process may be one the sandbox can make wait for ever (a FIFO): the caller's signal ends the wait.
    const aborted = new Promise<never>((_resolve, reject) => {
      if (!signal) return;
      const onAbort = () => {
        started.output.destroy();
        reject(signal.reason instanceof Error ? signal.reason : new Error("exec aborted"));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      void started.exited.finally(() => signal.removeEventListener("abort", onAbort)).catch(() => {});
    });
    aborted.catch(() => {});
    const exitCode = await Promise.race([started.exited, aborted]);
    const stdoutBytes = Buffer.concat(parts.stdout);
    return {
      exitCode,
      stdout: options.binaryStdout ? "" : stdoutBytes.toString("utf8"),
      stderr: Buffer.concat(parts.stderr).toString("utf8"),
      stdoutBytes,
      ...(overLimit ? { overLimit } : {}),
    };
  }

  async imageExists(tag: string): Promise<boolean> {
    try {
      await this.docker.getImage(tag).inspect();
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async listLabelledImages(label: string): Promise<{ tag: string; sizeBytes: number; createdMs: number }[]> {
    const images = await this.docker.listImages({ filters: { label: [label] } });
    return images.flatMap((image) =>
      (image.RepoTags ?? []).filter((tag) => tag !== "<none>:<none>").map((tag) => ({ tag, sizeBytes: image.Size, createdMs: image.Created * 1000 })),
    );
  }

  async removeImage(tag: string): Promise<void> {
    try {
      // noprune false: the image's own layers go with it, so no dangling layers stay behind.
      await this.docker.getImage(tag).remove({ force: false });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  async buildImage(build: ImageBuild): Promise<string> {
    const context = build.contextTar ?? tarFs.pack(build.contextDir ?? ".");
    const stream = await this.docker.buildImage(context as NodeJS.ReadableStream, {
      t: build.tag,
      ...(build.dockerfile ? { dockerfile: build.dockerfile } : {}),
      labels: build.labels,
      networkmode: build.networkMode,
      rm: true,
      forcerm: true,
      abortSignal: build.signal,
    });
    const log: string[] = [];
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (error: Error | null) => (error ? reject(error) : resolve()),
        (event: { stream?: string; error?: string }) => {
          if (event.stream) log.push(event.stream);
          if (event.error) log.push(event.error);
        },
      );
    }).catch((error: Error) => {
      throw new Error(log.join("").slice(-4000) || error.message);
    });
    const text = log.join("");
    if (!(await this.imageExists(build.tag))) throw new Error(text.slice(-4000) || "image build failed");
    return text;
  }
}
