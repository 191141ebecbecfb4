import { readAtMost } from "@/lib/streams/read-at-most";

/**
 * Code carried in an embed URL: deflate-raw (CompressionStream) then base64url, in the `c` parameter.
 * Works in browsers and in Node (both have CompressionStream), so the server can render the code too.
 */
export async function compressCodeForUrl(code: string): Promise<string> {
  const stream = new Blob([code]).stream().pipeThrough(new CompressionStream("deflate-raw"));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  return toBase64Url(bytes);
}

/** Decodes `c`; null when it is not valid (truncated link, tampering) or inflates past `maxBytes`. */
export async function decompressCodeFromUrl(encoded: string, maxBytes = 512 * 1024): Promise<string | null> {
  try {
    const bytes = fromBase64Url(encoded);
    const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    // A small link must not inflate into something huge (a "zip bomb" in a URL).
    const parts = await readAtMost(stream, maxBytes);
    if (!parts) return null;
    return new TextDecoder("utf-8", { fatal: true }).decode(await new Blob(parts as BlobPart[]).arrayBuffer());
  } catch {
    return null;
  }
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (let index = 0; index < bytes.length; index += 0x8000) binary += String.fromCharCode(...bytes.subarray(index, index + 0x8000));
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(encoded: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(encoded)) throw new Error("not base64url");
  const binary = atob(encoded.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (encoded.length % 4)) % 4));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}
