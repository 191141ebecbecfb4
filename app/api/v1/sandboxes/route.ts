import { requireToken } from "@/lib/auth/api-tokens";
import { webConfig } from "@/lib/config/web-config";
import { webDatabase } from "@/lib/db/web-database";
import { SandpitError } from "@/lib/errors/sandpit-error";
import { sandboxFailureError } from "@/lib/requirements/requirements-errors";
import { handleApi, readJsonBody } from "@/lib/http/handle-api";
import { fetchRequestedModel } from "@/lib/models/fetch-hub-model";
import { requestSandbox, waitForSandbox } from "@/lib/sandboxes/manage-sandboxes";
import { toSandboxView } from "@/lib/sandboxes/sandbox-view";
import { otherMethods } from "@/lib/http/method-not-allowed";

export const dynamic = "force-dynamic";
export const { GET, PUT, PATCH, DELETE } = otherMethods(["POST"]);

/** Creates a sandbox and answers once it is ready (container started, requirements installed). */
export const POST = handleApi(async (request: Request) => {
  const config = webConfig();
  const db = await webDatabase();
  const token = await requireToken(db, request, { sandboxScoped: true });
  const body = await readJsonBody(request, config.maxRequestBytes);
  await fetchRequestedModel(config.modelStore, body, config.sandboxSettings.provisionTimeoutMs);
  const created = await requestSandbox(db, config.sandboxSettings, token, body);
  const sandbox = await waitForSandbox(db, created.id, Date.now() + config.sandboxSettings.provisionTimeoutMs);
  if (sandbox.status === "error") throw sandboxFailureError(sandbox);
  if (sandbox.status === "creating") throw new SandpitError("unavailable", "no worker provisioned the sandbox in time; is a worker running?");
  if (sandbox.status !== "ready") throw new SandpitError("conflict", `the sandbox was ${sandbox.status} before it was ready`);
  return Response.json(toSandboxView(sandbox, config.publicUrl), { status: 201 });
});
