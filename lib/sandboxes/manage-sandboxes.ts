import { quoteClientInput } from "@/lib/http/quote-client-input";
import { and, eq, inArray } from "drizzle-orm";
import { randomBytes } from "node:crypto";
import type { ApiTokenRow } from "@/lib/db/schema";
import type { SandpitDb } from "@/lib/db/open-database";
import { sandboxes, type SandboxRow } from "@/lib/db/schema";
import { ApiError } from "@/lib/http/api-error";
import { assertSandboxQuota, type TokenLimitSettings } from "@/lib/auth/token-limits";
import { resolveModelPath } from "@/lib/models/list-models";
import { describeIssues, type RunLimitSettings } from "@/lib/runs/run-request-schema";
import type { SandboxEvent } from "@/lib/realtime/events";
import { webBus } from "@/lib/realtime/web-bus";
import { gpuAvailability } from "@/lib/workers/gpu-availability";
import { assertOwnerShare } from "@/lib/runs/check-owner-share";
import { tokenOwner } from "@/lib/runs/run-owner";
import { sandboxRequestSchema } from "./sandbox-request-schema";
import { accountTokenId, findOwnedSandbox, findSandbox } from "./sandbox-view";
import { assertFitsParentBudget, childLifetimeMs } from "./nested-budget";
import { endSandboxTree } from "./sandbox-lifecycle";

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
    throw new ApiError("validation", `model: ${quoteClientInput(request.model)} is not in the model store`, { field: "model" });
  }
  if (request.gpu) {
    const gpu = gpuAvailability(db);
    if (!gpu.available) throw new ApiError("validation", `gpu: ${gpu.reason}`, { field: "gpu" });
  }
  if (!request.code && !request.command && request.files.length === 0) {
    throw new ApiError("validation", "code: give the sandbox code to run (inline source or a command)", { field: "code" });
  }
  // A nested sandbox's token creates children of that sandbox, inside its budget, spending its owner's quota.
  const parent = token.sandboxId ? findSandbox(db, token.sandboxId) : undefined;
  if (token.sandboxId && parent?.status !== "ready") throw new ApiError("unauthorized", "this sandbox token expired with its sandbox");
  let lifetimeMs = Math.round(request.lifetimeS * 1000);
  if (parent) {
    const explicitTimeout = typeof (input as { timeout?: unknown } | null)?.timeout === "number";
    lifetimeMs = childLifetimeMs(parent, lifetimeMs, explicitTimeout);
    assertFitsParentBudget(db, parent, { memoryMb: request.memoryMb, cpus: Math.round(request.vcpus * 1000), gpu: request.gpu, nested: request.nested });
  }
  const ownerTokenId = accountTokenId(db, token);
  assertSandboxQuota(db, ownerTokenId, settings.tokenLimits);
  // A token at its queued-runs share may not add sandboxes (whose runs would queue behind the same share).
  if (settings.tokenLimits.shares) assertOwnerShare(db, settings.tokenLimits.shares, tokenOwner(ownerTokenId));

  const id = randomBytes(16).toString("base64url");
  const now = Date.now();
  return db
    .insert(sandboxes)
    .values({
      id,
      name: request.name ?? `sandbox-${id.slice(0, 8)}`,
      tokenId: ownerTokenId,
      runtime: request.runtime,
      language: request.language,
      code: request.code,
      command: request.command,
      memoryMb: request.memoryMb,
      cpus: Math.round(request.vcpus * 1000),
      lifetimeMs,
      env: JSON.stringify(request.env),
      requirements: JSON.stringify(request.requirements),
      denoFlags: JSON.stringify(request.denoFlags),
      files: JSON.stringify(request.files),
      model: request.model ?? null,
      gpu: request.gpu ?? null,
      status: "creating",
      createdAt: now,
      // Provisional: the worker restarts the clock when the sandbox is ready.
      expiresAt: now + lifetimeMs + settings.provisionTimeoutMs,
      parentSandboxId: parent?.id ?? null,
      rootSandboxId: parent ? (parent.rootSandboxId ?? parent.id) : null,
      depth: parent ? parent.depth + 1 : 0,
      nested: request.nested ? JSON.stringify(request.nested) : null,
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

/**
 * Marks the sandbox and all its descendants deleted (their workers remove the containers). Idempotent; an
 * expired one stays expired.
 */
export function deleteSandbox(db: SandpitDb, id: string, token: ApiTokenRow): SandboxRow {
  findOwnedSandbox(db, id, token);
  const ended = endSandboxTree(db, id, "deleted");
  for (const sandbox of ended) webBus().commandWorkers({ type: "delete-sandbox", sandboxId: sandbox.id });
  return findSandbox(db, id)!;
}
