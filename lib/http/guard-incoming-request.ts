import type { IncomingMessage, ServerResponse } from "node:http";
import { isSameOrigin } from "./same-origin";

/** Headers a reverse proxy sets; without one in front of us, they are whatever the client chose to send. */
const FORWARDING_HEADERS = ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port", "x-real-ip"];
const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export type GuardOptions = { trustProxy: boolean };

/**
 * Runs before Next.js on every HTTP request (Socket.IO has its own check). Without a trusted proxy the
 * forwarding headers are replaced by the socket's own address, so a client cannot pick its rate-limit key.
 * State-changing requests (server actions, API calls) from another origin or `Origin: null` get a 403:
 * we never serve CORS, so a browser on another site has no business posting here.
 * Returns true when it answered the request itself.
 */
export function guardIncomingRequest(request: IncomingMessage, response: ServerResponse, { trustProxy }: GuardOptions): boolean {
  if (!trustProxy) {
    for (const name of FORWARDING_HEADERS) delete request.headers[name];
    request.headers["x-forwarded-for"] = request.socket.remoteAddress ?? "unknown";
  }
  if (UNSAFE_METHODS.has(request.method ?? "") && !isSameOrigin(request.headers, trustProxy)) {
    const body = JSON.stringify({ error: "cross-origin request refused: this endpoint only accepts requests from its own site", code: "forbidden" });
    response.writeHead(403, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    response.end(body);
    return true;
  }
  return false;
}
