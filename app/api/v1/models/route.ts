import { webConfig } from "@/lib/config/web-config";
import { webDatabase } from "@/lib/db/web-database";
import { handleApi } from "@/lib/http/handle-api";
import { listModels } from "@/lib/models/list-models";
import { gpuAvailability } from "@/lib/workers/gpu-availability";
import { otherMethods } from "@/lib/http/method-not-allowed";

export const dynamic = "force-dynamic";
export const { POST, PUT, PATCH, DELETE } = otherMethods(["GET"]);

export const GET = handleApi(async () => {
  const { modelsDir } = webConfig();
  return Response.json({ models: listModels(modelsDir), modelsDir, gpu: await gpuAvailability(await webDatabase()) });
});
