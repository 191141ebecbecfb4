/**
 * scripts/gpu-check: on a host with an NVIDIA GPU and a running Sandpit whose worker reports it
 * (GET /api/v1/health → gpus), starts GPU sandboxes and prints what they measured:
 *   1. a CUDA matrix product with PyTorch;
 *   2. a short generation with the tiny random-weight GPT-2 of `npm run check:model`, written here in Hugging Face
 *      layout and uploaded to the model store, its tokens compared with a float64 reference forward pass;
 *   3. two sandboxes at once on one GPU (GPU_SLOTS_PER_DEVICE ≥ 2), each with its memory share.
 * The packages come from sandpit/python-gpu when built (scripts/gpu-image.sh), else through the sandbox requirements
 * step (PyPI). NOT YET RUN ON REAL HARDWARE (README "GPU setup").
 * Use: SANDPIT_URL=http://127.0.0.1:3000 SANDPIT_API_TOKEN=... scripts/gpu-check
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { greedyTokens } from "../tests/support/gpt2-reference";
import { writeTinyCausalLm, type TinyCausalLm } from "../tests/support/tiny-causal-lm";

const baseUrl = (process.env.SANDPIT_URL ?? "http://127.0.0.1:3000").replace(/\/$/, "");
const token = process.env.SANDPIT_API_TOKEN ?? "";
const gpu = process.env.GPU_TYPE ?? "any";

async function api(method: string, route: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${baseUrl}/api/v1${route}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined || body instanceof Uint8Array ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : body instanceof Uint8Array ? (body as unknown as BodyInit) : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** The tiny GPT-2 of `npm run check:model` (tests/support/tiny-causal-lm.ts), as the files to upload. */
function tinyGpt2(): { model: TinyCausalLm; files: { path: string; bytes: Buffer }[] } {
  const folder = mkdtempSync(path.join(os.tmpdir(), "sandpit-gpu-check-"));
  try {
    const model = writeTinyCausalLm(folder);
    return { model, files: readdirSync(folder).map((file) => ({ path: file, bytes: readFileSync(path.join(folder, file)) })) };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

async function upload(name: string, files: { path: string; bytes: Buffer }[]) {
  const manifest = {
    name,
    files: files.map((file) => ({ path: file.path, sha256: createHash("sha256").update(file.bytes).digest("hex"), size: file.bytes.length })),
  };
  const plan = await api("POST", "/models/uploads", manifest);
  for (const blob of plan.missing) {
    const bytes = files[manifest.files.findIndex((file) => file.sha256 === blob.sha256)].bytes;
    for (let start = blob.offset; start < bytes.length; start += plan.chunkMaxBytes) {
      const end = Math.min(bytes.length, start + plan.chunkMaxBytes) - 1;
      await api("PUT", `/models/blobs/${blob.sha256}`, new Uint8Array(bytes.subarray(start, end + 1)), {
        "content-range": `bytes ${start}-${end}/${bytes.length}`,
      });
    }
  }
  await api("POST", "/models/commits", manifest);
}

async function inSandbox(label: string, code: string, model?: string) {
  const started = performance.now();
  const sandbox = await api("POST", "/sandboxes", { runtime: "python", gpu, code, model, timeout: 300, memory: "8GB", requirements: REQUIREMENTS });
  const ready = performance.now();
  try {
    const run = await api("POST", `/sandboxes/${sandbox.id}/runs?wait=1`, {});
    console.log(`[${label}] create ${((ready - started) / 1000).toFixed(1)} s, run ${((performance.now() - ready) / 1000).toFixed(1)} s, exit ${run.exitCode}`);
    console.log(run.stdout.trim(), run.stderr.trim() ? `\n[stderr] ${run.stderr.trim().slice(-2000)}` : "");
    return run;
  } finally {
    await api("DELETE", `/sandboxes/${sandbox.id}`).catch(() => {});
  }
}

// Carried by sandpit/python-gpu when it is built (scripts/gpu-image.sh); otherwise installed by the requirements step.
const REQUIREMENTS = ["torch", "transformers", "safetensors"];
const MATMUL = `
import os, time, torch
assert torch.cuda.is_available(), "CUDA is not available in the sandbox"
a = torch.randn(4096, 4096, device="cuda"); b = torch.randn(4096, 4096, device="cuda")
torch.cuda.synchronize(); t = time.perf_counter()
for _ in range(10): c = a @ b
torch.cuda.synchronize(); s = time.perf_counter() - t
print(torch.cuda.get_device_name(0), f"{10 * 2 * 4096**3 / s / 1e12:.1f} TFLOP/s fp32",
      "share", os.environ.get("SANDPIT_GPU_MEMORY_FRACTION"), "visible", os.environ.get("CUDA_VISIBLE_DEVICES"))
`;
// Greedy, exactly NEW_TOKENS new tokens (the end token is held off) from token ids 2 3 4 ("w0 w1 w2").
const PROMPT_IDS = [2, 3, 4];
const NEW_TOKENS = 16;
const GENERATE = `
import json, os, time, torch
from transformers import AutoModelForCausalLM
model = AutoModelForCausalLM.from_pretrained(os.environ["MODEL_PATH"]).to("cuda")
t = time.perf_counter()
out = model.generate(torch.tensor([${JSON.stringify(PROMPT_IDS)}], device="cuda"), max_new_tokens=${NEW_TOKENS}, min_new_tokens=${NEW_TOKENS}, do_sample=False)
torch.cuda.synchronize()
print("generated", out.shape[1] - ${PROMPT_IDS.length}, "tokens in", f"{time.perf_counter() - t:.2f} s on", torch.cuda.get_device_name(0))
print("TOKENS " + json.dumps(out[0, ${PROMPT_IDS.length}:].tolist()))
`;

async function main() {
  const health = await api("GET", "/health");
  console.log("GPUs:", JSON.stringify(health.gpus));
  if (!health.gpus?.available) throw new Error(`no usable GPU: ${health.gpus?.reason}`);
  await inSandbox("matmul", MATMUL);
  const name = `gpu-check-${randomBytes(3).toString("hex")}`;
  const { model, files } = tinyGpt2();
  await upload(name, files);
  try {
    const generated = await inSandbox("generate", GENERATE, name);
    const line = generated.stdout.split("\n").find((text: string) => text.startsWith("TOKENS "));
    const tokens = line ? (JSON.parse(line.slice("TOKENS ".length)) as number[]) : [];
    const expected = greedyTokens(model, PROMPT_IDS, NEW_TOKENS, [model.config.eos_token_id]);
    // A near tie between the best two logits may rank differently in float32 on a GPU: then only the count counts.
    const same = expected.margin < 1e-3 ? tokens.length === NEW_TOKENS : JSON.stringify(tokens) === JSON.stringify(expected.tokens);
    console.log(`[generate] ${same ? "as" : "NOT as"} the float64 reference (${JSON.stringify(expected.tokens)}, margin ${expected.margin.toFixed(4)})`);
    if (!same) process.exitCode = 1;
    const both = await Promise.all([inSandbox("shared-1", MATMUL), inSandbox("shared-2", MATMUL)]);
    console.log("two at once:", both.every((run) => run.exitCode === 0) ? "both ran" : "a run failed");
  } finally {
    await api("DELETE", `/models/${name}`).catch(() => {});
  }
}

main().catch((error) => {
  console.error("gpu-check failed:", error.message);
  process.exit(1);
});
