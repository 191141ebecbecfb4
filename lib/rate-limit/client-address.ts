/**
 * The client a request comes from: the nearest hop of x-forwarded-for (what our own reverse proxy saw, or,
 * with no proxy, what Next.js filled in from the socket), else x-real-ip, else "unknown".
 */
export function clientAddress(headers: Pick<Headers, "get">): string {
  const forwarded = headers.get("x-forwarded-for");
  const nearest = forwarded
    ?.split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .at(-1);
  return normaliseAddress(nearest ?? headers.get("x-real-ip") ?? "unknown");
}

/** "::ffff:127.0.0.1" and "127.0.0.1" are the same client. */
function normaliseAddress(address: string): string {
  return address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, "$1").toLowerCase();
}
