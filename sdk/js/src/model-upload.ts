import { createHash } from "node:crypto";
import { createReadStream, existsSync, statSync } from "node:fs";
import { open, readdir, stat } from "node:fs/promises";
import path from "node:path";
import type { Client } from "./client.js";
import { resolveLocalPath } from "./code-source.js";
import { ConflictError, ValidationError } from "./errors.js";

/** A GPU sandbox's `model`: a store name, a hub id (`org/model`), a local folder, or `{name, path}`. */
export type ModelOption = string | { name: string; path?: string };

/** One file of a model folder as the store's manifest lists it. */
export type ModelFile = { path: string; sha256: string; size: number };

/** What {@link uploadModel} did: the store name, and how many bytes it had to send (0 when the store had it all). */
export type ModelUpload = { name: string; files: number; sentBytes: number; skippedBytes: number };

/** Store names: a folder name, optionally `org/name` (the server's MODEL_NAME_PATTERN). */
const STORE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;
const PATH_PREFIX = /^(\/|\.\/|\.\.\/|~\/)/;

/** Whether a `model` string names a local folder (`./m`, `../m`, `/abs/m`, `~/m`) rather than a store name or hub id. */
export function isModelPath(model: string): boolean {
  const text = model.trim();
  return PATH_PREFIX.test(text) || text === "." || text === "..";
}

/** A local folder's name as a store name: characters the store refuses become `-`. */
export function storeNameFor(folder: string): string {
  const name = path
    .basename(folder)
    .replace(/[^A-Za-z0-9._-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "");
  if (!name) throw new ValidationError(`model: cannot make a model name from ${folder}; pass {name, path}`, { field: "model" });
  return name;
}

/**
 * What to do with a `model` option before `create`: `upload` a local folder under `name`, or only send `name`.
 * A path that is not a folder here names the store's model of that folder name (uploaded earlier, perhaps from
 * another machine), as the published SDK treats a path it cannot find as a name: the server says if it lacks it.
 */
export function planModel(model: unknown): { name: string; folder?: string } {
  if (typeof model === "string") {
    const text = model.trim();
    if (!text) throw new ValidationError("model: expected a model name, a hub id or a folder path", { field: "model" });
    if (!isModelPath(text)) return { name: text };
    const folder = resolveLocalPath(text);
    const name = storeNameFor(folder);
    return isFolder(folder) ? { name, folder } : { name };
  }
  if (model && typeof model === "object" && !Array.isArray(model)) {
    const { name, path: folderPath, ...rest } = model as { name?: unknown; path?: unknown };
    const unknown = Object.keys(rest);
    if (unknown.length) throw new ValidationError(`model: unknown field ${unknown[0]} (expected {name, path})`, { field: "model" });
    if (typeof name !== "string" || !STORE_NAME.test(name)) {
      throw new ValidationError("model: name must be a store name like my-model or org/my-model", { field: "model" });
    }
    if (folderPath === undefined) return { name };
    if (typeof folderPath !== "string" || !folderPath.trim()) throw new ValidationError("model: path must be a folder path", { field: "model" });
    const folder = resolveLocalPath(folderPath);
    // With an explicit {name, path} the folder is the point: a missing one is a mistake, not a name.
    if (!isFolder(folder)) throw new ValidationError(`model: ${folder} is not a folder`, { field: "model" });
    return { name, folder };
  }
  throw new ValidationError("model: expected a model name, a hub id, a folder path or {name, path}", { field: "model" });
}

function isFolder(folder: string): boolean {
  return existsSync(folder) && statSync(folder).isDirectory();
}

/**
 * The files of a model folder, relative paths with `/`. Hidden entries (`.git`, `.cache`, `.gitattributes`) are
 * left out: the store refuses names starting with a dot. Links are followed (a Hugging Face cache snapshot is
 * links into its blobs); empty files are left out (the store keeps no empty blobs).
 */
export async function listModelFiles(folder: string): Promise<{ path: string; local: string; size: number }[]> {
  const found: { path: string; local: string; size: number }[] = [];
  async function walk(dir: string, prefix: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const local = path.join(dir, entry.name);
      const info = await stat(local);
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (info.isDirectory()) await walk(local, relative);
      else if (info.isFile() && info.size > 0) found.push({ path: relative, local, size: info.size });
    }
  }
  await walk(folder, "");
  if (!found.length) throw new ValidationError(`model: ${folder} holds no files to upload`, { field: "model" });
  return found;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

type UploadPlan = { missing: { sha256: string; size: number; offset: number }[]; chunkMaxBytes: number };

/**
 * Puts a local model folder into the server's model store under `name` (README "Model store"): hashes every
 * file, asks which blobs the store lacks (and how much of each an interrupted upload left), sends only those in
 * chunks from that offset, and commits the manifest. Blobs the store has, from any model, are not sent again.
 */
export async function uploadModel(client: Client, name: string, folder: string): Promise<ModelUpload> {
  const listed = await listModelFiles(folder);
  const files: ModelFile[] = [];
  const localBySha = new Map<string, string>();
  for (const file of listed) {
    const sha256 = await sha256File(file.local);
    files.push({ path: file.path, sha256, size: file.size });
    localBySha.set(sha256, file.local);
  }
  const manifest = { name, files };
  const plan = await client.request<UploadPlan>("POST", "/api/v1/models/uploads", { body: manifest });
  let sentBytes = 0;
  for (const blob of plan.missing) {
    sentBytes += await sendBlob(client, localBySha.get(blob.sha256)!, blob, plan.chunkMaxBytes);
  }
  await client.request("POST", "/api/v1/models/commits", { body: manifest, timeoutMs: 10 * 60_000 });
  const total = files.reduce((sum, file) => sum + file.size, 0);
  return { name, files: files.length, sentBytes, skippedBytes: total - sentBytes };
}

/** Sends one blob from `offset` in chunks; a 409 naming another offset (a parallel or earlier upload) resumes there. */
async function sendBlob(client: Client, local: string, blob: { sha256: string; size: number; offset: number }, chunkMaxBytes: number): Promise<number> {
  const handle = await open(local, "r");
  let sent = 0;
  try {
    let offset = blob.offset;
    let conflicts = 0;
    while (offset < blob.size) {
      const length = Math.min(chunkMaxBytes, blob.size - offset);
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      if (bytesRead !== length) throw new ValidationError(`model: ${local} changed while it was being uploaded`, { field: "model" });
      try {
        const answer = await client.requestBytes("PUT", `/api/v1/models/blobs/${blob.sha256}`, buffer, {
          "content-range": `bytes ${offset}-${offset + length - 1}/${blob.size}`,
        });
        sent += length;
        offset = typeof answer.received === "number" && answer.complete !== true ? answer.received : offset + length;
        if (answer.complete === true) break;
      } catch (error) {
        const resumeAt = error instanceof ConflictError ? error.details?.offset : undefined;
        if (typeof resumeAt !== "number" || ++conflicts > 5) throw error;
        offset = resumeAt;
      }
    }
  } finally {
    await handle.close();
  }
  return sent;
}
