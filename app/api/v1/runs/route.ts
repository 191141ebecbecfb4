import { webConfig } from "@/lib/config/web-config";
import { webDatabase } from "@/lib/db/web-database";
import { handleApi, readJsonBody } from "@/lib/http/handle-api";
import { webBus } from "@/lib/realtime/web-bus";
import { createRun } from "@/lib/runs/create-run";

export const dynamic = "force-dynamic";

export const POST = handleApi(async (request: Request) => {
  const config = webConfig();
  const body = await readJsonBody(request, config.maxRequestBytes);
  const run = createRun(webDatabase(), config.runSettings, body);
  webBus().commandWorkers({ type: "wake" });
  return Response.json({ ...run, url: `${config.publicUrl}/r/${run.id}` }, { status: 201 });
});
