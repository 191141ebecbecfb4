import { readFile } from "node:fs/promises";
import { Client, getDefaultClient } from "./client.js";
import { expandHome, filesNamedByCommand, isCommandLine } from "./code-source.js";
import { SandpitError, SandpitTimeoutError, ValidationError } from "./errors.js";
import type { FileUploaded, SandboxRunResult, SandboxRunStarted, Sandbox as SandboxView } from "./generated/api.js";
import { uploadModel, type ModelUpload } from "./model-upload.js";
import { buildCreateRequest, type GPUSandboxOptions, type SandboxOptions } from "./options.js";
import { followRun, StreamUnavailable, type Delivered, type OutputCallback } from "./stream.js";

/** What the server says about a sandbox (`GET /api/v1/sandboxes/{id}`). */
export type SandboxInfo = SandboxView;

export type RunState = SandboxRunResult["state"];

/** The result of `sandbox.run()`: the server's `SandboxRunResult`, with `response` typed by the caller. */
export type RunResult<R = any> = Omit<SandboxRunResult, "response"> & { response: R };

export type RunOptions = {
  /** Called with each piece of stdout as it is printed (before `run()` returns). */
  onStdout?: OutputCallback;
  /** Called with each piece of stderr as it is printed. */
  onStderr?: OutputCallback;
  /** Run this command instead of the sandbox's code (`python other.py`). */
  command?: string;
  /** Text on the program's standard input (scripts). */
  stdin?: string;
  /** Time limit for this run in seconds. */
  timeout?: number;
  /** The handler's event, when the first argument is left `undefined` (a string event cannot be the first argument). */
  input?: unknown;
};

/** `run({ onStdout, input })`: the options alone, when they carry a callback (an input, being JSON, never does). */
export type RunOptionsWithInput = RunOptions & { input?: unknown } & ({ onStdout: OutputCallback } | { onStderr: OutputCallback });

function isOptionsWithCallback(value: unknown): value is RunOptionsWithInput {
  if (typeof value !== "object" || value === null) return false;
  const { onStdout, onStderr } = value as RunOptions;
  return typeof onStdout === "function" || typeof onStderr === "function";
}

export type UploadOptions = {
  /** The local file to send (relative, absolute or `~/…`). */
  localPath: string;
  /** Where it goes, relative to `/sandbox`. */
  filePath: string;
};

/** Extra seconds the SDK waits beyond a run's own limit before giving up on the server. */
const CLIENT_MARGIN_S = 30;

/**
 * One sandbox: a container that keeps its files between runs until `delete()` or its timeout.
 * `await using sandbox = await CPUSandbox.create(…)` deletes it when the block ends.
 */
export class Sandbox implements AsyncDisposable {
  readonly client: Client;
  info: SandboxInfo;

  protected constructor(client: Client, info: SandboxInfo) {
    this.client = client;
    this.info = info;
  }

  get id(): string {
    return this.info.id;
  }
  get name(): string {
    return this.info.name;
  }
  get runtime(): string {
    return this.info.runtime;
  }
  get status(): SandboxInfo["status"] {
    return this.info.status;
  }
  /** Where this sandbox's runs are posted (`POST` it with `{input}`; the server's view, else built from the base URL). */
  get endpoint(): string {
    const view = this.info as SandboxInfo & { endpoint?: string };
    return view.endpoint ?? `${this.client.baseUrl}/api/v1/sandboxes/${encodeURIComponent(this.id)}/runs`;
  }
  /** `"gpu"` or `"cpu"`, as the published SDK's instances say. */
  get type(): "cpu" | "gpu" {
    const view = this.info as SandboxInfo & { type?: "cpu" | "gpu" };
    return view.type ?? (this.gpu ? "gpu" : "cpu");
  }
  /** The GPU type asked for (`"any"`, `"T4"`, …); undefined for a CPU sandbox. */
  get gpu(): string | undefined {
    return this.info.gpu ?? undefined;
  }
  /** The model upload done before create (undefined when `model` was not a local folder). */
  modelUpload?: ModelUpload;
  /** True when the requirements came from the server's cache instead of a fresh install. */
  get requirementsCached(): boolean {
    return this.info.requirementsCached === true;
  }

