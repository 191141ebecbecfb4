import path from "node:path";

/** What the store's HTTP routes need from the web configuration. */
export type ModelStoreSettings = {
  modelsDir: string;
  /** Per model (the sum of its files) and so per blob. */
  maxModelBytes: number;
  maxFiles: number;
  /** One PUT of blob bytes. */
  chunkMaxBytes: number;
  /** Whether hub ids missing from the store may be fetched (MODEL_FETCH=1). */
  fetch: boolean;
  hubUrl: string;
};

/**
 * The store on disk. Model folders (Hugging Face layout) sit directly under MODELS_DIR; every file in them is a
 * hard link to a content-addressed blob, so a blob shared by many models is stored once. Dot folders hold the
 * store's own state and are never listed as models (lib/models/list-models.ts skips dot names).
 */
export function storeLayout(modelsDir: string) {
  const internal = path.join(modelsDir, ".store");
  return {
    root: modelsDir,
    /** Verified blobs, `<sha256 hex>`, read-only. */
    blobs: path.join(internal, "blobs", "sha256"),
    /** Partial uploads, `<sha256 hex>.part`: their size is the resume offset. */
    uploads: path.join(internal, "uploads"),
    /** A model being assembled, renamed into place when complete. */
    staging: path.join(internal, "staging"),
    /** A replaced or deleted model, renamed out of the way before it is removed. */
    trash: path.join(internal, "trash"),
  };
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;

const PATH_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._+-]*$/;
export const MAX_MODEL_FILE_PATH_CHARS = 512;
const MAX_SEGMENT_CHARS = 128;
const MAX_DEPTH = 8;

/**
 * A file path inside a model folder: relative, `/`-separated, at most 8 levels, each segment of letters, digits
 * and `._+-`, not starting with a dot (so no `.`, `..` or hidden file). Checked by length first, then by one
 * linear pattern per segment.
 */
export function isModelFilePath(value: unknown): value is string {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_MODEL_FILE_PATH_CHARS) return false;
  const segments = value.split("/");
  return segments.length <= MAX_DEPTH && segments.every((segment) => segment.length <= MAX_SEGMENT_CHARS && PATH_SEGMENT.test(segment));
}
