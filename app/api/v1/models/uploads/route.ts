import { requireToken } from "@/lib/auth/api-tokens";
import { webConfig } from "@/lib/config/web-config";
import { webDatabase } from "@/lib/db/web-database";
import { handleApi, readJsonBody } from "@/lib/http/handle-api";
import { otherMethods } from "@/lib/http/method-not-allowed";
import { parseModelManifest } from "@/lib/models/parse-model-manifest";
import { planModelUpload } from "@/lib/models/plan-model-upload";

export const dynamic = "force-dynamic";
export const { GET, PUT, PATCH, DELETE } = otherMethods(["POST"]);

/** Step 1 of an upload: the manifest in, the blobs the store still lacks (with resume offsets) out. Repeatable. */
export const POST = handleApi(async (request: Request) => {
  const config = webConfig();
  await requireToken(await webDatabase(), request);
  const manifest = parseModelManifest(await readJsonBody(request, config.maxRequestBytes), config.modelStore);
  const plan = planModelUpload(config.modelStore.modelsDir, manifest);
  return Response.json({ name: manifest.name, totalBytes: manifest.totalBytes, ...plan, chunkMaxBytes: config.modelStore.chunkMaxBytes });
});
