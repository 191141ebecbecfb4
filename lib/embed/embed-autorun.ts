/**
 * Whether a widget may run its code on load. Autorun from any page would let a hidden iframe on any site run
 * someone's code from every visitor's address, so it is kept for the embedding origins the operator lists
 * (EMBED_AUTORUN_ORIGINS). The embedding page is known from the Referer the browser sends with the iframe's
 * request: a page cannot forge it, only strip it (referrerpolicy="no-referrer", or a Referrer-Policy), and
 * then there is no autorun, as for a page opened directly. A page elsewhere shows the widget waiting for a click.
 */
export function mayAutorun(requested: boolean, referer: string | null, allowedOrigins: ReadonlySet<string>): boolean {
  if (!requested || !referer || allowedOrigins.size === 0) return false;
  const origin = originOf(referer);
  return origin !== null && allowedOrigins.has(origin);
}

const MAX_REFERER_CHARS = 4096;

function originOf(url: string): string | null {
  if (url.length > MAX_REFERER_CHARS) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.origin : null;
  } catch {
    return null;
  }
}

/**
 * Reads EMBED_AUTORUN_ORIGINS: comma-separated origins like `https://blog.example.com,http://localhost:8080`
 * (scheme, host, optional port; no path). Throws, naming the entry, on anything else.
 */
export function parseAutorunOrigins(value: string): Set<string> {
  const origins = new Set<string>();
  for (const entry of value.split(",")) {
    const trimmed = entry.trim();
    if (!trimmed) continue;
    const origin = originOf(trimmed);
    if (origin === null || origin !== trimmed.replace(/\/$/, "")) {
      throw new Error(`${JSON.stringify(trimmed.slice(0, 100))} is not an origin like https://blog.example.com (scheme, host and port only)`);
    }
    origins.add(origin);
  }
  return origins;
}
