import { requireToken } from "@/lib/auth/api-tokens";
import { webConfig } from "@/lib/config/web-config";
import { webDatabase } from "@/lib/db/web-database";
import { SandpitError } from "@/lib/errors/sandpit-error";
import { handleApi } from "@/lib/http/handle-api";
import { findRun } from "@/lib/runs/run-view";
import { sandboxRunResponse } from "@/lib/sandboxes/sandbox-run-response";
import { wantsToWait } from "@/lib/runs/wait-for-run";
import { findOwnedSandbox } from "@/lib/sandboxes/sandbox-view";
import { otherMethods } from "@/lib/http/method-not-allowed";

export const dynamic = "force-dynamic";
export const { POST, PUT, PATCH, DELETE } = otherMethods(["GET"]);

export const GET = handleApi(async (request: Request, context: { params: Promise<{ id: string; runId: string }> }) => {
  const db = await webDatabase();
  const token = await requireToken(db, request, { sandboxScoped: true });
  const { id, runId } = await context.params;
  await findOwnedSandbox(db, id, token);
  const run = await findRun(db, runId);
  if (!run || run.sandboxId !== id) throw new SandpitError("not_found", `no run ${runId} in sandbox ${id}`);
  return Response.json(await sandboxRunResponse(db, run, wantsToWait(request), webConfig().waitMarginMs, request.signal));
});
