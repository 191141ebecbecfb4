import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, unlink } from "node:fs/promises";
import path from "node:path";
import { SandpitError } from "@/lib/errors/sandpit-error";
import { quoteClientInput } from "@/lib/http/quote-client-input";
import { readAtMost } from "@/lib/streams/read-at-most";
import { commitModel } from "./commit-model";
import { resolveModelPath } from "./list-models";
import { isStorableModelName } from "./model-name";
import { isModelFilePath, storeLayout, type ModelStoreSettings } from "./model-store-layout";
import type { ModelFile } from "./parse-model-manifest";
import { blobSize } from "./plan-model-upload";

const MAX_LISTING_BYTES = 4 * 1024 * 1024;
type HubSibling = { rfilename?: unknown; size?: unknown };

const inFlight = new Map<string, Promise<void>>();

/**
 * Fetches a hub model (`org/model`) into the store once, when the operator allows it (MODEL_FETCH=1): the file
 * list from `{hub}/api/models/{id}?blobs=true`, each file from `{hub}/{id}/resolve/main/{path}`, hashed while it
 * streams to disk and capped by MODEL_MAX_BYTES; then committed like an upload. Hidden files (`.gitattributes`)
 * are skipped. Concurrent requests for one id share one fetch.
 */
export function fetchHubModel(settings: ModelStoreSettings, id: string, signal: AbortSignal): Promise<void> {
  if (!settings.fetch)
    throw new SandpitError("validation", `model: fetching ${quoteClientInput(id)} from the hub needs MODEL_FETCH=1 on the server`, { field: "model" });
  if (!isStorableModelName(id) || !id.includes("/"))
    throw new SandpitError("validation", `model: ${quoteClientInput(id)} is not a hub id like org/model`, { field: "model" });
  if (resolveModelPath(settings.modelsDir, id)) return Promise.resolve();
  const running = inFlight.get(id);
  if (running) return running;
  const work = fetchAll(settings, id, signal).finally(() => inFlight.delete(id));
  inFlight.set(id, work);
  return work;
}

async function fetchAll(settings: ModelStoreSettings, id: string, signal: AbortSignal): Promise<void> {
  const failed = (why: string) =>
    new SandpitError("validation", `model: could not fetch ${quoteClientInput(id)} from ${settings.hubUrl}: ${why}`, { field: "model" });
  const listing = await fetch(`${settings.hubUrl}/api/models/${id}?blobs=true`, { signal, redirect: "error" }).catch((error: Error) => {
    throw failed(error.message);
  });
  if (!listing.ok || !listing.body) throw failed(`the hub answered ${listing.status}`);
  const parts = await readAtMost(listing.body, MAX_LISTING_BYTES);
  if (!parts) throw failed("its file list is too long");
  let siblings: HubSibling[];
  try {
    siblings = (JSON.parse(Buffer.concat(parts).toString("utf8")) as { siblings?: HubSibling[] }).siblings ?? [];
  } catch {
    throw failed("its file list is not JSON");
  }
  const wanted = siblings.filter((entry) => isModelFilePath(entry.rfilename));
  if (!wanted.length) throw failed("it lists no files");
  if (wanted.length > settings.maxFiles) throw failed(`it has over MODEL_MAX_FILES (${settings.maxFiles}) files`);

  const layout = storeLayout(settings.modelsDir);
  await mkdir(layout.uploads, { recursive: true, mode: 0o700 });
  await mkdir(layout.blobs, { recursive: true, mode: 0o755 });
  const files: ModelFile[] = [];
  let budget = settings.maxModelBytes;
  for (const entry of wanted) {
    const filePath = entry.rfilename as string;
    const response = await fetch(`${settings.hubUrl}/${id}/resolve/main/${filePath}`, { signal }).catch((error: Error) => {
      throw failed(`${filePath}: ${error.message}`);
    });
    if (!response.ok || !response.body) throw failed(`${filePath}: the hub answered ${response.status}`);
    const temporary = path.join(layout.uploads, `fetch-${randomBytes(8).toString("hex")}`);
    const hash = createHash("sha256");
    let size = 0;
    try {
      const out = createWriteStream(temporary, { mode: 0o444 });
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          size += chunk.byteLength;
          if (size > budget) throw failed(`it is over MODEL_MAX_BYTES (${settings.maxModelBytes} bytes)`);
          hash.update(chunk);
          if (!out.write(chunk)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
        }
      } finally {
        await new Promise<void>((resolve) => out.end(() => resolve()));
      }
      const sha256 = hash.digest("hex");
      const blob = path.join(layout.blobs, sha256);
      if (blobSize(blob) === null) await rename(temporary, blob);
      files.push({ path: filePath, sha256, size });
      budget -= size;
    } finally {
      await unlink(temporary).catch(() => {});
    }
  }
  await commitModel(settings.modelsDir, { name: id, files, totalBytes: settings.maxModelBytes - budget });
}

/** The name in a sandbox request's `model` (a string or `{name, path}`), before validation; undefined when absent or malformed. */
export function requestedModelName(body: unknown): string | undefined {
  const model = (body as { model?: unknown } | null)?.model;
  if (typeof model === "string") return model;
  const name = (model as { name?: unknown } | null)?.name;
  return typeof name === "string" ? name : undefined;
}

/** Before a sandbox request is validated: a hub id the store lacks is fetched first when MODEL_FETCH=1 (otherwise validation names the setting). */
export async function fetchRequestedModel(settings: ModelStoreSettings, body: unknown, timeoutMs: number): Promise<void> {
  const name = requestedModelName(body);
  if (!settings.fetch || !name || !name.includes("/") || !isStorableModelName(name) || resolveModelPath(settings.modelsDir, name)) return;
  await fetchHubModel(settings, name, AbortSignal.timeout(timeoutMs));
}
