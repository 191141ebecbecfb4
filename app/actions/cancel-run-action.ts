"use server";

import { z } from "zod";
import { serverAction } from "@/lib/actions/action-client";
import { webDatabase } from "@/lib/db/web-database";
import { cancelRun } from "@/lib/runs/cancel-run";

/** Cancels a run; anyone holding its (unguessable) id may, as with POST /api/v1/runs/:id/cancel. */
export const cancelRunAction = serverAction(z.string().min(1).max(64), async (runId) => {
  await cancelRun(await webDatabase(), runId);
  return {};
});
