import { Client, getDefaultClient } from "./client.js";
import { ValidationError } from "./errors.js";
import { RUN_RUNTIMES, type FinishedRun } from "./generated/api.js";

/** Runtimes of a one-off run (from the server's schema). */
export const CODE_RUNTIMES = RUN_RUNTIMES;
export type CodeRuntime = (typeof CODE_RUNTIMES)[number];

export type RunCodeOptions = {
  runtime: CodeRuntime;
  /** The program's source text. */
  code: string;
  /** Text on the program's standard input. */
  stdin?: string;
  /** Time limit in seconds (default: the server's). */
  timeout?: number;
  /** `"512MB"`, `"1GB"`, `"256Mi"` or a number of MB (default: the server's). */
  memory?: string | number;
  /** CPUs (default 1; the server says its maximum). */
  vcpus?: number;
  /** Defaults to the client of the last `Sandpit()` call, else the environment. */
  client?: Client;
};

/** The ended run (`FinishedRun`: the server's run view plus its share link `url`). */
export type CodeRunResult = FinishedRun;

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
  // The server answers by the run's timeout plus its wait margin; so does this request. Without a timeout the
  // server's default applies, which only the server knows: the client's own request deadline bounds the wait.
  const timeoutMs = options.timeout !== undefined ? (options.timeout + 30) * 1000 : client.requestTimeoutMs;
  return client.request<CodeRunResult>("POST", "/api/v1/runs?wait=1", { body, timeoutMs });
}
