import dns from "node:dns/promises";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { makeHostSocketDir, serveOnHostSocket } from "./host-socket-dir";

/**
 * The only way out of a requirements fetch container (NetworkMode none): an HTTP forwarding proxy the worker
 * serves on a Unix socket bind-mounted into that container. It reaches the configured registry hosts alone
 * (host:port, exact match) and nothing else; a configured host *name* must not resolve to a loopback, private,
 * link-local or metadata address (a configured IP literal is taken as the operator wrote it: tests use loopback).
 */
export const PROXY_SOCKET_NAME = "proxy.sock";
/** Where the per-build socket folder appears inside the fetch container. */
export const PROXY_MOUNT = "/run/sandpit-proxy";
const CONNECT_TIMEOUT_MS = 15_000;

/** "host:port" (lower case, default port filled in) of each URL or bare `host[:port]` entry. */
export function registryHostPorts(entries: string[]): Set<string> {
  const allowed = new Set<string>();
  for (const entry of entries) {
    const trimmed = entry.trim();
    if (!trimmed) continue;
    const url = new URL(trimmed.includes("://") ? trimmed : `https://${trimmed}`);
    const port = url.port || (url.protocol === "http:" ? "80" : "443");
    // URL keeps an IPv6 literal's brackets; parseTarget's hosts have none.
    allowed.add(`${url.hostname.replace(/^\[|\]$/g, "").toLowerCase()}:${port}`);
  }
  return allowed;
}

/** Splits a CONNECT authority or absolute URL into host and port; null when it is not one. */
export function parseTarget(target: string, defaultPort: number): { host: string; port: number } | null {
  if (target.length > 512) return null;
  try {
    const url = new URL(target.includes("://") ? target : `http://${target}`);
    const port = Number(url.port || (url.protocol === "https:" ? 443 : defaultPort));
    const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
    if (!host || !Number.isInteger(port) || port < 1 || port > 65535) return null;
    return { host, port };
  } catch {
    return null;
  }
}

/** Loopback, private, link-local (cloud metadata), CGNAT, unspecified, multicast: never a public registry. */
export function isInternalAddress(address: string): boolean {
  if (net.isIPv4(address)) {
    const [a, b] = address.split(".").map(Number);
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b < 128) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b < 32) ||
      (a === 192 && b === 168) ||
      a >= 224
    );
  }
  if (net.isIPv6(address)) {
    const lower = address.toLowerCase();
    const mapped = lower.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/);
    if (mapped) return isInternalAddress(mapped[1]);
    return lower === "::" || lower === "::1" || /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower) || lower.startsWith("ff");
  }
  return true;
}

/**
 * The allowlist decision: the address to connect to, or why not. Only a configured host:port passes; a
 * configured name is resolved here (the container resolves nothing) and must resolve to a public address.
 */
export async function resolveAllowedTarget(
  allowed: Set<string>,
  host: string,
  port: number,
  lookup: (host: string) => Promise<string> = async (name) => (await dns.lookup(name)).address,
): Promise<{ address: string } | { refused: string }> {
  if (!allowed.has(`${host}:${port}`)) return { refused: `${host}:${port} is not a configured package registry` };
  if (net.isIP(host)) return { address: host };
  const address = await lookup(host).catch(() => null);
  if (!address) return { refused: `${host} does not resolve` };
  if (isInternalAddress(address)) return { refused: `${host} resolves to an internal address` };
  return { address };
}

export type RegistryProxy = { hostDir: string; close(): Promise<void> };

const PROXY_DIR_PREFIX = "sandpit-proxy-";

/** Starts the proxy on a socket in a fresh 0700 folder owned by the sandbox user; close() removes it all. */
export async function startRegistryProxy(allowed: Set<string>): Promise<RegistryProxy> {
  const hostDir = makeHostSocketDir(PROXY_DIR_PREFIX);
  const socketPath = path.join(hostDir, PROXY_SOCKET_NAME);
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  };
  const server = http.createServer({ maxHeaderSize: 16 * 1024 });
  server.on("connection", track);

  // HTTPS registries: CONNECT host:443, then bytes both ways (TLS is end to end, between npm/pip and the registry).
  server.on("connect", (request: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const target = parseTarget(request.url ?? "", 443);
    void (async () => {
      const decision = target ? await resolveAllowedTarget(allowed, target.host, target.port) : { refused: "bad CONNECT target" };
      if ("refused" in decision) return client.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\n\r\n${decision.refused}\n`);
      const upstream = net.connect({ host: decision.address, port: target!.port, timeout: CONNECT_TIMEOUT_MS });
      track(upstream);
      upstream.once("connect", () => {
        upstream.setTimeout(0);
        client.write("HTTP/1.1 200 Connection established\r\n\r\n");
        if (head.length) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.once("timeout", () => upstream.destroy());
      upstream.once("error", () => client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n"));
      client.once("close", () => upstream.destroy());
    })();
  });

  // Plain-HTTP registries (a test's loopback one): absolute-form requests, each checked on its own.
  server.on("request", (request: http.IncomingMessage, response: http.ServerResponse) => {
    const target = (request.url ?? "").startsWith("http://") ? parseTarget(request.url ?? "", 80) : null;
    void (async () => {
      const decision = target ? await resolveAllowedTarget(allowed, target.host, target.port) : { refused: "not an absolute http:// URL" };
      if ("refused" in decision) return response.writeHead(403, { "content-type": "text/plain" }).end(`${decision.refused}\n`);
      const url = new URL(request.url!);
      const headers: http.OutgoingHttpHeaders = { ...request.headers, host: url.host, connection: "close" };
      delete headers["proxy-connection"];
      delete headers["proxy-authorization"];
      const upstream = http.request(
        { host: decision.address, port: target!.port, method: request.method, path: url.pathname + url.search, headers, timeout: CONNECT_TIMEOUT_MS },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      upstream.on("timeout", () => upstream.destroy(new Error("timeout")));
      upstream.on("error", () => (response.headersSent ? response.destroy() : response.writeHead(502).end()));
      request.pipe(upstream);
    })();
  });

  return serveOnHostSocket(server, hostDir, socketPath, sockets);
}
