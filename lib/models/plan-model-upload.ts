import { lstatSync } from "node:fs";
import path from "node:path";
import { storeLayout } from "./model-store-layout";
import type { ModelManifest } from "./parse-model-manifest";

export type MissingBlob = { sha256: string; size: number; /** bytes already received: resume from here */ offset: number };

/**
 * What the client must still send for a manifest: each blob the store lacks, once, with how much of it an
 * earlier, interrupted upload left. Blobs the store has (from any model) are not asked for again.
 */
export function planModelUpload(modelsDir: string, manifest: ModelManifest): { missing: MissingBlob[]; missingBytes: number } {
  const layout = storeLayout(modelsDir);
  const missing = new Map<string, MissingBlob>();
  for (const file of manifest.files) {
    if (missing.has(file.sha256) || blobSize(path.join(layout.blobs, file.sha256)) === file.size) continue;
    const partial = blobSize(path.join(layout.uploads, `${file.sha256}.part`)) ?? 0;
    missing.set(file.sha256, { sha256: file.sha256, size: file.size, offset: partial <= file.size ? partial : 0 });
  }
  const list = [...missing.values()];
  return { missing: list, missingBytes: list.reduce((sum, blob) => sum + blob.size - blob.offset, 0) };
}

/** Size of a regular file (never following a link), or null. */
export function blobSize(file: string): number | null {
  try {
    const stat = lstatSync(file, { throwIfNoEntry: false });
    return stat?.isFile() ? stat.size : null;
  } catch {
    return null;
  }
}
