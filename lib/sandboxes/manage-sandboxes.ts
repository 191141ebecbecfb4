import { and, eq, inArray } from "drizzle-orm";
import { randomBytes } from "node:crypto";
import type { ApiTokenRow } from "@/lib/db/schema";
import type { SandpitDb } from "@/lib/db/open-database";
import { sandboxes, type SandboxRow } from "@/lib/db/schema";
import { ApiError } from "@/lib/http/api-error";
import { assertSandboxQuota, type TokenLimitSettings } from "@/lib/auth/token-limits";
import { resolveModelPath } from "@/lib/models/list-models";
import { modelNotInStore } from "@/lib/models/model-not-in-store";
import { describeIssues, type RunLimitSettings } from "@/lib/runs/run-request-schema";
import type { SandboxEvent } from "@/lib/realtime/events";
import { webBus } from "@/lib/realtime/web-bus";
import { checkGpuRequest } from "@/lib/gpus/assign-gpu-slot";
import { liveGpuInventories } from "@/lib/workers/gpu-availability";
import { assertOwnerShare } from "@/lib/runs/check-owner-share";
import { tokenOwner } from "@/lib/runs/run-owner";
import { sandboxRequestSchema } from "./sandbox-request-schema";
import { findOwnedSandbox, findSandbox } from "./sandbox-view";

export type SandboxSettings = {
  limits: RunLimitSettings & { lifetimeMaxS: number };
  modelsDir: string;
  tokenLimits: TokenLimitSettings;
  /** How long create waits for the container (and a requirements build). */
  provisionTimeoutMs: number;
};

/** Validates and records a sandbox; the worker provisions it. */
export function requestSandbox(db: SandpitDb, settings: SandboxSettings, token: ApiTokenRow, input: unknown): SandboxRow {
  const parsed = sandboxRequestSchema(settings.limits).safeParse(input);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const field = first?.code === "unrecognized_keys" ? first.keys[0] : String(first?.path[0] ?? "");
    throw new ApiError("validation", describeIssues(parsed.error), { field: field || undefined });
  }
  const request = parsed.data;
  if (request.model && !resolveModelPath(settings.modelsDir, request.model)) {
    throw modelNotInStore(request.model);
  }
  if (request.gpu) {
    checkGpuRequest(liveGpuInventories(db).map((worker) => worker.inventory), request.gpu);
  }
  if (!request.code && !request.command && request.files.length === 0) {
    throw new ApiError("validation", "code: give the sandbox code to run (inline source or a command)", { field: "code" });
  }
  assertSandboxQuota(db, token.id, settings.tokenLimits);
  // A token at its queued-runs share may not add sandboxes (whose runs would queue behind the same share).
  if (settings.tokenLimits.shares) assertOwnerShare(db, settings.tokenLimits.shares, tokenOwner(token.id));

  const id = randomBytes(16).toString("base64url");
  const now = Date.now();
  return db
    .insert(sandboxes)
    .values({
      id,
      name: request.name ?? `sandbox-${id.slice(0, 8)}`,
      tokenId: token.id,
      runtime: request.runtime,
      language: request.language,
      code: request.code,
      command: request.command,
      memoryMb: request.memoryMb,
      cpus: Math.round(request.vcpus * 1000),
      lifetimeMs: Math.round(request.lifetimeS * 1000),
      env: JSON.stringify(request.env),
      requirements: JSON.stringify(request.requirements),
      denoFlags: JSON.stringify(request.denoFlags),
      files: JSON.stringify(request.files),
      model: request.model ?? null,
      gpu: request.gpu ?? null,
      status: "creating",
      createdAt: now,
      // Provisional: the worker restarts the clock when the sandbox is ready.
      expiresAt: now + Math.round(request.lifetimeS * 1000) + settings.provisionTimeoutMs,
    })
    .returning()
    .all()[0];
}

/** Waits until the worker has provisioned the sandbox (or failed to). */
export function waitForSandbox(db: SandpitDb, id: string, deadlineMs: number): Promise<SandboxRow> {
  const settled = () => {
    const sandbox = findSandbox(db, id)!;
    return sandbox.status === "creating" ? null : sandbox;
  };
  const now = settled();
  if (now) return Promise.resolve(now);
  return new Promise((resolve) => {
    const bus = webBus().runEnds;
    let timer: NodeJS.Timeout;
    const finish = () => {
      clearTimeout(timer);
      bus.off("sandbox", onChange);
      resolve(findSandbox(db, id)!);
    };
    const onChange = (event: SandboxEvent) => {
      if (event.sandboxId === id) finish();
    };
    const poll = () => {
      if (settled() || Date.now() >= deadlineMs) return finish();
      timer = setTimeout(poll, 250);
    };
    bus.on("sandbox", onChange);
    timer = setTimeout(poll, 250);
  });
}

/** Marks the sandbox deleted (its worker removes the container). Idempotent; an expired one stays expired. */
export function deleteSandbox(db: SandpitDb, id: string, tokenId: string): SandboxRow {
  findOwnedSandbox(db, id, tokenId);
  const deleted = db
    .update(sandboxes)
    .set({ status: "deleted", endedAt: Date.now() })
    .where(and(eq(sandboxes.id, id), inArray(sandboxes.status, ["creating", "ready"])))
    .returning()
    .all()[0];
  if (deleted) webBus().commandWorkers({ type: "delete-sandbox", sandboxId: id });
  return deleted ?? findSandbox(db, id)!;
}
