import { NextResponse, type NextRequest } from "next/server";
import { contentSecurityPolicy, isFrameablePath } from "@/lib/embed/content-security-policy";

/** Security headers on every page: a per-request CSP nonce, and framing allowed for embeds only. */
export function proxy(request: NextRequest) {
  const nonce = btoa(crypto.randomUUID());
  const frameable = isFrameablePath(request.nextUrl.pathname);
  // NODE_ENV is inlined at build time by Next (not runtime configuration): dev builds need eval for React tooling.
  const policy = contentSecurityPolicy({ nonce, frameable, dev: process.env.NODE_ENV === "development" });

  // Next.js reads the nonce from the request's CSP header and stamps it on its scripts.
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("x-nonce", nonce);
  requestHeaders.set("content-security-policy", policy);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set("content-security-policy", policy);
  if (!frameable) response.headers.set("x-frame-options", "DENY");
  response.headers.set("x-content-type-options", "nosniff");
  response.headers.set("referrer-policy", "strict-origin-when-cross-origin");
  return response;
}

export const config = {
  // Everything but build assets (hashed, immutable files carry no markup).
  matcher: [{ source: "/((?!_next/static|_next/image|favicon.ico).*)" }],
};
