/**
 * The client a request comes from: the nearest hop of x-forwarded-for, else x-real-ip, else "unknown".
 * server.ts replaces x-forwarded-for with the socket's address unless TRUST_PROXY is on (then it is what our
 * own reverse proxy appended), so a client cannot choose its own key.
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
