import { requireToken } from "@/lib/auth/api-tokens";
import { webConfig } from "@/lib/config/web-config";
import { webDatabase } from "@/lib/db/web-database";
import { SandpitError } from "@/lib/errors/sandpit-error";
import { handleApi } from "@/lib/http/handle-api";
import { otherMethods } from "@/lib/http/method-not-allowed";
import { quoteClientInput } from "@/lib/http/quote-client-input";
import { deleteModel } from "@/lib/models/delete-model";
import { listModels } from "@/lib/models/list-models";

export const dynamic = "force-dynamic";
export const { POST, PUT, PATCH } = otherMethods(["GET", "DELETE"]);

type Context = { params: Promise<{ name: string[] }> };

/** One model: `/api/v1/models/org/model`. */
export const GET = handleApi(async (_request: Request, context: Context) => {
  const name = (await context.params).name.join("/");
  const model = listModels(webConfig().modelStore.modelsDir).find((entry) => entry.name === name);
  if (!model) throw new SandpitError("not_found", `model ${quoteClientInput(name)} is not in the model store`);
  return Response.json(model);
});

export const DELETE = handleApi(async (request: Request, context: Context) => {
  const db = await webDatabase();
  await requireToken(db, request);
  const name = (await context.params).name.join("/");
  await deleteModel(db, webConfig().modelStore.modelsDir, name);
  return new Response(null, { status: 204 });
});
