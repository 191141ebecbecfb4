import type { SandpitDb } from "@/lib/db/open-database";
import { runs } from "@/lib/db/schema";
import { ApiError } from "@/lib/http/api-error";
import { newRunId } from "@/lib/ids/new-run-id";
import { describeIssues, runRequestSchema, type RunLimitSettings } from "./run-request-schema";

export type CreatedRun = { id: string; status: "queued" };

/** Validates and queues a run. Throws ApiError("validation") with a readable message on bad input. */
export function createRun(db: SandpitDb, limits: RunLimitSettings, input: unknown): CreatedRun {
  const parsed = runRequestSchema(limits).safeParse(input);
  if (!parsed.success) throw new ApiError("validation", describeIssues(parsed.error));
  const request = parsed.data;
  const id = newRunId();
  db.insert(runs)
    .values({
      id,
      runtime: request.runtime,
      code: request.code,
      stdin: request.stdin,
      timeoutMs: Math.round(request.timeout * 1000),
      memoryMb: request.memory,
      status: "queued",
      queuedAt: Date.now(),
    })
    .run();
  return { id, status: "queued" };
}
