import { webConfig } from "@/lib/config/web-config";
import { webDatabase } from "@/lib/db/web-database";
import { SandpitError } from "@/lib/errors/sandpit-error";
import { handleApi } from "@/lib/http/handle-api";
import { isExpiredRun } from "@/lib/runs/expire-old-runs";
import { findRun, listChunks, toRunView } from "@/lib/runs/run-view";
import { waitForRunWithin, wantsToWait } from "@/lib/runs/wait-for-run";
import { otherMethods } from "@/lib/http/method-not-allowed";

export const dynamic = "force-dynamic";
export const { POST, PUT, PATCH, DELETE } = otherMethods(["GET"]);

export const GET = handleApi(async (request: Request, context: { params: Promise<{ id: string }> }) => {
  const { id } = await context.params;
  const db = await webDatabase();
  const run = wantsToWait(request) ? await waitForRunWithin(db, id, webConfig().waitMarginMs, request.signal) : await findRun(db, id);
  if (!run && (await isExpiredRun(db, id))) throw new SandpitError("gone", `run ${id} was deleted: runs are kept for ${webConfig().runRetentionDays} days`);
  if (!run) throw new SandpitError("not_found", `no run with id ${id}`);
  return Response.json(toRunView(run, await listChunks(db, id)));
});
