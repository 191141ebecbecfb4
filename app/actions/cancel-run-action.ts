"use server";

import { z } from "zod";
import { webDatabase } from "@/lib/db/web-database";
import { ApiError } from "@/lib/http/api-error";
import { cancelRun } from "@/lib/runs/cancel-run";

const runIdSchema = z.string().min(1).max(64);

/** Cancels a run; anyone holding its (unguessable) id may, as with POST /api/v1/runs/:id/cancel. */
export async function cancelRunAction(runId: unknown): Promise<{ ok: boolean; error?: string }> {
  const id = runIdSchema.safeParse(runId);
  if (!id.success) return { ok: false, error: "invalid run id" };
  try {
    cancelRun(webDatabase(), id.data);
    return { ok: true };
  } catch (error) {
    if (error instanceof ApiError) return { ok: false, error: error.message };
    throw error;
  }
}
