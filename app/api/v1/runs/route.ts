import { authenticate } from "@/lib/auth/api-tokens";
import { assertRunQuota } from "@/lib/auth/token-limits";
import { webConfig } from "@/lib/config/web-config";
import { webDatabase } from "@/lib/db/web-database";
import { handleApi, readJsonBody } from "@/lib/http/handle-api";
import { webBus } from "@/lib/realtime/web-bus";
import { createRun } from "@/lib/runs/create-run";

export const dynamic = "force-dynamic";

export const POST = handleApi(async (request: Request) => {
  const config = webConfig();
  const db = webDatabase();
  // Anonymous runs are allowed; a token, when sent, must be valid and is held to its quota.
  const token = authenticate(db, request);
  if (token) assertRunQuota(db, token.id, config.tokenLimits);
  const body = await readJsonBody(request, config.maxRequestBytes);
  const run = createRun(db, config.runSettings, body, token?.id ?? null);
  webBus().commandWorkers({ type: "wake" });
  return Response.json({ ...run, url: `${config.publicUrl}/r/${run.id}` }, { status: 201 });
});