  protected static async createWith(
    options: GPUSandboxOptions,
    kind: "cpu" | "gpu",
  ): Promise<{ client: Client; info: SandboxInfo; modelUpload?: ModelUpload }> {
    const { body, modelFolder } = buildCreateRequest(options, kind);
    const client =
      options.apiToken !== undefined || options.baseUrl !== undefined
        ? new Client({
            apiToken: options.apiToken ?? getDefaultClient().apiToken,
            baseUrl: options.baseUrl ?? getDefaultClient().baseUrl,
          })
        : getDefaultClient();
    // A local model folder goes into the store first (only what the store lacks), then is named in the create.
    const modelUpload = modelFolder === undefined ? undefined : await uploadModel(client, body.model as string, modelFolder);
    // Creating waits for the container and any requirements install.
    const info = await client.request<SandboxInfo>("POST", "/api/v1/sandboxes", { body, timeoutMs: 15 * 60_000 });
    return { client, info, modelUpload };
  }

  /** Re-reads the sandbox's state from the server. */
  async refresh(): Promise<SandboxInfo> {
    this.info = await this.client.request<SandboxInfo>("GET", `/api/v1/sandboxes/${encodeURIComponent(this.id)}`);
    return this.info;
  }

  /**
   * Runs the sandbox's code (or `options.command`) with `input` as the handler's event. With
   * `onStdout`/`onStderr` the output is streamed to them while it runs; otherwise one request waits.
   * `run({ onStdout })` (options with a callback, `input` among them) needs no placeholder input.
   * A string is code, as the published SDK's `run(code)`: `run("python other.py")` runs that command (relative
   * source files it names that exist locally are copied in first); a string event goes in `options.input`.
   * Throws {@link SandpitTimeoutError} (`kind: "run"`) when the run hits its time limit.
   */
  async run<R = any>(options: RunOptionsWithInput): Promise<RunResult<R>>;
  async run<R = any>(input?: unknown, options?: RunOptions): Promise<RunResult<R>>;
  async run<R = any>(...args: [input?: unknown, options?: RunOptions]): Promise<RunResult<R>> {
    const [first, second = {}] = args;
    const [given, options]: [unknown, RunOptions] = args.length === 1 && isOptionsWithCallback(first) ? [first.input, first] : [first, second];
    const { onStdout, onStderr, stdin, timeout } = options;
    let { command } = options;
    let input = given === undefined ? options.input : given;
    if (typeof given === "string") {
      if (!isCommandLine(given)) {
        throw new ValidationError(
          'run: a string is a command, as in run("python main.py") (one line starting with python, node, deno, go, bash or sh); pass a string event as run(undefined, { input })',
          { field: "command" },
        );
      }
      if (command !== undefined) throw new ValidationError("run: give the command as the string or as options.command, not both", { field: "command" });
      for (const file of filesNamedByCommand(given)) {
        await this.client.request("POST", `/api/v1/sandboxes/${encodeURIComponent(this.id)}/files`, { body: file });
      }
      command = given.trim();
      input = options.input;
    }
    const body: Record<string, unknown> = {};
    if (input !== undefined) body.input = input;
    if (command !== undefined) {
      if (typeof command !== "string" || !command.trim()) throw new ValidationError("command: expected a non-empty string", { field: "command" });
      body.command = command;
    }
    if (stdin !== undefined) {
      if (typeof stdin !== "string") throw new ValidationError("stdin: expected a string", { field: "stdin" });
      body.stdin = stdin;
    }
    if (timeout !== undefined) {
      if (typeof timeout !== "number" || !Number.isFinite(timeout) || timeout <= 0)
        throw new ValidationError("timeout: expected seconds above 0", { field: "timeout" });
      body.timeout = timeout;
    }
    for (const [field, callback] of [
      ["onStdout", onStdout],
      ["onStderr", onStderr],
    ] as const) {
      if (callback !== undefined && typeof callback !== "function") throw new ValidationError(`${field}: expected a function`, { field });
    }
    const limitS = timeout ?? this.info.timeout ?? 60;
    const waitMs = (limitS + CLIENT_MARGIN_S) * 1000;
    const runsPath = `/api/v1/sandboxes/${encodeURIComponent(this.id)}/runs`;

    let raw: SandboxRunResult;
    if (!onStdout && !onStderr) {
      raw = await this.client.request("POST", `${runsPath}?wait=1`, { body, timeoutMs: waitMs });
    } else {
      const started = await this.client.request<SandboxRunStarted>("POST", runsPath, { body });
      const delivered: Delivered = { stdout: 0, stderr: 0 };
      try {
        await followRun(this.client.baseUrl, started.runId, { onStdout, onStderr }, delivered, waitMs);
      } catch (error) {
        if (!(error instanceof StreamUnavailable)) throw error;
        // No socket: wait over HTTP and hand the callbacks what they missed, below.
      }
      raw = await this.client.request("GET", `${runsPath}/${encodeURIComponent(started.runId)}?wait=1`, { timeoutMs: waitMs });
      const { stdout, stderr } = raw;
      if (onStdout && stdout.length > delivered.stdout) await onStdout(stdout.slice(delivered.stdout));
      if (onStderr && stderr.length > delivered.stderr) await onStderr(stderr.slice(delivered.stderr));
    }
    const result = toRunResult<R>(raw);
    if (result.state === "timed_out") {
      throw new SandpitTimeoutError(`run ${result.runId} in sandbox ${this.name} hit its time limit (${limitS} s)`, { kind: "run", result });
    }
    return result;
  }

