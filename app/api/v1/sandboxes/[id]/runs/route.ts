import { requireToken } from "@/lib/auth/api-tokens";
import { webConfig } from "@/lib/config/web-config";
import { webDatabase } from "@/lib/db/web-database";
import { handleApi, readJsonBody } from "@/lib/http/handle-api";
import { runInSandbox } from "@/lib/sandboxes/run-in-sandbox";
import { sandboxRunResponse } from "@/lib/sandboxes/sandbox-run-response";
import { wantsToWait } from "@/lib/runs/wait-for-run";
import { otherMethods } from "@/lib/http/method-not-allowed";

export const dynamic = "force-dynamic";
export const { GET, PUT, PATCH, DELETE } = otherMethods(["POST"]);

export const POST = handleApi(async (request: Request, context: { params: Promise<{ id: string }> }) => {
  const config = webConfig();
  const db = await webDatabase();
  const token = await requireToken(db, request, { sandboxScoped: true });
  const body = await readJsonBody(request, config.maxRequestBytes, { optional: true });
  const limits = { ...config.sandboxSettings.tokenLimits, lifetimeMaxS: config.sandboxSettings.limits.lifetimeMaxS };
  const { id } = await context.params;
  const run = await runInSandbox(db, id, token, limits, body);
  if (!wantsToWait(request)) return Response.json({ runId: run.id, status: "queued" }, { status: 201 });
  return Response.json(await sandboxRunResponse(db, run, true, config.waitMarginMs, request.signal), { status: 201 });
});
