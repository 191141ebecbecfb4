import type { SandpitDb } from "@/lib/db/open-database";
import { runs, type ApiTokenRow, type RunRow } from "@/lib/db/schema";
import { ApiError } from "@/lib/http/api-error";
import { newRunId } from "@/lib/ids/new-run-id";
import { assertRunQuota, type TokenLimitSettings } from "@/lib/auth/token-limits";
import { describeIssues } from "@/lib/runs/run-request-schema";
import { assertOwnerShare } from "@/lib/runs/check-owner-share";
import { tokenOwner } from "@/lib/runs/run-owner";
import { webBus } from "@/lib/realtime/web-bus";
import { downloadCommand, uploadCommand } from "./sandbox-file-commands";
import { fileDownloadSchema, fileUploadSchema, sandboxRunRequestSchema } from "./sandbox-request-schema";
import { accountTokenId, findOwnedSandbox } from "./sandbox-view";

const MIN_RUN_MS = 100;

function assertReady(db: SandpitDb, sandboxId: string, token: ApiTokenRow) {
  const sandbox = findOwnedSandbox(db, sandboxId, token);
  const remainingMs = sandbox.expiresAt - Date.now();
  if (sandbox.status === "expired" || (sandbox.status === "ready" && remainingMs < MIN_RUN_MS)) {
    throw new ApiError("conflict", `sandbox ${sandboxId} has expired (its timeout was ${sandbox.lifetimeMs / 1000} s)`);
  }
  if (sandbox.status !== "ready") throw new ApiError("conflict", `sandbox ${sandboxId} is ${sandbox.status}, not ready`);
  return { sandbox, remainingMs };
}

type QueueOptions = { input?: unknown; command?: string | null; stdin: string; timeoutS?: number; useCode: boolean };

function queueSandboxRun(db: SandpitDb, sandboxId: string, token: ApiTokenRow, limits: TokenLimitSettings, options: QueueOptions): RunRow {
  const { sandbox, remainingMs } = assertReady(db, sandboxId, token);
  // A nested sandbox's token spends its owner's quota and share.
  const accountId = accountTokenId(db, token);
  assertRunQuota(db, accountId, limits);
  // Sandbox runs take worker slots like any run: the same share as the token's other runs.
  const owner = tokenOwner(accountId);
  if (limits.shares) assertOwnerShare(db, limits.shares, owner);
  const timeoutMs = Math.min(remainingMs, options.timeoutS ? options.timeoutS * 1000 : remainingMs);
  const run = db
    .insert(runs)
    .values({
      id: newRunId(),
      sandboxId,
      tokenId: accountId,
      ownerKey: owner.key,
      runtime: sandbox.runtime,
      code: options.useCode ? (sandbox.code ?? "") : "",
      command: options.command ?? (options.useCode ? sandbox.command : null),
      input: options.input === undefined ? null : JSON.stringify(options.input),
      stdin: options.stdin,
      timeoutMs: Math.max(MIN_RUN_MS, Math.round(timeoutMs)),
      memoryMb: sandbox.memoryMb,
      cpus: sandbox.cpus,
      status: "queued",
      queuedAt: Date.now(),
    })
    .returning()
    .all()[0];
  webBus().commandWorkers({ type: "wake" });
  return run;
}

/** Queues a run of the sandbox's code (or a given command) inside its container. */
export function runInSandbox(db: SandpitDb, sandboxId: string, token: ApiTokenRow, limits: TokenLimitSettings & { lifetimeMaxS: number }, input: unknown): RunRow {
  const parsed = sandboxRunRequestSchema(limits.lifetimeMaxS).safeParse(input ?? {});
  if (!parsed.success) {
    throw new ApiError("validation", describeIssues(parsed.error), { field: String(parsed.error.issues[0]?.path[0] ?? "") || undefined });
  }
  const { input: event, command, stdin, timeout } = parsed.data;
  return queueSandboxRun(db, sandboxId, token, limits, { input: event, command: command ?? null, stdin, timeoutS: timeout, useCode: !command });
}

/**
 * Uploads a file by running, as the sandbox's own unprivileged user inside its container, a command that
 * decodes stdin into the path without following links (see sandbox-file-commands.ts): the worker never
 * writes into a filesystem the sandbox controls.
 */
export function uploadToSandbox(db: SandpitDb, sandboxId: string, token: ApiTokenRow, limits: TokenLimitSettings, input: unknown): { run: RunRow; path: string; size: number } {
  const parsed = fileUploadSchema.safeParse(input);
  if (!parsed.success) {
    throw new ApiError("validation", describeIssues(parsed.error), { field: String(parsed.error.issues[0]?.path[0] ?? "") || undefined });
  }
  const { path, content } = parsed.data;
  const run = queueSandboxRun(db, sandboxId, token, limits, { command: uploadCommand(path), stdin: content, timeoutS: 30, useCode: false });
  return { run, path, size: Buffer.from(content, "base64").length };
}

/** Reads a regular file of /sandbox the same way: as the sandbox's user, inside it, following no links. */
export function downloadFromSandbox(db: SandpitDb, sandboxId: string, token: ApiTokenRow, limits: TokenLimitSettings, path: unknown): { run: RunRow; path: string } {
  const parsed = fileDownloadSchema.safeParse({ path });
  if (!parsed.success) throw new ApiError("validation", describeIssues(parsed.error), { field: "path" });
  const run = queueSandboxRun(db, sandboxId, token, limits, { command: downloadCommand(parsed.data.path), stdin: "", timeoutS: 30, useCode: false });
  return { run, path: parsed.data.path };
}