  /** Copies a local file into the sandbox (`POST /files`, base64). */
  async upload(options: UploadOptions): Promise<FileUploaded> {
    if (!options || typeof options.localPath !== "string" || !options.localPath)
      throw new ValidationError("localPath: expected a file path", { field: "localPath" });
    if (typeof options.filePath !== "string" || !options.filePath)
      throw new ValidationError("filePath: expected a path inside the sandbox", { field: "filePath" });
    let data: Buffer;
    try {
      data = await readFile(expandHome(options.localPath));
    } catch (error) {
      throw new ValidationError(`localPath: cannot read ${options.localPath} (${(error as Error).message})`, { field: "localPath", cause: error });
    }
    return this.client.request("POST", `/api/v1/sandboxes/${encodeURIComponent(this.id)}/files`, {
      body: { path: options.filePath, content: data.toString("base64") },
    });
  }

  /** Stops and removes the sandbox (idempotent). */
  async delete(): Promise<void> {
    this.info = await this.client.request<SandboxInfo>("DELETE", `/api/v1/sandboxes/${encodeURIComponent(this.id)}`);
  }

  /** `await using`: deletes the sandbox when the block ends. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.delete();
  }
}

function toRunResult<R>(raw: SandboxRunResult): RunResult<R> {
  if (!raw || typeof raw !== "object" || typeof raw.runId !== "string") {
    throw new SandpitError(`unexpected run result from server: ${JSON.stringify(raw).slice(0, 300)}`);
  }
  return { ...raw, response: raw.response as R };
}

/** A sandbox on CPUs. */
export class CPUSandbox extends Sandbox {
  /** Creates a sandbox and returns once it is ready (requirements installed). */
  static async create(options: SandboxOptions): Promise<CPUSandbox> {
    const { client, info, modelUpload } = await Sandbox.createWith(options, "cpu");
    return Object.assign(new CPUSandbox(client, info), { modelUpload });
  }

  /** A handle to an existing sandbox by id. */
  static async connect(id: string, options: { apiToken?: string; baseUrl?: string } = {}): Promise<CPUSandbox> {
    const client = options.apiToken !== undefined || options.baseUrl !== undefined ? new Client(options) : getDefaultClient();
    const info = await client.request<SandboxInfo>("GET", `/api/v1/sandboxes/${encodeURIComponent(id)}`);
    return new CPUSandbox(client, info);
  }
}

/** A sandbox with a GPU (python only); needs a Sandpit worker with an NVIDIA GPU. */
export class GPUSandbox extends Sandbox {
  /** Creates a GPU sandbox; `gpu` and `model` are checked here and passed on. */
  static async create(options: GPUSandboxOptions): Promise<GPUSandbox> {
    const { client, info, modelUpload } = await Sandbox.createWith(options, "gpu");
    return Object.assign(new GPUSandbox(client, info), { modelUpload });
  }
}
