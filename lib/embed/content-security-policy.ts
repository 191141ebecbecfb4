/**
 * The Content-Security-Policy of every page. Scripts run only with this request's nonce (Next.js stamps it on
 * its own scripts) or when loaded by such a script; Monaco needs blob:/self workers and inline styles; the
 * console needs the Socket.IO websocket. Only embed routes may be framed, by anyone.
 */
export function contentSecurityPolicy({ nonce, frameable, dev }: { nonce: string; frameable: boolean; dev: boolean }): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self' ws: wss:",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    `frame-ancestors ${frameable ? "*" : "'none'"}`,
  ].join("; ");
}

/** Only the widget may live in other sites' frames. */
export function isFrameablePath(pathname: string): boolean {
  return pathname === "/embed" || pathname.startsWith("/embed/");
}
