import type { SandpitDb } from "@/lib/db/open-database";
import { runs } from "@/lib/db/schema";
import { ApiError } from "@/lib/http/api-error";
import { newRunId } from "@/lib/ids/new-run-id";
import { resolveModelPath } from "@/lib/models/list-models";
import { modelNotInStore } from "@/lib/models/model-not-in-store";
import { assertOwnerShare, runLimitsFor, type FairShareSettings } from "./check-owner-share";
import { assertQueueCapacity } from "./check-queue-capacity";
import { addressOwner, tokenOwner, type RunOwner } from "./run-owner";
import { describeIssues, runRequestSchema, type RunLimitSettings } from "./run-request-schema";

/**
 * `maxQueuedRuns`: refuse (429) rather than queue past this many waiting runs; unset, no limit.
 * `shares`: per-owner limits and the lower anonymous request limits; unset (unit tests), none.
 */
export type RunSettings = { limits: RunLimitSettings; modelsDir: string; maxQueuedRuns?: number; shares?: FairShareSettings };

export type CreatedRun = { id: string; status: "queued" };

/** Validates and queues a run. Throws ApiError("validation") with a readable message on bad input, "rate_limited" when the queue is full. */
export function createRun(
  db: SandpitDb,
  settings: RunSettings,
  input: unknown,
  tokenId: string | null = null,
  owner: RunOwner = tokenId ? tokenOwner(tokenId) : addressOwner("unknown"),
): CreatedRun {
  const parsed = runRequestSchema(runLimitsFor(settings.limits, settings.shares, owner)).safeParse(input);
  if (!parsed.success) throw new ApiError("validation", describeIssues(parsed.error));
  const request = parsed.data;
  if (request.model && !resolveModelPath(settings.modelsDir, request.model)) {
    throw modelNotInStore(request.model);
  }
  // Checked after validation (bad input is a 400 even when full) and right before the insert: nothing half-made.
  if (settings.shares) assertOwnerShare(db, settings.shares, owner);
  if (settings.maxQueuedRuns !== undefined) assertQueueCapacity(db, settings.maxQueuedRuns);
  const id = newRunId();
  db.insert(runs)
    .values({
      id,
      runtime: request.runtime,
      code: request.code,
      stdin: request.stdin,
      timeoutMs: Math.round(request.timeout * 1000),
      memoryMb: request.memory,
      cpus: Math.round(request.vcpus * 1000),
      model: request.model ?? null,
      status: "queued",
      tokenId,
      ownerKey: owner.key,
      queuedAt: Date.now(),
    })
    .run();
  return { id, status: "queued" };
}
