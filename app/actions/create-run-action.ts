"use server";

import { headers } from "next/headers";
import { z } from "zod";
import { serverAction } from "@/lib/actions/action-client";
import { webConfig } from "@/lib/config/web-config";
import { webDatabase } from "@/lib/db/web-database";
import { clientAddress } from "@/lib/rate-limit/client-address";
import { assertRunToken } from "@/lib/rate-limit/run-rate-limit";
import { createRun } from "@/lib/runs/create-run";
import { addressOwner } from "@/lib/runs/run-owner";

/** The envelope the page sends; the run fields inside are validated by createRun's own schema. */
const actionInputSchema = z.object({
  source: z.enum(["playground", "embed"]).default("playground"),
  request: z.record(z.string(), z.unknown()),
});

/** Queues a run from the page or an embed: rate-limited per client, then the same createRun as POST /api/v1/runs. */
export const createRunAction = serverAction(actionInputSchema, async ({ source, request }) => {
  const address = clientAddress(await headers());
  await assertRunToken(source, address);
  const run = await createRun(await webDatabase(), webConfig().runSettings, request, null, addressOwner(address));
  return { id: run.id };
});
