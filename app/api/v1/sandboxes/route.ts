import { requireToken } from "@/lib/auth/api-tokens";
import { webConfig } from "@/lib/config/web-config";
import { webDatabase } from "@/lib/db/web-database";
import { ApiError } from "@/lib/http/api-error";
import { sandboxFailureApiError } from "@/lib/requirements/requirements-errors";
import { handleApi, readJsonBody } from "@/lib/http/handle-api";
import { webBus } from "@/lib/realtime/web-bus";
import { requestSandbox, waitForSandbox } from "@/lib/sandboxes/manage-sandboxes";
import { toSandboxView } from "@/lib/sandboxes/sandbox-view";
import { otherMethods } from "@/lib/http/method-not-allowed";

export const dynamic = "force-dynamic";
export const { GET, PUT, PATCH, DELETE } = otherMethods(["POST"]);

/** Creates a sandbox and answers once it is ready (container started, requirements installed). */
export const POST = handleApi(async (request: Request) => {
  const config = webConfig();
  const db = webDatabase();
  const token = requireToken(db, request, { sandboxScoped: true });
  const body = await readJsonBody(request, config.maxRequestBytes);
  const created = requestSandbox(db, config.sandboxSettings, token, body);
  webBus().commandWorkers({ type: "wake" });
  const sandbox = await waitForSandbox(db, created.id, Date.now() + config.sandboxSettings.provisionTimeoutMs);
  if (sandbox.status === "error") throw sandboxFailureApiError(sandbox);
  if (sandbox.status === "creating") throw new ApiError("unavailable", "no worker provisioned the sandbox in time; is a worker running?");
  if (sandbox.status !== "ready") throw new ApiError("conflict", `the sandbox was ${sandbox.status} before it was ready`);
  return Response.json(toSandboxView(sandbox), { status: 201 });
});
