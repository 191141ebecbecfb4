import { authenticate } from "@/lib/auth/api-tokens";
import { webConfig } from "@/lib/config/web-config";
import { webDatabase } from "@/lib/db/web-database";
import { handleApi, readJsonBody } from "@/lib/http/handle-api";
import { clientAddress } from "@/lib/rate-limit/client-address";
import { assertRunToken } from "@/lib/rate-limit/run-rate-limit";
import { createRun } from "./create-run";
import { addressOwner, tokenOwner } from "./run-owner";
import { listChunks, toRunView } from "./run-view";
import { waitForRunWithin, wantsToWait } from "./wait-for-run";

/**
 * `POST /api/v1/runs`: queues a run, and with `?wait=1` answers once it ended. The Next.js route exports it,
 * and server.ts serves it directly, ahead of Next, since it is the hot path of every API client.
 */
export const createRunResponse = handleApi(async (request: Request) => {
  const config = webConfig();
  const db = await webDatabase();
  // Anonymous runs are allowed, within a per-client budget; a token, when sent, must be valid and is held to its quota.
  const token = await authenticate(db, request);
  const address = clientAddress(request.headers);
  if (!token) await assertRunToken("api", address);
  const body = await readJsonBody(request, config.maxRequestBytes);
  const run = await createRun(db, config.runSettings, body, token?.id ?? null, token ? tokenOwner(token.id) : addressOwner(address));
  const url = `${config.publicUrl}/r/${run.id}`;
  if (wantsToWait(request)) {
    // One round trip for callers that want the result: answered when the run ends (or its wait runs out).
    const finished = await waitForRunWithin(db, run.id, config.waitMarginMs, request.signal);
    if (finished) return Response.json({ ...toRunView(finished, await listChunks(db, run.id)), url }, { status: 201 });
  }
  return Response.json({ ...run, url }, { status: 201 });
});
