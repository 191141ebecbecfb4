import type { IncomingHttpHeaders } from "node:http";

/**
 * Whether a browser request comes from this site. No Origin at all is not a browser (SDKs, curl, the worker)
 * and passes; `Origin: null` (sandboxed iframes, opaque origins) and any other site are refused.
 * `trustProxy`: a reverse proxy may put the public host in X-Forwarded-Host.
 */
export function isSameOrigin(headers: IncomingHttpHeaders, trustProxy = false): boolean {
  const origin = headers.origin;
  if (origin === undefined) return true;
  if (origin === "null") return false;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return false;
  }
  const forwardedHost = trustProxy ? firstValue(headers["x-forwarded-host"]) : undefined;
  return originHost === headers.host || (forwardedHost !== undefined && originHost === forwardedHost);
}

function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value?.split(",")[0]?.trim() || undefined;
}
