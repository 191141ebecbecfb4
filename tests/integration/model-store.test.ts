import { randomBytes } from "node:crypto";
import { lstatSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runtimeCatalog } from "@/lib/runtimes/catalog";
import { getRun, postRun } from "../support/api-client";
import { createTokens } from "../support/create-token";
import { manifestOf, putChunk, sendMissing, storeApi, type LocalFile } from "../support/model-upload";
import { CONTAINER_RUNTIMES } from "../support/runtimes-under-test";
import { startStack, type ContainerRuntime, type Stack } from "../support/stack";

/**
 * The model store (README "Model store"): a tiny model in Hugging Face layout made here from random bytes is
 * uploaded in chunks, interrupted and resumed, deduplicated against a second model, listed, mounted read-only
 * into a sandbox at $MODEL_PATH, and deleted.
 */
const CHUNK = 64 * 1024;

function tinyModel(): LocalFile[] {
  return [
    { path: "config.json", bytes: Buffer.from(JSON.stringify({ model_type: "gpt2", n_layer: 1, marker: randomBytes(8).toString("hex") })) },
    { path: "model.safetensors", bytes: randomBytes(3 * CHUNK + 1234) },
    { path: "tokenizer/vocab.json", bytes: Buffer.from(JSON.stringify({ a: 0, b: 1 })) },
  ];
}

