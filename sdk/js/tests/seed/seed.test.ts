/**
 * The seed's snippets, copied with only the import line changed (see each file's header), run against a live Sandpit.
 * This machine has no GPU: the GPU snippet runs up to its create, which must fail with the server's 400 naming why.
 * The stack's caps are raised to the seed's GPU request (10000 MB, 6 vCPUs), so the GPU is what the server refuses.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startStack, type Stack } from "../../../../tests/support/stack.js";
import { BuildfunctionsError, Client, CPUSandbox, uploadModel, ValidationError } from "../../src/index.js";
import { createToken } from "../support.js";

let stack: Stack;
let client: Client;
let scratch: string;

beforeAll(async () => {
  stack = await startStack({ containerRuntime: "runc", webEnv: { RUN_MEMORY_MAX_MB: "16384", RUN_VCPUS_MAX: "8" } });
  const token = createToken(stack.dataDir);
  process.env.SANDPIT_API_TOKEN = token;
  process.env.SANDPIT_BASE_URL = stack.baseUrl;
  client = new Client({ apiToken: token, baseUrl: stack.baseUrl });
  scratch = mkdtempSync(path.join(os.tmpdir(), "sandpit-seed-"));
}, 300_000);

afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await stack?.stop();
});

/** A tiny folder in Hugging Face layout (config, tokenizer, weights); not a real model, but real bytes to store. */
function tinyModel(name: string, weightsBytes: number): string {
  const folder = path.join(scratch, name);
  mkdirSync(path.join(folder, "tokenizer"), { recursive: true });
  writeFileSync(path.join(folder, "config.json"), JSON.stringify({ model_type: "tiny", hidden_size: 8 }));
  writeFileSync(path.join(folder, "tokenizer", "vocab.txt"), "a\nb\nc\n");
  writeFileSync(path.join(folder, "model.safetensors"), Buffer.alloc(weightsBytes, 7));
  writeFileSync(path.join(folder, ".gitattributes"), "*.safetensors filter=lfs\n"); // hidden: not uploaded
  return folder;
}

describe("seed snippets, unchanged but for the import line", () => {
  it("CPU snippet: creates, runs, prints the sandbox's stdout and deletes", async () => {
    const printed: unknown[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((...args) => void printed.push(...args));
    try {
      await import("./cpu-snippet.js");
    } finally {
      log.mockRestore();
    }
    expect(printed.join("\n")).toContain("Hello from Sandbox!");
  });

  it("GPU snippet: its model path names the store's model, and create fails with the server's GPU answer", async () => {
    // The seed's model path does not exist here: the SDK sends its folder name, so the store must hold "Qwen3-8B".
    await uploadModel(client, "Qwen3-8B", tinyModel("Qwen3-8B", 4096));
    const error = await import("./gpu-snippet.js").then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(BuildfunctionsError);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ statusCode: 400, code: "validation", field: "gpu" });
    expect((error as Error).message).toMatch(/no worker has a GPU/);
  });
});

describe("model upload through the SDK", () => {
  it("uploads a local folder before create, mounts it at MODEL_PATH, and skips what the store has", async () => {
    // Another model with the same config and vocab: their blobs are in the store before this upload.
    await uploadModel(client, "tiny-shared", tinyModel("tiny-shared", 10));
    const folder = tinyModel("tiny-upload", 100_000);
    const sharedBytes = JSON.stringify({ model_type: "tiny", hidden_size: 8 }).length + "a\nb\nc\n".length;
    const code =
      "import os\nroot = os.environ['MODEL_PATH']\nprint(sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs))";
    const first = await CPUSandbox.create({ language: "python", model: folder, code, timeout: 60 });
    try {
      expect(first.modelUpload).toEqual({ name: "tiny-upload", files: 3, sentBytes: 100_000, skippedBytes: sharedBytes });
      const listed = await first.run();
      expect(listed.stdout.trim()).toBe("['config.json', 'model.safetensors', 'tokenizer/vocab.txt']");
    } finally {
      await first.delete();
    }
    // The same folder again, and under another name: nothing is sent, the blobs are shared.
    const again = await CPUSandbox.create({ language: "python", model: { name: "tiny-again", path: folder }, code: "print(1)", timeout: 60 });
    await again.delete();
    expect(again.modelUpload).toMatchObject({ name: "tiny-again", sentBytes: 0, files: 3 });
  });

  it("resumes an interrupted blob upload from where the store says it stopped", async () => {
    const folder = path.join(scratch, "tiny-resume");
    mkdirSync(folder);
    const weights = Buffer.alloc(50_000, 9); // bytes no other test stored
    writeFileSync(path.join(folder, "model.safetensors"), weights);
    const { createHash } = await import("node:crypto");
    const sha256 = createHash("sha256").update(weights).digest("hex");
    // An upload that stopped after 20 000 bytes.
    await client.requestBytes("PUT", `/api/v1/models/blobs/${sha256}`, weights.subarray(0, 20_000), { "content-range": `bytes 0-19999/50000` });
    const upload = await uploadModel(client, "tiny-resume", folder);
    expect(upload.sentBytes).toBe(30_000); // only the rest
    const listed = await client.request<{ name: string; sizeBytes: number }>("GET", "/api/v1/models/tiny-resume");
    expect(listed.sizeBytes).toBe(50_000);
  });
});
