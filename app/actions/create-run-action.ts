"use server";

import { webConfig } from "@/lib/config/web-config";
import { webDatabase } from "@/lib/db/web-database";
import { ApiError } from "@/lib/http/api-error";
import { webBus } from "@/lib/realtime/web-bus";
import { createRun } from "@/lib/runs/create-run";

export type CreateRunResult = { ok: true; id: string } | { ok: false; error: string };

/** Queues a run from the page; the same createRun as POST /api/v1/runs. */
export async function createRunAction(input: unknown): Promise<CreateRunResult> {
  try {
    const run = createRun(webDatabase(), webConfig().runLimits, input);
    webBus().commandWorkers({ type: "wake" });
    return { ok: true, id: run.id };
  } catch (error) {
    if (error instanceof ApiError) return { ok: false, error: error.message };
    throw error;
  }
}
