import { PassThrough } from "node:stream";
import type { ContainerSpec } from "@/worker/container/container-spec";
import { encodeFrame } from "@/worker/container/frame-parser";
import { LABELS } from "@/worker/container/labels";
import type { ContainerEngine, ContainerExit, ExecOptions, ExecResult, ImageBuild, ManagedContainer, StartedContainer } from "@/worker/engine/container-engine";

/**
 * An in-memory ContainerEngine for unit tests of the layers above it (warm pool, executeRun, sandbox
 * supervisor): no Docker, no root, milliseconds per test. It lives under tests/ because nothing in the
 * worker may ever pick it by mistake; it follows the ContainerEngine contract as DockerEngine does:
 * a started container's output is framed (encodeFrame), `exited` resolves with the exit code or rejects
 * when the engine is lost, SIGKILL is exit 137, an OOM kill is exit 137 with `oomKilled`.
 *
 * What a container does is scripted: `onStart` (and `onExec` for exec'd processes) get a FakeProcess to
 * read stdin from, write output to, and end as the test says. By default a process does nothing until
 * killed. Every engine call is logged in `events` ("create c0", "created c0", "kill c0", "remove c0").
 */
export class FakeEngine implements ContainerEngine {
  readonly containers = new Map<string, FakeContainer>();
  events: string[] = [];
  /** Scripts each started single-use container (its warm agent, in effect). */
  onStart: (process: FakeProcess, container: FakeContainer) => void = () => {};
  /** Scripts each exec'd process; by default it exits 0 after its stdin ends, with no output. */
  onExec: (process: FakeProcess, containerId: string, options: ExecOptions) => void = (process) => {
    void process.input().then(() => process.exit(0));
  };
  /** Starts reject with this while set (the engine refusing to create). */
  startError: Error | undefined;
  readonly images = new Set<string>(["sandpit/base", "sandpit/python", "sandpit/node", "sandpit/deno", "sandpit/go", "sandpit/bash"]);
  runtimes = ["runc", "runsc"];

  private readonly imageLabels = new Map<string, { labels: Record<string, string>; createdMs: number }>();
  private next = 0;
  private held: (() => void)[] | undefined;
  private lost = false;
  private readonly lostWatchers: (() => void)[] = [];
  private readonly outsideKills = new Set<string>();

  /** Slow starts: every start from now on waits in "creating" until releaseStarts (or resumeStarts). */
  holdStarts(): void {
    this.held ??= [];
  }

  /** Lets the starts waiting so far finish; later ones still wait. */
  releaseStarts(): void {
    for (const release of this.held?.splice(0) ?? []) release();
  }

