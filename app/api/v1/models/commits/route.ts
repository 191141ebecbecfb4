import { requireToken } from "@/lib/auth/api-tokens";
import { webConfig } from "@/lib/config/web-config";
import { webDatabase } from "@/lib/db/web-database";
import { handleApi, readJsonBody } from "@/lib/http/handle-api";
import { otherMethods } from "@/lib/http/method-not-allowed";
import { commitModel } from "@/lib/models/commit-model";
import { parseModelManifest } from "@/lib/models/parse-model-manifest";

export const dynamic = "force-dynamic";
export const { GET, PUT, PATCH, DELETE } = otherMethods(["POST"]);

/** Step 3: the same manifest again; the model folder appears whole (409 while a blob is missing). */
export const POST = handleApi(async (request: Request) => {
  const config = webConfig();
  await requireToken(await webDatabase(), request);
  const manifest = parseModelManifest(await readJsonBody(request, config.maxRequestBytes), config.modelStore);
  return Response.json(await commitModel(config.modelStore.modelsDir, manifest), { status: 201 });
});
