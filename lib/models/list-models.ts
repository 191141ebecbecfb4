import { readdirSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { MODEL_NAME_PATTERN } from "./model-name";

export const modelEntrySchema = z.object({ name: z.string() });
export type ModelEntry = z.infer<typeof modelEntrySchema>;

function subdirectories(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith("."))
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}

function holdsFiles(dir: string): boolean {
  try {
    return readdirSync(dir, { withFileTypes: true }).some((entry) => entry.isFile());
  } catch {
    return false;
  }
}

/** Models in the store: each folder with files is a model; a folder of only folders is an organisation. */
export function listModels(modelsDir: string): ModelEntry[] {
  const models: ModelEntry[] = [];
  for (const top of subdirectories(modelsDir)) {
    const topPath = path.join(modelsDir, top);
    const nested = subdirectories(topPath);
    if (holdsFiles(topPath) || nested.length === 0) models.push({ name: top });
    else for (const inner of nested) models.push({ name: `${top}/${inner}` });
  }
  return models.filter((model) => MODEL_NAME_PATTERN.test(model.name));
}

/**
 * The host folder of a model, or null when it is not in the store. Resolves symlinks and insists the
 * result stays inside MODELS_DIR, so a name can never mount anything else.
 */
export function resolveModelPath(modelsDir: string, name: string): string | null {
  if (!MODEL_NAME_PATTERN.test(name) || name.split("/").some((part) => part === "." || part === "..")) return null;
  try {
    const root = realpathSync(modelsDir);
    const resolved = realpathSync(path.join(root, name));
    if (!resolved.startsWith(root + path.sep) || !statSync(resolved).isDirectory()) return null;
    return resolved;
  } catch {
    return null;
  }
}
