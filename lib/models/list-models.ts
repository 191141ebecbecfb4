import { lstatSync, readdirSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { MODEL_NAME_PATTERN } from "./model-name";

/** `sizeBytes` counts each file of the model; blobs shared with other models are stored once (see commit-model.ts). */
export const modelEntrySchema = z.object({ name: z.string(), sizeBytes: z.number().int(), files: z.number().int() });
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
    if (holdsFiles(topPath) || nested.length === 0) models.push({ name: top, ...folderSize(topPath) });
    else for (const inner of nested) models.push({ name: `${top}/${inner}`, ...folderSize(path.join(topPath, inner)) });
  }
  return models.filter((model) => MODEL_NAME_PATTERN.test(model.name));
}

/** Bytes and files under a folder, never following links; an operator's huge folder stops counting at the cap. */
function folderSize(dir: string, cap = 100_000): { sizeBytes: number; files: number } {
  const total = { sizeBytes: 0, files: 0 };
  const walk = (folder: string) => {
    let entries;
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (total.files >= cap) return;
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        total.files++;
        total.sizeBytes += lstatSync(full, { throwIfNoEntry: false })?.size ?? 0;
      }
    }
  };
  walk(dir);
  return total;
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
