import { webDatabase } from "@/lib/db/web-database";
import { handleApi } from "@/lib/http/handle-api";
import { cancelRun } from "@/lib/runs/cancel-run";
import { otherMethods } from "@/lib/http/method-not-allowed";

export const dynamic = "force-dynamic";
export const { GET, PUT, PATCH, DELETE } = otherMethods(["POST"]);

export const POST = handleApi(async (_request: Request, context: { params: Promise<{ id: string }> }) => {
  const { id } = await context.params;
  return Response.json(await cancelRun(await webDatabase(), id));
});
