import { randomBytes } from "node:crypto";
import type { ApiTokenRow } from "@/lib/db/schema";
import type { SandpitDb } from "@/lib/db/open-database";
import { sandboxes, type SandboxRow } from "@/lib/db/schema";
import { parseInput, SandpitError } from "@/lib/errors/sandpit-error";
import { assertSandboxQuota, type TokenLimitSettings } from "@/lib/auth/token-limits";
import { resolveModelPath } from "@/lib/models/list-models";
import type { RunLimitSettings } from "@/lib/runs/run-request-schema";
import { wakeWorkers, webBus } from "@/lib/realtime/web-bus";
import { waitForBus } from "@/lib/realtime/wait-for-bus";
import { modelNotInStore } from "@/lib/models/model-not-in-store";
import { checkGpuRequest } from "@/lib/gpus/assign-gpu-slot";
import { liveGpuInventories } from "@/lib/workers/gpu-availability";
import { assertRuntimeServed } from "@/lib/workers/check-runtime-served";
import { assertOwnerShare } from "@/lib/runs/check-owner-share";
import { tokenOwner } from "@/lib/runs/run-owner";
import { sandboxRequestSchema } from "./sandbox-request-schema";
import { accountTokenId, findOwnedSandbox, findSandbox } from "./sandbox-view";
import { assertFitsParentBudget, childLifetimeMs } from "./nested-budget";
import { endSandboxTree } from "./sandbox-lifecycle";
import { withAdmissionLock } from "@/lib/runs/admission-lock";

export type SandboxSettings = {
  limits: RunLimitSettings & { lifetimeMaxS: number };
  modelsDir: string;
  tokenLimits: TokenLimitSettings;
  /** How long create waits for the container (and a requirements build). */
  provisionTimeoutMs: number;
};

/**
 * Validates and records a sandbox, and wakes the workers: one of them provisions it. The budget and quota checks
 * and the insert take one turn of the admission lock (admission-lock.ts), so concurrent requests cannot overdraw them.
 */
export async function requestSandbox(db: SandpitDb, settings: SandboxSettings, token: ApiTokenRow, input: unknown): Promise<SandboxRow> {
  const request = parseSandboxRequest(settings, input);
  if (request.model && !resolveModelPath(settings.modelsDir, request.model)) {
    throw modelNotInStore(request.model);
  }
  await assertRuntimeServed(db, request.runtime);
  if (request.gpu) {
    checkGpuRequest(
      (await liveGpuInventories(db)).map((worker) => worker.inventory),
      request.gpu,
    );
  }
  if (!request.code && !request.command && request.files.length === 0) {
    throw new SandpitError("validation", "code: give the sandbox code to run (inline source or a command)", { field: "code" });
  }
  const created = await withAdmissionLock(db, () => admitAndInsertSandbox(db, settings, token, input, request));
  wakeWorkers();
  return created;
}

async function admitAndInsertSandbox(
  db: SandpitDb,
  settings: SandboxSettings,
  token: ApiTokenRow,
  input: unknown,
  request: ReturnType<typeof parseSandboxRequest>,
): Promise<SandboxRow> {
  // A nested sandbox's token creates children of that sandbox, inside its budget, spending its owner's quota.
  const parent = token.sandboxId ? await findSandbox(db, token.sandboxId) : undefined;
  if (token.sandboxId && parent?.status !== "ready") throw new SandpitError("unauthorized", "this sandbox token expired with its sandbox");
  let lifetimeMs = Math.round(request.lifetimeS * 1000);
  if (parent) {
    const explicitTimeout = typeof (input as { timeout?: unknown } | null)?.timeout === "number";
    lifetimeMs = childLifetimeMs(parent, lifetimeMs, explicitTimeout);
    await assertFitsParentBudget(db, parent, { memoryMb: request.memoryMb, cpus: Math.round(request.vcpus * 1000), gpu: request.gpu, nested: request.nested });
  }
  const ownerTokenId = await accountTokenId(db, token);
  await assertSandboxQuota(db, ownerTokenId, settings.tokenLimits);
  // A token at its queued-runs share may not add sandboxes (whose runs would queue behind the same share).
  if (settings.tokenLimits.shares) await assertOwnerShare(db, settings.tokenLimits.shares, tokenOwner(ownerTokenId));

  const id = randomBytes(16).toString("base64url");
  const now = Date.now();
  const [created] = await db
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
    .returning();
  return created;
}

function parseSandboxRequest(settings: SandboxSettings, input: unknown) {
  return parseInput(sandboxRequestSchema(settings.limits), input);
}

/** Waits until the worker has provisioned the sandbox (or failed to), or the deadline passes. */
export function waitForSandbox(db: SandpitDb, id: string, deadlineMs: number): Promise<SandboxRow> {
  return waitForBus({
    event: "sandbox",
    matches: (event) => event.sandboxId === id,
    read: async () => (await findSandbox(db, id))!,
    settled: (sandbox) => sandbox.status !== "creating",
    deadlineMs,
  });
}

/**
 * Marks the sandbox and all its descendants deleted (their workers remove the containers). Idempotent; an
 * expired one stays expired.
 */
export async function deleteSandbox(db: SandpitDb, id: string, token: ApiTokenRow): Promise<SandboxRow> {
  await findOwnedSandbox(db, id, token);
  const ended = await endSandboxTree(db, id, "deleted");
  for (const sandbox of ended) webBus().commandWorkers({ type: "delete-sandbox", sandboxId: sandbox.id });
  return (await findSandbox(db, id))!;
}
