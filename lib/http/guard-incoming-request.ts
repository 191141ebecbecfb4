import type { IncomingMessage, ServerResponse } from "node:http";
import { isSameOrigin } from "./same-origin";

/** Headers a reverse proxy sets; without one in front of us, they are whatever the client chose to send. */
const FORWARDING_HEADERS = ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port", "x-real-ip"];
const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** `maxRequestBytes`: server-action bodies over it get a 413 here (Next.js would answer its own limit with a 500). */
export type GuardOptions = { trustProxy: boolean; maxRequestBytes?: number };

/**
 * Runs before Next.js on every HTTP request (Socket.IO has its own check). Without a trusted proxy the
 * forwarding headers are replaced by the socket's own address, so a client cannot pick its rate-limit key.
 * State-changing requests (server actions, API calls) from another origin or `Origin: null` get a 403:
 * we never serve CORS, so a browser on another site has no business posting here.
 * Returns true when it answered the request itself.
 */
export function guardIncomingRequest(request: IncomingMessage, response: ServerResponse, { trustProxy, maxRequestBytes }: GuardOptions): boolean {
  if (!trustProxy) {
    for (const name of FORWARDING_HEADERS) delete request.headers[name];
    request.headers["x-forwarded-for"] = request.socket.remoteAddress ?? "unknown";
  }
  if (UNSAFE_METHODS.has(request.method ?? "") && !isSameOrigin(request.headers, trustProxy)) {
    return refuse(response, 403, "forbidden", "cross-origin request refused: this endpoint only accepts requests from its own site");
  }
  if (maxRequestBytes !== undefined && request.method === "POST" && request.headers["next-action"] !== undefined) {
    // Browsers send server-action bodies with a length; a body without one, or over the limit, is refused unread.
    const declared = Number(request.headers["content-length"] ?? Number.NaN);
    if (!Number.isFinite(declared)) return refuse(response, 411, "validation", "a server action needs a content-length");
    if (declared > maxRequestBytes) return refuse(response, 413, "too_large", `request body is over the ${maxRequestBytes}-byte limit`);
  }
  // Next.js answers a path it cannot percent-decode with a bare 500; it is the client's mistake.
  if (!decodesCleanly(request.url ?? "/")) return refuse(response, 400, "validation", "the request path is not valid percent-encoded UTF-8");
  return false;
}

function decodesCleanly(url: string): boolean {
  const pathname = url.split(/[?#]/, 1)[0];
  try {
    decodeURIComponent(pathname);
    return true;
  } catch {
    return false;
  }
}

function refuse(response: ServerResponse, status: number, code: string, message: string): true {
  const body = JSON.stringify({ error: message, code });
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "x-content-type-options": "nosniff" });
  response.end(body);
  return true;
}
