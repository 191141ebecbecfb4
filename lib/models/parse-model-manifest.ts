import { SandpitError } from "@/lib/errors/sandpit-error";
import { quoteClientInput } from "@/lib/http/quote-client-input";
import { isStorableModelName, MAX_MODEL_NAME_CHARS } from "./model-name";
import { isModelFilePath, MAX_MODEL_FILE_PATH_CHARS, SHA256_HEX, type ModelStoreSettings } from "./model-store-layout";

export type ModelFile = { path: string; sha256: string; size: number };
export type ModelManifest = { name: string; files: ModelFile[]; totalBytes: number };

const fail = (message: string, field = "files") => {
  throw new SandpitError("validation", message, { field });
};

/**
 * `{name, files: [{path, sha256, size}]}` — what a client wants a model folder to hold. Every bound is checked
 * before the next step looks at the value; the hashes are the client's claim, verified when the bytes arrive.
 */
export function parseModelManifest(input: unknown, settings: Pick<ModelStoreSettings, "maxModelBytes" | "maxFiles">): ModelManifest {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return fail("send {name, files: [{path, sha256, size}]}", "");
  const { name, files, ...rest } = input as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length)
    fail(
      `unknown field(s): ${unknown
        .slice(0, 5)
        .map((key) => quoteClientInput(key))
        .join(", ")}`,
      unknown[0],
    );
  if (!isStorableModelName(name)) {
    fail(
      `name must be a folder name like my-model or org/my-model (at most ${MAX_MODEL_NAME_CHARS} characters of letters, digits and ._-; not uploads, blobs, commits or fetches)`,
      "name",
    );
  }
  if (!Array.isArray(files) || files.length === 0) fail("files must be a non-empty list of {path, sha256, size}");
  const list = files as unknown[];
  if (list.length > settings.maxFiles) fail(`a model may hold at most ${settings.maxFiles} files (MODEL_MAX_FILES)`);

  const parsed: ModelFile[] = [];
  const paths = new Set<string>();
  let totalBytes = 0;
  for (const [index, entry] of list.entries()) {
    if (typeof entry !== "object" || entry === null) fail(`files[${index}] must be {path, sha256, size}`);
    const { path, sha256, size, ...extra } = entry as Record<string, unknown>;
    if (Object.keys(extra).length) fail(`files[${index}]: only path, sha256 and size are allowed`);
    if (!isModelFilePath(path)) {
      fail(
        `files[${index}].path ${typeof path === "string" ? quoteClientInput(path) : ""} must be a relative path of at most ${MAX_MODEL_FILE_PATH_CHARS} characters: segments of letters, digits and ._+- not starting with a dot, at most 8 deep`,
      );
    }
    if (typeof sha256 !== "string" || !SHA256_HEX.test(sha256)) fail(`files[${index}].sha256 must be 64 lowercase hex digits`);
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) fail(`files[${index}].size must be a whole number of bytes`);
    const filePath = path as string;
    if (paths.has(filePath)) fail(`files[${index}].path ${quoteClientInput(filePath)} is listed twice`);
    paths.add(filePath);
    totalBytes += size as number;
    if (totalBytes > settings.maxModelBytes) fail(`the model is over the store's ${settings.maxModelBytes}-byte limit per model (MODEL_MAX_BYTES)`);
    parsed.push({ path: filePath, sha256: sha256 as string, size: size as number });
  }
  // A path may not be both a file and a folder (`a` and `a/b`): at most 8 prefixes each, so this stays linear.
  for (const filePath of paths) {
    const segments = filePath.split("/");
    for (let depth = 1; depth < segments.length; depth++) {
      const prefix = segments.slice(0, depth).join("/");
      if (paths.has(prefix)) fail(`${quoteClientInput(prefix)} is both a file and a folder`);
    }
  }
  return { name: name as string, files: parsed, totalBytes };
}