async function sandboxApi(stack: Stack, token: string, method: string, route: string, body?: unknown) {
  const response = await fetch(`${stack.baseUrl}/api/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as any };
}

describe.each(CONTAINER_RUNTIMES)("model store under %s", (containerRuntime: ContainerRuntime) => {
  let stack: Stack;
  let token: string;
  const files = tinyModel();

  beforeAll(async () => {
    stack = await startStack({
      containerRuntime,
      webEnv: { MODEL_CHUNK_MAX_BYTES: String(CHUNK) },
      workerEnv: { INSTANCE_ID: `models-${containerRuntime}-${randomBytes(4).toString("hex")}` },
    });
    [token] = await createTokens(stack.dataDir, ["models"]);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  // The store's HTTP protocol does not depend on the container runtime: tested once, on the runc stack.
  const storeProtocolIt = containerRuntime === "runc" ? it : () => {};
  storeProtocolIt(
    "uploads in chunks, resumes an interrupted upload, dedupes, lists sizes and deletes",
    async () => {
      const manifest = manifestOf("tiny-a", files);
      const first = await storeApi(stack.baseUrl, token, "POST", "/uploads", manifest);
      expect(first.status, JSON.stringify(first.json)).toBe(200);
      expect(first.json.missing.map((blob: any) => blob.offset)).toEqual([0, 0, 0]);

      // A commit before the bytes arrive names what is missing.
      const early = await storeApi(stack.baseUrl, token, "POST", "/commits", manifest);
      expect(early.status).toBe(409);
      expect(early.json.error).toContain("model.safetensors");

      // Interrupted after two chunks (config.json whole, then the first chunk of the weights).
      await sendMissing(stack.baseUrl, token, files, { ...first.json, missing: [first.json.missing[0], first.json.missing[1]] }, 2);
      const weights = files[1].bytes;
      // A cut connection: fewer bytes than Content-Range promised. Refused, and the stored part does not move.
      const cut = await putChunk(stack.baseUrl, token, weights, CHUNK, 2 * CHUNK - 1, weights.subarray(CHUNK, CHUNK + 100));
      expect(cut.status).toBe(400);
      // A chunk from the wrong place: 409 with the offset to resume from.
      const skipped = await putChunk(stack.baseUrl, token, weights, 2 * CHUNK, 3 * CHUNK - 1);
      expect(skipped.status).toBe(409);
      expect(skipped.json.offset).toBe(CHUNK);

      const resumed = await storeApi(stack.baseUrl, token, "POST", "/uploads", manifest);
      const offsets = Object.fromEntries(resumed.json.missing.map((blob: any) => [blob.sha256, blob.offset]));
      expect(Object.keys(offsets)).toHaveLength(2); // config.json arrived whole
      expect(offsets[manifest.files[1].sha256]).toBe(CHUNK);
      const resentBytes = await sendMissing(stack.baseUrl, token, files, resumed.json);
      expect(resentBytes).toBe(weights.length - CHUNK + files[2].bytes.length);
      const committed = await storeApi(stack.baseUrl, token, "POST", "/commits", manifest);
      expect(committed.status, JSON.stringify(committed.json)).toBe(201);

      // Bytes that do not hash to the name they were sent under never become a blob.
      const liar = Buffer.from("not what the name says");
      const lying = await fetch(`${stack.baseUrl}/api/v1/models/blobs/${"0".repeat(64)}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${token}`, "content-range": `bytes 0-${liar.length - 1}/${liar.length}` },
        body: new Uint8Array(liar),
      });
      expect(lying.status).toBe(400);

      // A second model sharing the weights: the store asks only for its own config.
      const second: LocalFile[] = [{ path: "config.json", bytes: Buffer.from('{"model_type":"gpt2","copy":true}') }, files[1]];
      const secondManifest = manifestOf("org/tiny-b", second);
      const secondPlan = await storeApi(stack.baseUrl, token, "POST", "/uploads", secondManifest);
      expect(secondPlan.json.missing.map((blob: any) => blob.sha256)).toEqual([secondManifest.files[0].sha256]);
      await sendMissing(stack.baseUrl, token, second, secondPlan.json);
      expect((await storeApi(stack.baseUrl, token, "POST", "/commits", secondManifest)).status).toBe(201);
      const modelsDir = path.join(stack.dataDir, "models");
      expect(lstatSync(path.join(modelsDir, "org/tiny-b/model.safetensors")).ino).toBe(lstatSync(path.join(modelsDir, "tiny-a/model.safetensors")).ino);

      const listed = await storeApi(stack.baseUrl, token, "GET", "");
      const sizes = Object.fromEntries(listed.json.models.map((model: any) => [model.name, model.sizeBytes]));
      expect(sizes["tiny-a"]).toBe(files.reduce((sum, file) => sum + file.bytes.length, 0));
      expect(sizes["org/tiny-b"]).toBe(second.reduce((sum, file) => sum + file.bytes.length, 0));

      // Paths that could leave the folder are refused before anything is stored.
      for (const bad of ["../x", "/etc/passwd", "a/../../b", ".hidden", "a//b", "a\\b"]) {
        const refused = await storeApi(stack.baseUrl, token, "POST", "/uploads", { name: "bad", files: [{ path: bad, sha256: "0".repeat(64), size: 1 }] });
        expect(refused.status, bad).toBe(400);
      }
      expect((await storeApi(stack.baseUrl, token, "POST", "/uploads", { name: "../up", files: manifest.files })).status).toBe(400);

      // Deleting one model keeps the blob the other still links; deleting both frees it.
      const blobs = path.join(modelsDir, ".store/blobs/sha256");
      expect((await storeApi(stack.baseUrl, token, "DELETE", "/tiny-a")).status).toBe(204);
      expect(readdirSync(blobs)).toContain(manifest.files[1].sha256);
      expect((await storeApi(stack.baseUrl, token, "DELETE", "/org/tiny-b")).status).toBe(204);
      expect(readdirSync(blobs)).not.toContain(manifest.files[1].sha256);
      expect((await storeApi(stack.baseUrl, token, "GET", "")).json.models).toEqual([]);
      expect((await storeApi(stack.baseUrl, token, "DELETE", "/tiny-a")).status).toBe(404);
    },
    120_000,
  );

  // The playground inserts these when a model is picked (images/<name>/starter.model.*): each must run as it is.
  it("runs every runtime's model snippet as a run with `model`, reading the folder", async () => {
    const manifest = manifestOf("org/snippets", files);
    const plan = await storeApi(stack.baseUrl, token, "POST", "/uploads", manifest);
    await sendMissing(stack.baseUrl, token, files, plan.json);
    expect((await storeApi(stack.baseUrl, token, "POST", "/commits", manifest)).status).toBe(201);
    const withSnippet = runtimeCatalog().runtimes.filter((runtime) => runtime.modelStarter);
    expect(withSnippet.length).toBeGreaterThan(0);
    for (const runtime of withSnippet) {
      const queued = await postRun(stack.baseUrl, { runtime: runtime.name, code: runtime.modelStarter, model: "org/snippets", timeout: 30 });
      expect(queued.status, JSON.stringify(queued.json)).toBe(201);
      const run = await getRun(stack.baseUrl, queued.json.id, true);
      expect([runtime.name, run.status, run.stderr]).toEqual([runtime.name, "succeeded", ""]);
      expect(run.stdout).toContain("/models/org/snippets");
      expect(run.stdout).toContain(`model.safetensors: ${files[1].bytes.length} bytes`);
      expect(run.stdout).toContain("gpt2");
    }
    expect((await storeApi(stack.baseUrl, token, "DELETE", "/org/snippets")).status).toBe(204);
  }, 120_000);

  it("mounts a model read-only at $MODEL_PATH, and names the setting for a hub id it lacks", async () => {
    const manifest = manifestOf("org/mounted", files);
    const plan = await storeApi(stack.baseUrl, token, "POST", "/uploads", manifest);
    await sendMissing(stack.baseUrl, token, files, plan.json);
    expect((await storeApi(stack.baseUrl, token, "POST", "/commits", manifest)).status).toBe(201);

    const code = [
      "import json, os",
      'path = os.environ["MODEL_PATH"]',
      "print(path)",
      'print(json.load(open(os.path.join(path, "config.json")))["marker"])',
      'print(os.path.getsize(os.path.join(path, "model.safetensors")))',
      // The mount itself is read-only (the files are also 0444, so a write fails with EACCES before EROFS).
      'print("read-only mount", bool(os.statvfs(path).f_flag & os.ST_RDONLY))',
      "for attempt in (lambda: open(os.path.join(path, 'config.json'), 'a'), lambda: open(os.path.join(path, 'new.bin'), 'w')):",
      "    try:",
      "        attempt()",
      '        print("writable")',
      "    except OSError as error:",
      '        print("refused")',
    ].join("\n");
    // `cpu_cores`: the published SDK's name for vcpus.
    const created = await sandboxApi(stack, token, "POST", "/sandboxes", {
      runtime: "python",
      model: { name: "org/mounted", path: "./models/org/mounted" },
      code,
      timeout: 60,
      cpu_cores: 0.5,
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    // The published SDK's instance fields.
    expect(created.json).toMatchObject({ type: "cpu", gpu: null, vcpus: 0.5, model: "org/mounted" });
    expect(created.json.endpoint).toMatch(new RegExp(`^https?://[^/]+/api/v1/sandboxes/${created.json.id}/runs$`));
    try {
      const run = await sandboxApi(stack, token, "POST", `/sandboxes/${created.json.id}/runs?wait=1`, {});
      const marker = JSON.parse(files[0].bytes.toString()).marker;
      expect(run.json.stdout).toBe(`/models/org/mounted\n${marker}\n${files[1].bytes.length}\nread-only mount True\nrefused\nrefused\n`);
      // In use: the store will not delete it under the sandbox.
      expect((await storeApi(stack.baseUrl, token, "DELETE", "/org/mounted")).status).toBe(409);
    } finally {
      await sandboxApi(stack, token, "DELETE", `/sandboxes/${created.json.id}`);
    }
    expect((await storeApi(stack.baseUrl, token, "DELETE", "/org/mounted")).status).toBe(204);

    const hub = await sandboxApi(stack, token, "POST", "/sandboxes", { runtime: "python", model: "Qwen/Qwen3-8B", code: "print(1)" });
    expect(hub.status).toBe(400);
    expect(hub.json.field).toBe("model");
    expect(hub.json.error).toContain("Qwen/Qwen3-8B");
    expect(hub.json.error).toContain("MODEL_FETCH=1");
  }, 180_000);
});
