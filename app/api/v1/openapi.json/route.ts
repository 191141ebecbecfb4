import { webConfig } from "@/lib/config/web-config";
import { handleApi } from "@/lib/http/handle-api";
import { buildOpenApiDocument } from "@/lib/openapi/build-openapi-document";
import { otherMethods } from "@/lib/http/method-not-allowed";

export const dynamic = "force-dynamic";
export const { POST, PUT, PATCH, DELETE } = otherMethods(["GET"]);

export const GET = handleApi(() => {
  const config = webConfig();
  return Response.json(buildOpenApiDocument(config.sandboxSettings.limits, config.publicUrl));
});
