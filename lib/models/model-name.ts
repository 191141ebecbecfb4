/** A model name is a folder under MODELS_DIR, optionally one level deep (`Qwen/Qwen3-8B`). */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

export const MAX_MODEL_NAME_CHARS = 200;

/** First segments the store's own routes use (/api/v1/models/uploads, …): never model names, so every model can be deleted by name. */
export const RESERVED_MODEL_NAMES: ReadonlySet<string> = new Set(["uploads", "blobs", "commits", "fetches"]);

/** A name the store may create: bounded before the (linear) pattern sees it, no `.`/`..` segment, not reserved. */
export function isStorableModelName(name: unknown): name is string {
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_MODEL_NAME_CHARS) return false;
  if (!MODEL_NAME_PATTERN.test(name)) return false;
  const segments = name.split("/");
  return !segments.some((part) => part === "." || part === "..") && !RESERVED_MODEL_NAMES.has(segments[0]);
}
