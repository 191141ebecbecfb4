import { eq } from "drizzle-orm";
import type { SandpitDb } from "@/lib/db/open-database";
import { sandboxes, type ApiTokenRow, type RunRow, type SandboxRow } from "@/lib/db/schema";
import { SandpitError } from "@/lib/errors/sandpit-error";
import { runDurationMs } from "@/lib/runs/run-view";
import { isDescendantOf, parseNestedBudget } from "./nested-budget";

export function findSandbox(db: SandpitDb, id: string): SandboxRow | undefined {
  return db.select().from(sandboxes).where(eq(sandboxes.id, id)).get();
}

/**
 * A sandbox the caller's token may act on: its own (children carry their root's owner token), or, for a
 * nested sandbox's token, a descendant of that sandbox. Anything else is "not found" so ids cannot be probed.
 */
export function findOwnedSandbox(db: SandpitDb, id: string, token: ApiTokenRow): SandboxRow {
  const sandbox = findSandbox(db, id);
  const allowed = sandbox && (token.sandboxId ? isDescendantOf(db, sandbox, token.sandboxId) : sandbox.tokenId === token.id);
  if (!sandbox || !allowed) throw new SandpitError("not_found", `no sandbox with id ${id}`);
  return sandbox;
}

/** The token a caller's sandboxes and runs count against: a nested sandbox's token spends its owner's. */
export function accountTokenId(db: SandpitDb, token: ApiTokenRow): string {
  if (!token.sandboxId) return token.id;
  return findSandbox(db, token.sandboxId)?.tokenId ?? token.id;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * A sandbox as the API shows it. `endpoint` (where its runs are posted), `type` and `gpu` are there as the published
 * SDK's instances carry them; `publicUrl` is the server's own address (PUBLIC_URL).
 */
export function toSandboxView(sandbox: SandboxRow, publicUrl: string) {
  return {
    id: sandbox.id,
    name: sandbox.name,
    type: sandbox.gpu ? ("gpu" as const) : ("cpu" as const),
    endpoint: `${publicUrl}/api/v1/sandboxes/${sandbox.id}/runs`,
    runtime: sandbox.runtime,
    language: sandbox.language,
    status: sandbox.status,
    error: sandbox.error,
    memoryMb: sandbox.memoryMb,
    vcpus: sandbox.cpus / 1000,
    timeout: sandbox.lifetimeMs / 1000,
    model: sandbox.model,
    gpu: sandbox.gpu,
    requirements: JSON.parse(sandbox.requirements) as string[],
    requirementsCached: sandbox.requirementsCached,
    createdAt: iso(sandbox.createdAt),
    readyAt: iso(sandbox.readyAt),
    expiresAt: iso(sandbox.expiresAt),
    endedAt: iso(sandbox.endedAt),
    parentId: sandbox.parentSandboxId,
    depth: sandbox.depth,
    nested: nestedView(sandbox),
  };
}

function nestedView(sandbox: SandboxRow) {
  const budget = parseNestedBudget(sandbox);
  return budget && { maxChildren: budget.maxChildren, maxDepth: budget.maxDepth, memory: budget.memoryMb, vcpus: budget.cpus / 1000, gpus: budget.gpus };
}

/**
 * A sandbox run's result in the SDKs' shape. `status` is HTTP-like: a Lambda-style handler return gives its
 * statusCode and body (parsed when JSON); another handler return gives 200 and the value; a script gives
 * 200 on exit 0, 500 otherwise, with its stdout as the response.
 */
export function toSandboxRunResult(run: RunRow, stdout: string, stderr: string) {
  let status = run.exitCode === 0 && run.status === "succeeded" ? 200 : 500;
  let response: unknown = stdout;
  if (run.response !== null) {
    const value = JSON.parse(run.response) as unknown;
    response = value;
    if (run.status === "succeeded") status = 200;
    if (value && typeof value === "object" && "statusCode" in value && typeof (value as { statusCode: unknown }).statusCode === "number") {
      const lambda = value as { statusCode: number; body?: unknown };
      status = lambda.statusCode;
      response = lambda.body;
      if (typeof lambda.body === "string") {
        try {
          response = JSON.parse(lambda.body);
        } catch {
          response = lambda.body;
        }
      }
    }
  }
  if (run.status === "timed_out") status = 504;
  return {
    runId: run.id,
    state: run.status,
    status,
    response,
    stdout,
    stderr,
    exitCode: run.exitCode,
    durationMs: runDurationMs(run),
    truncated: run.truncated,
    error: run.error,
  };
}
