/**
 * scripts/gpu-check: on a host with an NVIDIA GPU and a running Sandpit whose worker reports it
 * (GET /api/v1/health → gpus), starts GPU sandboxes and prints what they measured:
 *   1. a CUDA matrix product with PyTorch;
 *   2. a short generation with a tiny random-weight GPT-2 this script writes in Hugging Face layout and uploads
 *      to the model store;
 *   3. two sandboxes at once on one GPU (GPU_SLOTS_PER_DEVICE ≥ 2), each with its memory share.
 * The packages come through the sandbox requirements step (PyPI). NOT YET RUN ON REAL HARDWARE (README "GPU setup").
 * Use: SANDPIT_URL=http://127.0.0.1:3000 SANDPIT_API_TOKEN=... scripts/gpu-check
 */
import { createHash, randomBytes } from "node:crypto";

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

/** A GPT-2 with 2 layers of width 32 and random weights, as config.json + model.safetensors. */
function tinyGpt2(): { path: string; bytes: Buffer }[] {
  const embd = 32,
    layers = 2,
    vocab = 256,
    positions = 64;
  const shapes: Record<string, number[]> = { "wte.weight": [vocab, embd], "wpe.weight": [positions, embd], "ln_f.weight": [embd], "ln_f.bias": [embd] };
  for (let layer = 0; layer < layers; layer++) {
    const p = `h.${layer}.`;
    Object.assign(shapes, {
      [`${p}ln_1.weight`]: [embd],
      [`${p}ln_1.bias`]: [embd],
      [`${p}ln_2.weight`]: [embd],
      [`${p}ln_2.bias`]: [embd],
      [`${p}attn.c_attn.weight`]: [embd, 3 * embd],
      [`${p}attn.c_attn.bias`]: [3 * embd],
      [`${p}attn.c_proj.weight`]: [embd, embd],
      [`${p}attn.c_proj.bias`]: [embd],
      [`${p}mlp.c_fc.weight`]: [embd, 4 * embd],
      [`${p}mlp.c_fc.bias`]: [4 * embd],
      [`${p}mlp.c_proj.weight`]: [4 * embd, embd],
      [`${p}mlp.c_proj.bias`]: [embd],
    });
  }
  const header: Record<string, unknown> = {};
  const data: Buffer[] = [];
  let offset = 0;
  for (const [name, shape] of Object.entries(shapes)) {
    const count = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(count).map(() => (name.includes("ln_") && name.endsWith("weight") ? 1 : (Math.random() - 0.5) * 0.04));
    const bytes = Buffer.from(values.buffer);
    header[name] = { dtype: "F32", shape, data_offsets: [offset, offset + bytes.length] };
    data.push(bytes);
    offset += bytes.length;
  }
  const headerJson = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(headerJson.length));
  const config = {
    model_type: "gpt2",
    architectures: ["GPT2LMHeadModel"],
    n_embd: embd,
    n_layer: layers,
    n_head: 2,
    vocab_size: vocab,
    n_positions: positions,
    bos_token_id: 0,
    eos_token_id: 0,
  };
  return [
    { path: "config.json", bytes: Buffer.from(JSON.stringify(config)) },
    { path: "model.safetensors", bytes: Buffer.concat([length, headerJson, ...data]) },
  ];
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
const GENERATE = `
import os, time, torch
from transformers import AutoModelForCausalLM
model = AutoModelForCausalLM.from_pretrained(os.environ["MODEL_PATH"]).to("cuda")
t = time.perf_counter()
out = model.generate(torch.tensor([[1, 2, 3]], device="cuda"), max_new_tokens=16, do_sample=False, pad_token_id=0)
print("generated", out.shape[1] - 3, "tokens in", f"{time.perf_counter() - t:.2f} s on", torch.cuda.get_device_name(0))
`;

async function main() {
  const health = await api("GET", "/health");
  console.log("GPUs:", JSON.stringify(health.gpus));
  if (!health.gpus?.available) throw new Error(`no usable GPU: ${health.gpus?.reason}`);
  await inSandbox("matmul", MATMUL);
  const name = `gpu-check-${randomBytes(3).toString("hex")}`;
  await upload(name, tinyGpt2());
  try {
    await inSandbox("generate", GENERATE, name);
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
