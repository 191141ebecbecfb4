import { requireToken } from "@/lib/auth/api-tokens";
import { webConfig } from "@/lib/config/web-config";
import { webDatabase } from "@/lib/db/web-database";
import { handleApi } from "@/lib/http/handle-api";
import { deleteSandbox } from "@/lib/sandboxes/manage-sandboxes";
import { findOwnedSandbox, toSandboxView } from "@/lib/sandboxes/sandbox-view";
import { otherMethods } from "@/lib/http/method-not-allowed";

export const dynamic = "force-dynamic";
export const { POST, PUT, PATCH } = otherMethods(["GET", "DELETE"]);

type Context = { params: Promise<{ id: string }> };

export const GET = handleApi(async (request: Request, context: Context) => {
  const db = await webDatabase();
  const token = await requireToken(db, request, { sandboxScoped: true });
  return Response.json(toSandboxView(await findOwnedSandbox(db, (await context.params).id, token), webConfig().publicUrl));
});

export const DELETE = handleApi(async (request: Request, context: Context) => {
  const db = await webDatabase();
  const token = await requireToken(db, request, { sandboxScoped: true });
  return Response.json(toSandboxView(await deleteSandbox(db, (await context.params).id, token), webConfig().publicUrl));
});
