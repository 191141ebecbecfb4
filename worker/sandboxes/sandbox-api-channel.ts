import { makeHostSocketDir, serveOnHostSocket } from "./host-socket-dir";
import http from "node:http";
import type net from "node:net";
import path from "node:path";

/**
 * A nested sandbox's only way out (its container still has NetworkMode none): an HTTP server the worker
 * serves on a Unix socket in a per-sandbox host folder, bind-mounted into the container. It forwards the
 * sandbox API's own routes (method and path allow-listed, sizes bounded) to the web server, adding the
 * sandbox's scoped token itself: the token never enters the container, and whatever Authorization the
 * sandbox sends is dropped. Anything else (other paths, absolute-URL or CONNECT proxying, upgrades) is refused.
 */
export const CHANNEL_SOCKET_NAME = "api.sock";
/** Where the socket folder appears inside the sandbox. */
export const CHANNEL_MOUNT = "/run/sandpit-api";
/** The in-sandbox relay's port: SANDPIT_API_URL is http://127.0.0.1:CHANNEL_RELAY_PORT. */
export const CHANNEL_RELAY_PORT = 7070;
/**
 * The SDKs need some token to send (SANDPIT_API_TOKEN, the SDKs' own variable; the name SANDPIT_TOKEN is taken
 * by the images' run protocol, images/base/recv); the channel replaces it with the real one.
 */
export const CHANNEL_TOKEN_PLACEHOLDER = "sandbox-channel";

const MAX_URL_CHARS = 1024;
/** A file upload (4 MiB of base64) and its JSON fit; the web server has its own, possibly lower, cap. */
const MAX_BODY_BYTES = 6 * 1024 * 1024;
const MAX_CONNECTIONS = 16;
const SEGMENT = "[A-Za-z0-9_-]{1,64}";
/** The sandbox API, exactly: one anchored pattern per route, over the raw (un-normalised) path. */
const ALLOWED_ROUTES: { methods: string[]; pattern: RegExp }[] = [
  { methods: ["POST"], pattern: /^\/api\/v1\/sandboxes$/ },
  { methods: ["GET", "DELETE"], pattern: new RegExp(`^/api/v1/sandboxes/${SEGMENT}$`) },
  { methods: ["POST"], pattern: new RegExp(`^/api/v1/sandboxes/${SEGMENT}/runs$`) },
  { methods: ["GET"], pattern: new RegExp(`^/api/v1/sandboxes/${SEGMENT}/runs/${SEGMENT}$`) },
  { methods: ["GET", "POST"], pattern: new RegExp(`^/api/v1/sandboxes/${SEGMENT}/files$`) },
];
/** Request headers passed on; everything else (cookies, forwarding headers, Authorization) is dropped. */
const FORWARDED_REQUEST_HEADERS = ["content-type", "content-length", "accept"];
const FORWARDED_RESPONSE_HEADERS = ["content-type", "content-length", "retry-after"];

/** Why the channel refuses a request line, or null when it is a sandbox API route. */
export function refusalOf(method: string | undefined, url: string | undefined): string | null {
  if (!method || !url) return "malformed request";
  if (url.length > MAX_URL_CHARS) return "request target too long";
  if (!url.startsWith("/")) return "the channel is not a proxy: send origin-form requests to the sandbox API";
  const pathname = url.split("?", 1)[0];
  const route = ALLOWED_ROUTES.find((candidate) => candidate.pattern.test(pathname));
  if (!route) return `${pathname.slice(0, 200)} is not part of the sandbox API; this channel reaches /api/v1/sandboxes only`;
  if (!route.methods.includes(method)) return `${method} is not allowed on ${pathname.slice(0, 200)}`;
  return null;
}

export type SandboxApiChannel = { hostDir: string; close(): Promise<void> };

export type ChannelOptions = {
  /** The web server, e.g. http://127.0.0.1:3000 (the worker's WEB_URL). */
  webUrl: string;
  token: string;
  /** No request outlives its sandbox: past this instant (epoch ms) the channel cuts it (read from the database). */
  deadline: () => Promise<number>;
};

