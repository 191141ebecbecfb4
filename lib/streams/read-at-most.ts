/**
 * Reads a byte stream to its end, or stops (cancelling it) as soon as it passes `maxBytes`: the whole
 * is never buffered when it is too big. Null when over the limit. Works in browsers and in Node.
 */
export async function readAtMost(stream: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array[] | null> {
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return parts;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return null;
    }
    parts.push(value);
  }
}
