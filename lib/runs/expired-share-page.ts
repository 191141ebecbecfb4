import type { IncomingMessage, ServerResponse } from "node:http";
import type { SandpitDb } from "@/lib/db/open-database";
import { isExpiredRun } from "./expire-old-runs";

const SHARE_PREFIXES = ["/r/", "/embed/"];
const MAX_ID_LENGTH = 64;

/**
 * `/r/<id>` and `/embed/<id>` of a run that retention deleted: 410 Gone with a short page saying so (a run
 * that never existed stays Next's 404). Answered here, ahead of Next, because a page component cannot set
 * the status to 410. Returns true when it answered.
 */
export async function answerExpiredSharePage(request: IncomingMessage, response: ServerResponse, db: SandpitDb, retentionDays: number): Promise<boolean> {
  if (request.method !== "GET" && request.method !== "HEAD") return false;
  const path = (request.url ?? "").split("?", 1)[0];
  const prefix = SHARE_PREFIXES.find((candidate) => path.startsWith(candidate));
  if (!prefix) return false;
  const id = path.slice(prefix.length);
  if (id.length === 0 || id.length > MAX_ID_LENGTH || id.includes("/")) return false;
  if (!(await isExpiredRun(db, id))) return false;
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>Run expired · Sandpit</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem; line-height: 1.5">
<h1>This run has expired</h1>
<p>Sandpit keeps runs and their output for ${retentionDays} days; this one was deleted after that.</p>
<p><a href="/">Open the playground</a></p>
</body></html>
`;
  response.writeHead(410, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "content-length": Buffer.byteLength(body) });
  response.end(request.method === "HEAD" ? undefined : body);
  return true;
}
