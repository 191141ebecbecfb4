import { webDatabase } from "@/lib/db/web-database";
import { requireToken, whoAmI } from "@/lib/auth/api-tokens";
import { handleApi } from "@/lib/http/handle-api";
import { otherMethods } from "@/lib/http/method-not-allowed";

export const dynamic = "force-dynamic";
export const { POST, PUT, PATCH, DELETE } = otherMethods(["GET"]);

export const GET = handleApi(async (request: Request) => {
  const token = await requireToken(await webDatabase(), request);
  return Response.json(whoAmI(token));
});
