import type { SandpitDb } from "@/lib/db/open-database";
import { parseInput } from "@/lib/errors/sandpit-error";
import { resolveModelPath } from "@/lib/models/list-models";
import { modelNotInStore } from "@/lib/models/model-not-in-store";
import { assertRuntimeServed } from "@/lib/workers/check-runtime-served";
import { runLimitsFor } from "./check-owner-share";
import { enqueueRun, type AdmissionSettings } from "./enqueue-run";
import { addressOwner, tokenOwner, type RunOwner } from "./run-owner";
import { runRequestSchema, type RunLimitSettings } from "./run-request-schema";

/** The request limits, where models live, and the admission limits (`shares` also lowers anonymous request limits). */
export type RunSettings = { limits: RunLimitSettings; modelsDir: string } & AdmissionSettings;

export type CreatedRun = { id: string; status: "queued" };

/** Validates a run request (POST /api/v1/runs, the playground's action) and queues it through enqueueRun. */
export async function createRun(
  db: SandpitDb,
  settings: RunSettings,
  input: unknown,
  tokenId: string | null = null,
  owner: RunOwner = tokenId ? tokenOwner(tokenId) : addressOwner("unknown"),
): Promise<CreatedRun> {
  const request = parseInput(runRequestSchema(runLimitsFor(settings.limits, settings.shares, owner)), input);
  if (request.model && !resolveModelPath(settings.modelsDir, request.model)) {
    throw modelNotInStore(request.model);
  }
  await assertRuntimeServed(db, request.runtime);
  const run = await enqueueRun(
    db,
    settings,
    { owner, tokenId },
    {
      runtime: request.runtime,
      code: request.code,
      stdin: request.stdin,
      timeoutMs: Math.round(request.timeout * 1000),
      memoryMb: request.memory,
      cpus: Math.round(request.vcpus * 1000),
      model: request.model ?? null,
    },
  );
  return { id: run.id, status: "queued" };
}
