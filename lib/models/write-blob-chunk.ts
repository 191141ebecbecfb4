import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, mkdir, open, rename, unlink } from "node:fs/promises";
import path from "node:path";
import { SandpitError } from "@/lib/errors/sandpit-error";
import { readAtMost } from "@/lib/streams/read-at-most";
import { blobSize } from "./plan-model-upload";
import { SHA256_HEX, storeLayout, type ModelStoreSettings } from "./model-store-layout";
import { claimBlob, releaseBlob } from "./store-lock";

export type ChunkResult =
  | { kind: "stored"; sha256: string; received: number; size: number; complete: boolean }
  /** The chunk does not start where the stored part ends: resume from `offset`. */
  | { kind: "out_of_order"; sha256: string; offset: number };

const MAX_RANGE_HEADER_CHARS = 100;
/** `bytes START-END/TOTAL` (RFC 9110 Content-Range); digits only, so the pattern stays linear. */
const CONTENT_RANGE = /^bytes (\d{1,16})-(\d{1,16})\/(\d{1,16})$/;

export function parseContentRange(header: string | null, settings: Pick<ModelStoreSettings, "maxModelBytes" | "chunkMaxBytes">) {
  if (!header) throw new SandpitError("validation", "send the chunk's place in the blob as Content-Range: bytes START-END/TOTAL", { field: "content-range" });
  if (header.length > MAX_RANGE_HEADER_CHARS) throw new SandpitError("validation", "Content-Range is too long", { field: "content-range" });
  const match = CONTENT_RANGE.exec(header);
  if (!match) throw new SandpitError("validation", "Content-Range must be bytes START-END/TOTAL (END inclusive)", { field: "content-range" });
  const [start, end, total] = match.slice(1).map(Number);
  if (total > settings.maxModelBytes)
    throw new SandpitError("too_large", `the blob is over the store's ${settings.maxModelBytes}-byte limit (MODEL_MAX_BYTES)`);
  if (end < start || end >= total) throw new SandpitError("validation", "Content-Range must have START ≤ END < TOTAL", { field: "content-range" });
  const length = end - start + 1;
  if (length > settings.chunkMaxBytes) throw new SandpitError("too_large", `a chunk may be at most ${settings.chunkMaxBytes} bytes (MODEL_CHUNK_MAX_BYTES)`);
  return { start, end, total, length };
}

/**
 * Stores one chunk of a blob, in order: a chunk must start where the stored part ends (otherwise the answer names
 * the offset to resume from). The last chunk's arrival hashes the whole part; only bytes whose SHA-256 is the
 * name they were sent under become a blob (rename into place, read-only).
 */
export async function writeBlobChunk(
  settings: ModelStoreSettings,
  sha256: string,
  headers: { contentRange: string | null; contentLength: string | null },
  body: ReadableStream<Uint8Array> | null,
): Promise<ChunkResult> {
  if (!SHA256_HEX.test(sha256)) throw new SandpitError("validation", "the blob's name must be its SHA-256: 64 lowercase hex digits", { field: "sha256" });
  const range = parseContentRange(headers.contentRange, settings);
  if (headers.contentLength !== null && Number(headers.contentLength) !== range.length) {
    throw new SandpitError("validation", `Content-Length ${Number(headers.contentLength)} does not match Content-Range's ${range.length} bytes`);
  }
  const layout = storeLayout(settings.modelsDir);
  const blobPath = path.join(layout.blobs, sha256);
  const existing = blobSize(blobPath);
  if (existing !== null) {
    await body?.cancel();
    return { kind: "stored", sha256, received: existing, size: existing, complete: true };
  }
  if (!claimBlob(sha256)) throw new SandpitError("conflict", "another request is uploading this blob right now; retry when it ends", { retryAfterS: 1 });
  try {
    const partPath = path.join(layout.uploads, `${sha256}.part`);
    const stored = blobSize(partPath) ?? 0;
    if (range.start !== stored) {
      await body?.cancel();
      return { kind: "out_of_order", sha256, offset: stored };
    }
    const parts = body ? await readAtMost(body, range.length) : [];
    if (!parts) throw new SandpitError("validation", `the body is longer than Content-Range's ${range.length} bytes`);
    const chunk = Buffer.concat(parts);
    if (chunk.length !== range.length) throw new SandpitError("validation", `the body has ${chunk.length} bytes, Content-Range says ${range.length}`);

    await mkdir(layout.uploads, { recursive: true, mode: 0o700 });
    const handle = await open(partPath, stored === 0 ? "w" : "r+", 0o600);
    try {
      await handle.write(chunk, 0, chunk.length, range.start);
    } finally {
      await handle.close();
    }
    const received = range.end + 1;
    if (received < range.total) return { kind: "stored", sha256, received, size: range.total, complete: false };

    const actual = await hashFile(partPath);
    if (actual !== sha256) {
      await unlink(partPath).catch(() => {});
      throw new SandpitError("validation", `the ${range.total} bytes received hash to ${actual}, not ${sha256}; the upload was discarded, send it again`, {
        field: "sha256",
      });
    }
    await mkdir(layout.blobs, { recursive: true, mode: 0o755 });
    // Read-only and world-readable: models are mounted for the sandbox's own (unprivileged) user.
    await chmod(partPath, 0o444);
    await rename(partPath, blobPath);
    return { kind: "stored", sha256, received, size: range.total, complete: true };
  } finally {
    releaseBlob(sha256);
  }
}

export async function hashFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
