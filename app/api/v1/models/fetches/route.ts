import { requireToken } from "@/lib/auth/api-tokens";
import { webConfig } from "@/lib/config/web-config";
import { webDatabase } from "@/lib/db/web-database";
import { SandpitError } from "@/lib/errors/sandpit-error";
import { handleApi, readJsonBody } from "@/lib/http/handle-api";
import { otherMethods } from "@/lib/http/method-not-allowed";
import { fetchHubModel } from "@/lib/models/fetch-hub-model";

export const dynamic = "force-dynamic";
export const { GET, PUT, PATCH, DELETE } = otherMethods(["POST"]);

/** `{id: "org/model"}`: fetches a hub model into the store now (MODEL_FETCH=1 only), instead of at its first use. */
export const POST = handleApi(async (request: Request) => {
  const config = webConfig();
  await requireToken(await webDatabase(), request);
  const body = (await readJsonBody(request, config.maxRequestBytes)) as { id?: unknown } | null;
  if (typeof body?.id !== "string") throw new SandpitError("validation", 'send {id: "org/model"}', { field: "id" });
  await fetchHubModel(config.modelStore, body.id, AbortSignal.timeout(config.sandboxSettings.provisionTimeoutMs));
  return Response.json({ name: body.id }, { status: 201 });
});