  /** Starts no longer wait. */
  resumeStarts(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const release of held) release();
  }

  /** Starts waiting for releaseStarts. */
  heldStarts(): number {
    return this.held?.length ?? 0;
  }

  /**
   * The engine goes away, as a crashed daemon does: watchers hear it, every running container's output
   * closes and its exit wait rejects (the exit a dying engine forces is not the program's), calls fail.
   */
  loseConnection(): void {
    this.lost = true;
    for (const container of this.containers.values()) {
      for (const process of [container.main, ...container.execs]) process?.lose();
      container.running = false;
    }
    for (const onLost of this.lostWatchers) onLost();
  }

  restoreConnection(): void {
    this.lost = false;
  }

  /** Kills a container as an operator or a shutting-down engine would: Sandpit did not ask for it. */
  killFromOutside(id: string): void {
    this.outsideKills.add(id);
    this.containerOf(id).main?.exit(137);
  }

  /** Containers started and not removed. */
  live(): FakeContainer[] {
    return [...this.containers.values()].filter((container) => !container.removed);
  }

  // --- ContainerEngine ---------------------------------------------------------------

  async start(spec: ContainerSpec): Promise<StartedContainer> {
    const container = await this.create(spec);
    const process = new FakeProcess(container.id, container);
    container.main = process;
    this.onStart(process, container);
    return process.started;
  }

  async startDetached(spec: ContainerSpec): Promise<string> {
    const container = await this.create(spec);
    container.detached = true;
    return container.id;
  }

  async exec(containerId: string, options: ExecOptions): Promise<StartedContainer> {
    this.reachable();
    const container = this.containerOf(containerId);
    if (!container.running) throw Object.assign(new Error(`container ${containerId} is not running`), { statusCode: 409 });
    const process = new FakeProcess(`${containerId}-exec${container.execs.length}`, container);
    container.execs.push(process);
    container.execOptions.push(options);
    this.onExec(process, containerId, options);
    return process.started;
  }

  async execCollect(containerId: string, options: ExecOptions, input: string | Buffer = "", maxBytes = 1024 * 1024, signal?: AbortSignal): Promise<ExecResult> {
    signal?.throwIfAborted();
    const started = await this.exec(containerId, options);
    const parts = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    let size = 0;
    let overLimit = false;
    const process = this.containerOf(containerId).execs.at(-1)!;
    process.onWrite = (stream, payload) => {
      size += payload.length;
      if (size <= maxBytes) parts[stream].push(payload);
      else overLimit = true;
    };
    started.stdin.end(input);
    const aborted = new Promise<never>((_resolve, reject) => {
      signal?.addEventListener("abort", () => reject(signal.reason instanceof Error ? signal.reason : new Error("exec aborted")), { once: true });
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

  async kill(id: string): Promise<void> {
    this.reachable();
    this.events.push(`kill ${id}`);
    const container = this.containers.get(id);
    if (!container?.running || container.unkillable) return;
    for (const process of [...container.execs, container.main]) process?.exit(137);
    container.running = false;
  }

  async inspectExit(id: string): Promise<ContainerExit> {
    this.reachable();
    const container = this.containerOf(id);
    const exit = { exitCode: container.exitCode ?? null, oomKilled: container.oomKilled };
    // As DockerEngine's oom events: read once, so a sandbox's next process is not blamed.
    if (container.detached) container.oomKilled = false;
    return exit;
  }

  async memoryLimitReached(id: string): Promise<boolean> {
    this.reachable();
    return this.containerOf(id).memoryLimitHit;
  }

  async remove(id: string): Promise<void> {
    this.reachable();
    this.events.push(`remove ${id}`);
    const container = this.containers.get(id);
    if (!container || container.removed) return;
    await this.kill(id);
    container.removed = true;
  }

  async listManaged(): Promise<ManagedContainer[]> {
    this.reachable();
    return this.live().map((container) => ({
      id: container.id,
      runId: container.spec.labels[LABELS.run],
      sandboxId: container.spec.labels[LABELS.sandbox],
      workerId: container.spec.labels[LABELS.worker],
      pooled: container.spec.labels[LABELS.pool] === "1",
      running: container.running,
    }));
  }

  async listRunningIds(): Promise<string[]> {
    this.reachable();
    return this.live()
      .filter((container) => container.running)
      .map((container) => container.id);
  }

  async ping(): Promise<void> {
    this.reachable();
  }

  watch(onLost: () => void): void {
    this.lostWatchers.push(onLost);
  }

  killedFromOutside(id: string): boolean {
    return this.outsideKills.has(id);
  }

  async registeredRuntimes(): Promise<string[]> {
    this.reachable();
    return this.runtimes;
  }

  async imageExists(tag: string): Promise<boolean> {
    this.reachable();
    return this.images.has(tag);
  }

  async buildImage(build: ImageBuild): Promise<string> {
    this.reachable();
    this.images.add(build.tag);
    this.imageLabels.set(build.tag, { labels: build.labels, createdMs: Date.now() });
    return `built ${build.tag}`;
  }

  /** Built images carrying `label`, as Docker lists them (size 1 MiB each). */
  async listLabelledImages(label: string): Promise<{ tag: string; sizeBytes: number; createdMs: number }[]> {
    this.reachable();
    return [...this.imageLabels.entries()]
      .filter(([tag, image]) => this.images.has(tag) && label in image.labels)
      .map(([tag, image]) => ({ tag, sizeBytes: 1024 * 1024, createdMs: image.createdMs }));
  }

  async removeImage(tag: string): Promise<void> {
    this.images.delete(tag);
    this.imageLabels.delete(tag);
  }

  // --- internals -------------------------------------------------------------------

  private async create(spec: ContainerSpec): Promise<FakeContainer> {
    this.reachable();
    const id = `c${this.next++}`;
    this.events.push(`create ${id}`);
    if (this.held) await new Promise<void>((resolve) => this.held!.push(resolve));
    this.reachable();
    if (this.startError) throw this.startError;
    if (!this.images.has(spec.image)) throw Object.assign(new Error(`No such image: ${spec.image}`), { statusCode: 404 });
    const container = new FakeContainer(id, spec);
    this.containers.set(id, container);
    this.events.push(`created ${id}`);
    return container;
  }

  private containerOf(id: string): FakeContainer {
    const container = this.containers.get(id);
    if (!container || container.removed) throw Object.assign(new Error(`No such container: ${id}`), { statusCode: 404 });
    return container;
  }

  private reachable(): void {
    if (this.lost) throw new Error("connect ENOENT /var/run/docker.sock (fake engine lost)");
  }
}

export class FakeContainer {
  running = true;
  removed = false;
  /** Started with startDetached (a sandbox): its processes are exec'd. */
  detached = false;
  exitCode: number | undefined;
  oomKilled = false;
  /** Kills are accepted and do nothing (a process stuck in the kernel, an engine that does not answer). */
  unkillable = false;
  /** The container's memory counters say it hit its limit (a child may have been OOM-killed). */
  memoryLimitHit = false;
  main: FakeProcess | undefined;
  readonly execs: FakeProcess[] = [];
  readonly execOptions: ExecOptions[] = [];

  constructor(
    readonly id: string,
    readonly spec: ContainerSpec,
  ) {}
}

/** One process in a fake container: the test reads what it was sent and decides what it writes and how it ends. */
export class FakeProcess {
  readonly started: StartedContainer;
  /** Every output write, besides the framed stream (execCollect reads it this way). */
  onWrite: ((stream: "stdout" | "stderr", payload: Buffer) => void) | undefined;
  private readonly stdin = new PassThrough();
  private readonly output = new PassThrough();
  private readonly received: Buffer[] = [];
  private readonly stdinEnded: Promise<Buffer>;
  private settle!: { resolve: (code: number) => void; reject: (error: Error) => void };
  private ended = false;

  constructor(
    id: string,
    private readonly container: FakeContainer,
  ) {
    this.stdin.on("data", (chunk: Buffer) => this.received.push(chunk));
    this.stdinEnded = new Promise((resolve) => this.stdin.once("end", () => resolve(Buffer.concat(this.received))));
    const exited = new Promise<number>((resolve, reject) => (this.settle = { resolve, reject }));
    exited.catch(() => {});
    this.started = { id, stdin: this.stdin, output: this.output, exited };
  }

  /** Everything written to stdin, once its writer has ended it. */
  input(): Promise<Buffer> {
    return this.stdinEnded;
  }

  write(stream: "stdout" | "stderr", data: string | Buffer): void {
    if (this.ended) return;
    const payload = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    this.onWrite?.(stream, payload);
    this.output.write(encodeFrame(stream, payload));
  }

  /** The process ends: its output closes and `exited` resolves (the container stops with it if it is the main one). */
  exit(code: number, options: { oomKilled?: boolean } = {}): void {
    if (this.ended) return;
    this.ended = true;
    if (this.container.main === this) {
      this.container.running = false;
      this.container.exitCode = code;
    }
    if (options.oomKilled) this.container.oomKilled = true;
    this.output.end();
    this.settle.resolve(code);
  }

  /** The kernel OOM-kills the process: SIGKILL's exit, with the engine's OOM flag. */
  oomKill(): void {
    this.container.memoryLimitHit = true;
    this.exit(137, { oomKilled: true });
  }

  /** Called by the engine when it is lost. */
  lose(): void {
    if (this.ended) return;
    this.ended = true;
    this.output.destroy();
    this.settle.reject(new Error("lost the connection to the container engine while the process was in flight"));
  }

  get exited(): boolean {
    return this.ended;
  }
}

/**
 * A fake warm agent (images/*\/warm) for single-use containers: reads "<length> <token>\n<code><stdin>",
 * hands the code and stdin to `program`, and writes the in-band completion marker when the program says
 * it has exited (worker/pool/completion-marker.ts).
 */
export function fakeAgent(program: (run: AgentRun) => void): (process: FakeProcess) => void {
  return (process) => {
    void process.input().then((input) => {
      const newline = input.indexOf(0x0a);
      const [length, token] = input.subarray(0, newline).toString("latin1").split(" ");
      const code = input.subarray(newline + 1, newline + 1 + Number(length)).toString("utf8");
      const stdin = input.subarray(newline + 1 + Number(length)).toString("utf8");
      program({
        code,
        stdin,
        process,
        exit: (exitCode) => {
          const marker = `\x1e${token}:${exitCode}\x1e`;
          process.write("stdout", marker);
          process.write("stderr", marker);
        },
      });
    });
  };
}

export type AgentRun = {
  code: string;
  stdin: string;
  process: FakeProcess;
  /** The program exited with `exitCode`: the agent writes its marker and stays up (the container keeps running). */
  exit: (exitCode: number) => void;
};
