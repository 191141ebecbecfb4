import { Client, getDefaultClient } from "./client.js";
import { ValidationError } from "./errors.js";

/** Runtimes of a one-off run. */
export const CODE_RUNTIMES = ["python", "node", "deno", "go", "bash"] as const;
export type CodeRuntime = (typeof CODE_RUNTIMES)[number];

export type RunCodeOptions = {
  runtime: CodeRuntime;
  /** The program's source text. */
  code: string;
  /** Text on the program's standard input. */
  stdin?: string;
  /** Time limit in seconds (default: the server's, 10 s). */
  timeout?: number;
  /** `"512MB"`, `"1GB"`, `"256Mi"` or a number of MB (default: the server's, 256 MB). */
  memory?: string | number;
  /** CPUs (default 1). */
  vcpus?: number;
  /** Defaults to the client of the last `Sandpit()` call, else the environment. */
  client?: Client;
};

export type CodeRunResult = {
  id: string;
  status: "succeeded" | "failed" | "timed_out" | "cancelled" | "error" | "queued" | "running";
  exitCode: number | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  oomKilled: boolean;
  durationMs: number | null;
  /** Whether the run got a pre-started container from the server's warm pool. */
  warm: boolean;
  error: string | null;
  /** Share link of the run. */
  url: string;
};

/**
 * One program in a fresh single-use sandbox, in one request (`POST /api/v1/runs?wait=1`):
 * no sandbox to create or delete, and the server hands it a warm container when it has one.
 */
export async function runCode(options: RunCodeOptions): Promise<CodeRunResult> {
  if (!CODE_RUNTIMES.includes(options.runtime)) {
    throw new ValidationError(`runtime: expected one of ${CODE_RUNTIMES.join(", ")}`);
  }
  if (typeof options.code !== "string") throw new ValidationError("code: expected the program's source text");
  const { client = getDefaultClient(), ...body } = options;
  // The server waits up to the run's timeout plus a margin; so does this request.
  const timeoutMs = ((options.timeout ?? 10) + 30) * 1000;
  return client.request<CodeRunResult>("POST", "/api/v1/runs?wait=1", { body, timeoutMs });
}
