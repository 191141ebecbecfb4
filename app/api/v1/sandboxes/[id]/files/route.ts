import { requireToken } from "@/lib/auth/api-tokens";
import { webConfig } from "@/lib/config/web-config";
import { webDatabase } from "@/lib/db/web-database";
import type { RunRow } from "@/lib/db/schema";
import { SandpitError } from "@/lib/errors/sandpit-error";
import { handleApi, readJsonBody } from "@/lib/http/handle-api";
import { waitForRun } from "@/lib/runs/wait-for-run";
import { listChunks, toRunView, type RunView } from "@/lib/runs/run-view";
import { downloadFromSandbox, uploadToSandbox } from "@/lib/sandboxes/run-in-sandbox";
import { MISSING_EXIT, REFUSED_EXIT } from "@/lib/sandboxes/sandbox-file-commands";

export const dynamic = "force-dynamic";

type Context = { params: Promise<{ id: string }> };

/** Waits for a file transfer run and turns anything but success into an error that says why. */
async function finish(request: Request, run: RunRow, path: string): Promise<RunView> {
  const config = webConfig();
  const db = await webDatabase();
  const ended = await waitForRun(db, run.id, Date.now() + run.timeoutMs + config.waitMarginMs, request.signal);
  const view = ended ? toRunView(ended, await listChunks(db, ended.id)) : null;
  if (view?.status === "succeeded" && !view.truncated) return view;
  if (view?.truncated) throw new SandpitError("too_large", `${path} is larger than the transfer limit`);
  const reason = view?.stderr.trim() || ended?.error || ended?.status || "no result";
  if (view?.exitCode === MISSING_EXIT) throw new SandpitError("not_found", reason);
  if (view?.exitCode === REFUSED_EXIT) throw new SandpitError("conflict", reason);
  // The platform failed (the engine lost the exec, say): not the client's doing, so not a 4xx.
  if (ended?.status === "error") throw new SandpitError("unavailable", `could not transfer ${path}: ${reason}`, { retryAfterS: 1 });
  throw new SandpitError("conflict", `could not transfer ${path}: ${reason}`);
}

export const POST = handleApi(async (request: Request, context: Context) => {
  const config = webConfig();
  const db = await webDatabase();
  const token = await requireToken(db, request, { sandboxScoped: true });
  const body = await readJsonBody(request, config.maxRequestBytes);
  const upload = await uploadToSandbox(db, (await context.params).id, token, config.sandboxSettings.tokenLimits, body);
  await finish(request, upload.run, upload.path);
  return Response.json({ path: upload.path, size: upload.size }, { status: 201 });
});

/** `GET ?path=data/out.csv` → `{path, size, content}` (base64). */
export const GET = handleApi(async (request: Request, context: Context) => {
  const config = webConfig();
  const db = await webDatabase();
  const token = await requireToken(db, request, { sandboxScoped: true });
  const path = new URL(request.url).searchParams.get("path") ?? undefined;
  const download = await downloadFromSandbox(db, (await context.params).id, token, config.sandboxSettings.tokenLimits, path);
  const view = await finish(request, download.run, download.path);
  const content = view.stdout.trim();
  return Response.json({ path: download.path, size: Buffer.from(content, "base64").length, content });
});
