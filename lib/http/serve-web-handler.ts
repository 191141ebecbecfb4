import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";

/** A JSON answer served outside Next.js still gets strict headers: nothing in it may run, no site may frame it. */
const API_SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "strict-origin-when-cross-origin",
};

/**
 * Serves a Web-standard handler (the same function a Next.js route exports) straight from the Node server,
 * for the hot path of the API: it skips Next's routing and the page proxy, about 10 ms a request here.
 * The request's signal aborts when the client goes away, as it does under Next.
 */
export async function serveWebHandler(incoming: IncomingMessage, outgoing: ServerResponse, handler: (request: Request) => Promise<Response>): Promise<void> {
  const abort = new AbortController();
  outgoing.on("close", () => {
    if (!outgoing.writableFinished) abort.abort();
  });
  try {
    const headers = new Headers();
    for (const [name, value] of Object.entries(incoming.headers)) {
      for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, item);
    }
    const hasBody = incoming.method !== "GET" && incoming.method !== "HEAD";
    // Only the path and query are read from the URL; the host header is the client's to choose, so it is not used.
    const request = new Request(new URL(incoming.url ?? "/", "http://localhost"), {
      method: incoming.method,
      headers,
      body: hasBody ? (Readable.toWeb(incoming) as ReadableStream<Uint8Array>) : undefined,
      duplex: "half",
      signal: abort.signal,
    } as RequestInit);
    const response = await handler(request);
    const body = Buffer.from(await response.arrayBuffer());
    // A body left unread (refused as too large, say) leaves the connection unusable: close it, and say so,
    // or a keep-alive client sends its next request into a socket that is about to be reset.
    const unread = !incoming.complete;
    outgoing.writeHead(response.status, {
      ...Object.fromEntries(response.headers),
      ...API_SECURITY_HEADERS,
      "content-length": body.length,
      ...(unread ? { connection: "close" } : {}),
    });
    outgoing.end(body);
  } catch (error) {
    console.error("[web] fast-path handler failed", error);
    if (outgoing.headersSent) return void outgoing.destroy();
    const body = JSON.stringify({ error: "internal error", code: "internal" });
    outgoing.writeHead(500, { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...API_SECURITY_HEADERS, connection: "close" });
    outgoing.end(body);
  }
}