const DIR_PREFIX = "sandpit-channel-";

function refuse(response: http.ServerResponse, status: number, message: string): void {
  if (response.headersSent) return void response.destroy();
  response.writeHead(status, { "content-type": "application/json", connection: "close" }).end(JSON.stringify({ error: message, code: "channel_refused" }));
}

/** Starts a channel on a socket in a fresh 0700 folder owned by the sandbox user; close() ends it and removes it all. */
export async function startSandboxApiChannel(options: ChannelOptions): Promise<SandboxApiChannel> {
  const web = new URL(options.webUrl);
  const hostDir = makeHostSocketDir(DIR_PREFIX);
  const socketPath = path.join(hostDir, CHANNEL_SOCKET_NAME);
  const sockets = new Set<net.Socket>();
  const server = http.createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 0 });
  server.maxConnections = MAX_CONNECTIONS;
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  });
  // CONNECT and upgrades (websockets) are never forwarded.
  server.on("connect", (_request, socket: net.Socket) => socket.end("HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n"));
  server.on("upgrade", (_request, socket: net.Socket) => socket.end("HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n"));

  // The request body stays paused (nothing reads it) while the deadline is looked up.
  const forward = async (request: http.IncomingMessage, response: http.ServerResponse) => {
    const refusal = refusalOf(request.method, request.url);
    if (refusal) {
      request.resume();
      return refuse(response, 403, refusal);
    }
    const declared = Number(request.headers["content-length"] ?? 0);
    if (!Number.isFinite(declared) || declared > MAX_BODY_BYTES) {
      request.resume();
      return refuse(response, 413, `request bodies through the channel are at most ${MAX_BODY_BYTES} bytes`);
    }
    const remainingMs = (await options.deadline()) - Date.now();
    if (remainingMs <= 0) return refuse(response, 410, "this sandbox has ended");

    const headers: http.OutgoingHttpHeaders = { host: web.host, authorization: `Bearer ${options.token}`, connection: "close" };
    for (const name of FORWARDED_REQUEST_HEADERS) if (request.headers[name] !== undefined) headers[name] = request.headers[name];
    const upstream = http.request({
      protocol: web.protocol,
      hostname: web.hostname,
      port: web.port || (web.protocol === "https:" ? 443 : 80),
      method: request.method,
      path: request.url,
      headers,
    });
    const cut = setTimeout(() => {
      upstream.destroy(new Error("sandbox deadline"));
      refuse(response, 504, "the sandbox's time ran out before the API answered");
    }, remainingMs);
    upstream.on("response", (answer) => {
      const passed: http.OutgoingHttpHeaders = {};
      for (const name of FORWARDED_RESPONSE_HEADERS) if (answer.headers[name] !== undefined) passed[name] = answer.headers[name];
      response.writeHead(answer.statusCode ?? 502, passed);
      answer.pipe(response);
      answer.on("end", () => clearTimeout(cut));
    });
    upstream.on("error", () => {
      clearTimeout(cut);
      refuse(response, 502, "the sandbox API did not answer");
    });
    response.on("close", () => {
      clearTimeout(cut);
      upstream.destroy();
    });
    let received = 0;
    request.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_BODY_BYTES) {
        upstream.destroy();
        request.unpipe(upstream);
        refuse(response, 413, `request bodies through the channel are at most ${MAX_BODY_BYTES} bytes`);
      }
    });
    request.pipe(upstream);
  };
  server.on("request", (request: http.IncomingMessage, response: http.ServerResponse) => {
    forward(request, response).catch((error: unknown) => {
      console.error("[worker] sandbox API channel failed:", (error as Error).message);
      request.resume();
      refuse(response, 503, "the sandbox API channel could not check the sandbox");
    });
  });

  return serveOnHostSocket(server, hostDir, socketPath, sockets);
}
