import { webConfig } from "@/lib/config/web-config";
import { webDatabase } from "@/lib/db/web-database";
import { ApiError } from "@/lib/http/api-error";
import { handleApi } from "@/lib/http/handle-api";
import { findRun, listChunks, toRunView } from "@/lib/runs/run-view";
import { waitForRun } from "@/lib/runs/wait-for-run";

export const dynamic = "force-dynamic";

export const GET = handleApi(async (request: Request, context: { params: Promise<{ id: string }> }) => {
  const { id } = await context.params;
  const db = webDatabase();
  const wait = ["1", "true"].includes(new URL(request.url).searchParams.get("wait") ?? "");
  let run = findRun(db, id);
  if (!run) throw new ApiError("not_found", `no run with id ${id}`);
  if (wait) {
    // Up to the run's own timeout plus a margin for queueing and start-up.
    const deadline = Date.now() + run.timeoutMs + webConfig().waitMarginMs;
    run = (await waitForRun(db, id, deadline, request.signal)) ?? run;
  }
  return Response.json(toRunView(run, listChunks(db, id)));
});
