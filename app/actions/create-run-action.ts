"use server";

import { headers } from "next/headers";
import { z } from "zod";
import { webConfig } from "@/lib/config/web-config";
import { webDatabase } from "@/lib/db/web-database";
import { ApiError } from "@/lib/http/api-error";
import { clientAddress } from "@/lib/rate-limit/client-address";
import { rateLimitMessage, takeRunToken } from "@/lib/rate-limit/run-rate-limit";
import { webBus } from "@/lib/realtime/web-bus";
import { createRun } from "@/lib/runs/create-run";
import { addressOwner } from "@/lib/runs/run-owner";

/** `rateLimited` with `retryAfterS`: this client's budget is spent or the run queue is full (the API's 429). */
export type CreateRunResult = { ok: true; id: string } | { ok: false; error: string; rateLimited?: boolean; retryAfterS?: number };

/** The envelope the page sends; the run fields inside are validated by createRun's own schema. */
const actionInputSchema = z.object({
  source: z.enum(["playground", "embed"]).default("playground"),
  request: z.record(z.string(), z.unknown()),
});

/** Queues a run from the page or an embed: rate-limited per client, then the same createRun as POST /api/v1/runs. */
export async function createRunAction(input: unknown): Promise<CreateRunResult> {
  const envelope = actionInputSchema.safeParse(input);
  if (!envelope.success) return { ok: false, error: "invalid run request" };
  const { source, request } = envelope.data;

  const address = clientAddress(await headers());
  const limit = takeRunToken(source, address);
  if (!limit.ok) return { ok: false, error: rateLimitMessage(limit.retryAfterS), rateLimited: true, retryAfterS: limit.retryAfterS };

  try {
    const run = createRun(webDatabase(), webConfig().runSettings, request, null, addressOwner(address));
    webBus().commandWorkers({ type: "wake" });
    return { ok: true, id: run.id };
  } catch (error) {
    if (error instanceof ApiError && error.code === "rate_limited") {
      return { ok: false, error: error.message, rateLimited: true, retryAfterS: error.details.retryAfterS };
    }
    if (error instanceof ApiError) return { ok: false, error: error.message };
    throw error;
  }
}
