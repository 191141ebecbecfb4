import { webDatabase } from "@/lib/db/web-database";
import { requireToken } from "@/lib/auth/api-tokens";
import { handleApi } from "@/lib/http/handle-api";

export const dynamic = "force-dynamic";

export const GET = handleApi((request: Request) => {
  const token = requireToken(webDatabase(), request);
  return Response.json({ username: token.name, tokenId: token.id });
});
