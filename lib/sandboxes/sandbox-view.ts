import { eq } from "drizzle-orm";
import { z } from "zod";
import type { SandpitDb } from "@/lib/db/open-database";
import { RUN_STATUSES, SANDBOX_STATUSES, sandboxes, type ApiTokenRow, type RunRow, type SandboxRow } from "@/lib/db/schema";
import { SandpitError } from "@/lib/errors/sandpit-error";
import { runDurationMs } from "@/lib/runs/run-view";
import { isDescendantOf, parseNestedBudget } from "./nested-budget";

export async function findSandbox(db: SandpitDb, id: string): Promise<SandboxRow | undefined> {
  const [sandbox] = await db.select().from(sandboxes).where(eq(sandboxes.id, id)).limit(1);
  return sandbox;
}

/**
 * A sandbox the caller's token may act on: its own (children carry their root's owner token), or, for a
 * nested sandbox's token, a descendant of that sandbox. Anything else is "not found" so ids cannot be probed.
 */
export async function findOwnedSandbox(db: SandpitDb, id: string, token: ApiTokenRow): Promise<SandboxRow> {
  const sandbox = await findSandbox(db, id);
  const allowed = sandbox && (token.sandboxId ? await isDescendantOf(db, sandbox, token.sandboxId) : sandbox.tokenId === token.id);
  if (!sandbox || !allowed) throw new SandpitError("not_found", `no sandbox with id ${id}`);
  return sandbox;
}

/** The token a caller's sandboxes and runs count against: a nested sandbox's token spends its owner's. */
export async function accountTokenId(db: SandpitDb, token: ApiTokenRow): Promise<string> {
  if (!token.sandboxId) return token.id;
  return (await findSandbox(db, token.sandboxId))?.tokenId ?? token.id;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A sandbox as the API shows it (the OpenAPI document and the SDKs' types come from this). */
export const sandboxViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.enum(["cpu", "gpu"]).describe("gpu when the sandbox asked for a GPU."),
  endpoint: z.string().describe("Where its runs are posted (POST), on this server's PUBLIC_URL."),
  runtime: z.string(),
  language: z.string(),
  status: z.enum(SANDBOX_STATUSES),
  error: z.string().nullable(),
  memoryMb: z.number(),
  vcpus: z.number(),
  timeout: z.number().describe("Lifetime in seconds."),
  model: z.string().nullable(),
  gpu: z.string().nullable(),
  requirements: z.array(z.string()),
  requirementsCached: z.boolean().nullable().describe("Whether the requirements came from the server's cache instead of a fresh install."),
  createdAt: z.iso.datetime(),
  readyAt: z.iso.datetime().nullable(),
  expiresAt: z.iso.datetime().nullable(),
  endedAt: z.iso.datetime().nullable(),
  parentId: z.string().nullable().describe("The sandbox that created this one (nested sandboxes), else null."),
  depth: z.number().int().describe("0 for a sandbox created with an owner's token; its children 1, and so on."),
  nested: z
    .object({ maxChildren: z.number().int(), maxDepth: z.number().int(), memory: z.number(), vcpus: z.number(), gpus: z.number().int() })
    .nullable()
    .describe("The budget for this sandbox's descendants when it was created with `nested`, else null."),
});
export type SandboxView = z.infer<typeof sandboxViewSchema>;

/** A sandbox run's result (`POST …/runs?wait=1`, `GET …/runs/{runId}`). */
export const sandboxRunResultSchema = z.object({
  runId: z.string(),
  state: z.enum(RUN_STATUSES),
  status: z.number().int().describe("HTTP-like: a Lambda-style statusCode, else 200 (500 for a script that exited non-zero, 504 on time-out)."),
  response: z.unknown().describe("The handler's return (Lambda-style body, parsed when JSON), or a script's stdout."),
  stdout: z.string(),
  stderr: z.string(),
  exitCode: z.number().int().nullable(),
  durationMs: z.number().nullable(),
  truncated: z.boolean(),
  error: z.string().nullable(),
});
export type SandboxRunResult = z.infer<typeof sandboxRunResultSchema>;

/** `POST …/runs` without `?wait=1`: the run is queued; follow it by id. */
export const sandboxRunStartedSchema = z.object({ runId: z.string(), status: z.literal("queued") });
/** `POST …/files`. */
export const fileUploadedSchema = z.object({ path: z.string(), size: z.number().int() });
/** `GET …/files?path=`: `content` is base64. */
export const fileDownloadedSchema = z.object({ path: z.string(), size: z.number().int(), content: z.string().describe("The file's bytes in base64.") });

/**
 * A sandbox as the API shows it. `endpoint` (where its runs are posted), `type` and `gpu` are there as the published
 * SDK's instances carry them; `publicUrl` is the server's own address (PUBLIC_URL).
 */
export function toSandboxView(sandbox: SandboxRow, publicUrl: string): SandboxView {
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
    createdAt: iso(sandbox.createdAt)!,
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
export function toSandboxRunResult(run: RunRow, stdout: string, stderr: string): SandboxRunResult {
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
