"use server";

import { webDatabase } from "@/lib/db/web-database";
import { ApiError } from "@/lib/http/api-error";
import { cancelRun } from "@/lib/runs/cancel-run";

export async function cancelRunAction(runId: string): Promise<{ ok: boolean; error?: string }> {
  try {
    cancelRun(webDatabase(), String(runId));
    return { ok: true };
  } catch (error) {
    if (error instanceof ApiError) return { ok: false, error: error.message };
    throw error;
  }
}
