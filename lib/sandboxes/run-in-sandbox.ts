import type { SandpitDb } from "@/lib/db/open-database";
import type { ApiTokenRow, RunRow } from "@/lib/db/schema";
import { parseInput, SandpitError } from "@/lib/errors/sandpit-error";
import type { TokenLimitSettings } from "@/lib/auth/token-limits";
import { enqueueRun, type RunToQueue } from "@/lib/runs/enqueue-run";
import { tokenOwner } from "@/lib/runs/run-owner";
import { downloadCommand, uploadCommand } from "./sandbox-file-commands";
import { fileDownloadSchema, fileUploadSchema, sandboxRunRequestSchema } from "./sandbox-request-schema";
import { accountTokenId, findOwnedSandbox } from "./sandbox-view";

const MIN_RUN_MS = 100;

async function assertReady(db: SandpitDb, sandboxId: string, token: ApiTokenRow) {
  const sandbox = await findOwnedSandbox(db, sandboxId, token);
  const remainingMs = sandbox.expiresAt - Date.now();
  if (sandbox.status === "expired" || (sandbox.status === "ready" && remainingMs < MIN_RUN_MS)) {
    throw new SandpitError("conflict", `sandbox ${sandboxId} has expired (its timeout was ${sandbox.lifetimeMs / 1000} s)`);
  }
  if (sandbox.status !== "ready") throw new SandpitError("conflict", `sandbox ${sandboxId} is ${sandbox.status}, not ready`);
  return { sandbox, remainingMs };
}

type QueueOptions = { input?: unknown; command?: string | null; stdin: string; timeoutS?: number; useCode: boolean };

/** A run in the sandbox's container: it takes a worker slot like any run, so it is admitted like any run. */
async function queueSandboxRun(db: SandpitDb, sandboxId: string, token: ApiTokenRow, limits: TokenLimitSettings, options: QueueOptions): Promise<RunRow> {
  const { sandbox, remainingMs } = await assertReady(db, sandboxId, token);
  const timeoutMs = Math.min(remainingMs, options.timeoutS ? options.timeoutS * 1000 : remainingMs);
  const run: RunToQueue = {
    sandboxId,
    runtime: sandbox.runtime,
    code: options.useCode ? (sandbox.code ?? "") : "",
    command: options.command ?? (options.useCode ? sandbox.command : null),
    input: options.input === undefined ? null : JSON.stringify(options.input),
    stdin: options.stdin,
    timeoutMs: Math.max(MIN_RUN_MS, Math.round(timeoutMs)),
    memoryMb: sandbox.memoryMb,
    cpus: sandbox.cpus,
  };
  // A nested sandbox's token spends its owner's quota and share.
  const accountId = await accountTokenId(db, token);
  return enqueueRun(db, limits, { owner: tokenOwner(accountId), tokenId: accountId }, run);
}

/** Queues a run of the sandbox's code (or a given command) inside its container. */
export async function runInSandbox(
  db: SandpitDb,
  sandboxId: string,
  token: ApiTokenRow,
  limits: TokenLimitSettings & { lifetimeMaxS: number },
  input: unknown,
): Promise<RunRow> {
  const { input: event, command, stdin, timeout } = parseInput(sandboxRunRequestSchema(limits.lifetimeMaxS), input ?? {});
  return queueSandboxRun(db, sandboxId, token, limits, { input: event, command: command ?? null, stdin, timeoutS: timeout, useCode: !command });
}

/**
 * Uploads a file by running, as the sandbox's own unprivileged user inside its container, a command that
 * decodes stdin into the path without following links (see sandbox-file-commands.ts): the worker never
 * writes into a filesystem the sandbox controls.
 */
export async function uploadToSandbox(
  db: SandpitDb,
  sandboxId: string,
  token: ApiTokenRow,
  limits: TokenLimitSettings,
  input: unknown,
): Promise<{ run: RunRow; path: string; size: number }> {
  const { path, content } = parseInput(fileUploadSchema, input);
  const run = await queueSandboxRun(db, sandboxId, token, limits, { command: uploadCommand(path), stdin: content, timeoutS: 30, useCode: false });
  return { run, path, size: Buffer.from(content, "base64").length };
}

/** Reads a regular file of /sandbox the same way: as the sandbox's user, inside it, following no links. */
export async function downloadFromSandbox(
  db: SandpitDb,
  sandboxId: string,
  token: ApiTokenRow,
  limits: TokenLimitSettings,
  path: unknown,
): Promise<{ run: RunRow; path: string }> {
  const parsed = parseInput(fileDownloadSchema, { path });
  const run = await queueSandboxRun(db, sandboxId, token, limits, { command: downloadCommand(parsed.path), stdin: "", timeoutS: 30, useCode: false });
  return { run, path: parsed.path };
}
