import { requireToken } from "@/lib/auth/api-tokens";
import { webConfig } from "@/lib/config/web-config";
import { webDatabase } from "@/lib/db/web-database";
import { ApiError } from "@/lib/http/api-error";
import { handleApi, readJsonBody } from "@/lib/http/handle-api";
import { waitForRun } from "@/lib/runs/wait-for-run";
import { listChunks, toRunView } from "@/lib/runs/run-view";
import { uploadToSandbox } from "@/lib/sandboxes/run-in-sandbox";

export const dynamic = "force-dynamic";

export const POST = handleApi(async (request: Request, context: { params: Promise<{ id: string }> }) => {
  const config = webConfig();
  const db = webDatabase();
  const token = requireToken(db, request);
  const body = await readJsonBody(request, config.maxRequestBytes);
  const upload = uploadToSandbox(db, (await context.params).id, token, config.sandboxSettings.tokenLimits, body);
  const run = await waitForRun(db, upload.run.id, Date.now() + upload.run.timeoutMs + config.waitMarginMs, request.signal);
  if (run?.status !== "succeeded") {
    const view = run ? toRunView(run, listChunks(db, run.id)) : null;
    throw new ApiError("conflict", `could not write ${upload.path}: ${view?.stderr.trim() || run?.error || run?.status || "no result"}`);
  }
  return Response.json({ path: upload.path, size: upload.size }, { status: 201 });
});
