import { webDatabase } from "@/lib/db/web-database";
import { requireToken } from "@/lib/auth/api-tokens";
import { handleApi } from "@/lib/http/handle-api";
import { otherMethods } from "@/lib/http/method-not-allowed";
import { describeLiveWorkers } from "@/lib/workers/worker-registry";
import { gpuAvailability } from "@/lib/workers/gpu-availability";

export const dynamic = "force-dynamic";
export const { POST, PUT, PATCH, DELETE } = otherMethods(["GET"]);

/** Live workers and the boundary they run sandboxes under (which gVisor build and platform). Token-only: a version is an attacker's map. */
export const GET = handleApi(async (request: Request) => {
  const db = await webDatabase();
  await requireToken(db, request);
  return Response.json({ workers: await describeLiveWorkers(db), gpus: await gpuAvailability(db) });
});
