import { randomBytes } from "node:crypto";
import { lstatSync, readdirSync } from "node:fs";
import { link, mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { SandpitError } from "@/lib/errors/sandpit-error";
import { blobSize } from "./plan-model-upload";
import { storeLayout } from "./model-store-layout";
import type { ModelManifest } from "./parse-model-manifest";
import { collectUnusedBlobs } from "./delete-model";
import { withStoreLock } from "./store-lock";

export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/**
 * Makes the model folder the manifest describes, atomically: every file is a hard link to its verified blob,
 * assembled in a staging folder and renamed into place (replacing an older version of the same name, whose
 * blobs are collected when no other model links them). Conflict when a blob has not been uploaded whole.
 */
export function commitModel(modelsDir: string, manifest: ModelManifest): Promise<{ name: string; sizeBytes: number; files: number }> {
  return withStoreLock(async () => {
    const layout = storeLayout(modelsDir);
    await mkdir(layout.blobs, { recursive: true, mode: 0o755 });
    if (manifest.files.some((file) => file.sha256 === EMPTY_SHA256) && blobSize(path.join(layout.blobs, EMPTY_SHA256)) === null) {
      await writeFile(path.join(layout.blobs, EMPTY_SHA256), "", { mode: 0o444 });
    }
    const missing = manifest.files.filter((file) => blobSize(path.join(layout.blobs, file.sha256)) !== file.size);
    if (missing.length) {
      const listed = missing
        .slice(0, 5)
        .map((file) => `${file.path} (${file.sha256})`)
        .join(", ");
      throw new SandpitError(
        "conflict",
        `${missing.length} file(s) have no complete blob in the store yet: ${listed}${missing.length > 5 ? ", …" : ""}; upload them first`,
      );
    }
    const target = path.join(modelsDir, manifest.name);
    assertPlaceable(modelsDir, manifest.name);

    const staged = path.join(layout.staging, randomBytes(8).toString("hex"));
    await mkdir(staged, { recursive: true, mode: 0o755 });
    try {
      for (const file of manifest.files) {
        const destination = path.join(staged, file.path);
        await mkdir(path.dirname(destination), { recursive: true, mode: 0o755 });
        await link(path.join(layout.blobs, file.sha256), destination);
      }
      if (manifest.name.includes("/")) await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
      let replaced: string | null = null;
      if (lstatSync(target, { throwIfNoEntry: false })) {
        await mkdir(layout.trash, { recursive: true, mode: 0o700 });
        replaced = path.join(layout.trash, randomBytes(8).toString("hex"));
        await rename(target, replaced);
      }
      await rename(staged, target);
      if (replaced) await collectUnusedBlobs(modelsDir, replaced);
    } catch (error) {
      await rm(staged, { recursive: true, force: true });
      throw error;
    }
    return { name: manifest.name, sizeBytes: manifest.totalBytes, files: manifest.files.length };
  });
}

/**
 * `org/model` goes in a folder of models (never inside a model, never through a link); a one-level name must not
 * be taken by such a folder.
 */
function assertPlaceable(modelsDir: string, name: string): void {
  const segments = name.split("/");
  if (segments.length === 2) {
    const org = lstatSync(path.join(modelsDir, segments[0]), { throwIfNoEntry: false });
    if (org && !org.isDirectory()) throw new SandpitError("conflict", `${segments[0]} in the model store is not a folder`);
    if (org && readdirSync(path.join(modelsDir, segments[0]), { withFileTypes: true }).some((entry) => !entry.isDirectory())) {
      throw new SandpitError("conflict", `${segments[0]} is a model, so it cannot hold ${name}`);
    }
  }
  const existing = lstatSync(path.join(modelsDir, name), { throwIfNoEntry: false });
  if (!existing) return;
  if (!existing.isDirectory()) throw new SandpitError("conflict", `${name} in the model store is not a folder`);
  const entries = readdirSync(path.join(modelsDir, name), { withFileTypes: true });
  if (segments.length === 1 && entries.length > 0 && entries.every((entry) => entry.isDirectory())) {
    throw new SandpitError("conflict", `${name} is a folder of models (like ${name}/…), not a model`);
  }
}
