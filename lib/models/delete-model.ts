import { randomBytes } from "node:crypto";
import { lstatSync, readdirSync } from "node:fs";
import { mkdir, rename, rm, rmdir, unlink } from "node:fs/promises";
import path from "node:path";
import { and, eq, inArray, or } from "drizzle-orm";
import type { SandpitDb } from "@/lib/db/open-database";
import { runs, sandboxes } from "@/lib/db/schema";
import { SandpitError } from "@/lib/errors/sandpit-error";
import { quoteClientInput } from "@/lib/http/quote-client-input";
import { isStorableModelName } from "./model-name";
import { storeLayout } from "./model-store-layout";
import { withStoreLock } from "./store-lock";

/**
 * Removes a model folder, unless a live sandbox or an unfinished run has it mounted; then the blobs no model
 * links any more. Renamed out of the way first, so no one sees a half-deleted model.
 */
export function deleteModel(db: SandpitDb, modelsDir: string, name: string): Promise<void> {
  if (!isStorableModelName(name)) throw new SandpitError("validation", `model name ${quoteClientInput(name)} is not a model store name`, { field: "name" });
  return withStoreLock(async () => {
    const target = path.join(modelsDir, name);
    const stat = lstatSync(target, { throwIfNoEntry: false });
    const isModel = stat?.isDirectory() && readdirSync(target, { withFileTypes: true }).some((entry) => entry.isFile());
    if (!isModel) throw new SandpitError("not_found", `model ${quoteClientInput(name)} is not in the model store`);
    const [sandboxUsing] = await db
      .select({ id: sandboxes.id })
      .from(sandboxes)
      .where(and(eq(sandboxes.model, name), inArray(sandboxes.status, ["creating", "ready"])))
      .limit(1);
    const [runUsing] = sandboxUsing
      ? [sandboxUsing]
      : await db
          .select({ id: runs.id })
          .from(runs)
          .where(and(eq(runs.model, name), or(eq(runs.status, "queued"), eq(runs.status, "running"))))
          .limit(1);
    if (runUsing) throw new SandpitError("conflict", `model ${quoteClientInput(name)} is mounted by a live sandbox or run; delete those first`);
    const layout = storeLayout(modelsDir);
    await mkdir(layout.trash, { recursive: true, mode: 0o700 });
    const removed = path.join(layout.trash, randomBytes(8).toString("hex"));
    await rename(target, removed);
    await collectUnusedBlobs(modelsDir, removed);
    // An organisation folder left empty goes too.
    if (name.includes("/")) await rmdir(path.dirname(target)).catch(() => {});
  });
}

/**
 * Deletes `folder` (a model moved out of the store) and every blob it linked that no other model links: a blob's
 * link count is its number of users plus one. Runs under the store lock, so no commit links a blob meanwhile.
 */
export async function collectUnusedBlobs(modelsDir: string, folder: string): Promise<void> {
  const inodes = new Set<number>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) inodes.add(lstatSync(full).ino);
    }
  };
  walk(folder);
  await rm(folder, { recursive: true, force: true });
  const { blobs } = storeLayout(modelsDir);
  let names: string[];
  try {
    names = readdirSync(blobs);
  } catch {
    return;
  }
  for (const blob of names) {
    const stat = lstatSync(path.join(blobs, blob), { throwIfNoEntry: false });
    if (stat && inodes.has(stat.ino) && stat.nlink === 1) await unlink(path.join(blobs, blob)).catch(() => {});
  }
}
