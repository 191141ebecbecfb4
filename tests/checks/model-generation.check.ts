/**
 * `npm run check:model` (scripts/model-check.sh; not part of `npm test`: it needs sandpit/python-gpu, gigabytes).
 *
 * A tiny random-weight GPT-2 in Hugging Face layout, written here by hand (tests/support/tiny-causal-lm.ts), goes
 * through both SDKs into the model store and is loaded with transformers on CPU in a CPU sandbox that asks for
 * `torch` and `transformers`, as a user would: the worker starts it from the GPU image, which carries them
 * (worker/sandboxes/sandbox-base-image.ts). The sandbox reads MODEL_PATH, generates NEW_TOKENS tokens greedily and
 * reports them; they must be the tokens a float64 GPT-2 forward pass here computes from the same weights
 * (tests/support/gpt2-reference.ts), with no weight missing or left unused.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CPUSandbox } from "../../sdk/js/src/index";
import { createToken } from "../../sdk/js/tests/support";
import { greedyTokens } from "../support/gpt2-reference";
import { startStack, type ContainerRuntime, type Stack } from "../support/stack";
import { writeTinyCausalLm, type TinyCausalLm } from "../support/tiny-causal-lm";

const GPU_IMAGE = "sandpit/python-gpu";
const NEW_TOKENS = 8;
const PROMPT = "w0 w1 w2";
/** Token ids of PROMPT in the tiny vocabulary (`<unk>`, `<eos>`, then w0 = 2, w1 = 3, …). */
const PROMPT_IDS = [2, 3, 4];
const EOS_ID = 1;
/** Below this gap between the best two logits, float32 and float64 may rank them differently: tokens not compared. */
const CLEAR_MARGIN = 1e-3;
const root = path.resolve(import.meta.dirname, "../..");
const containerRuntime = (process.env.MODEL_CHECK_RUNTIME ?? "runsc") as ContainerRuntime;

type Generated = {
  modelPath: string;
  torch: string;
  transformers: string;
  cudaAvailable: boolean;
  promptIds: number[];
  newIds: number[];
  text: string;
  missingKeys: string[];
  unexpectedKeys: string[];
  mismatchedKeys: string[];
  embeddingSum: number;
  importS: number;
  loadS: number;
  generateS: number;
};

function parseGenerated(stdout: string): Generated {
  const line = stdout.split("\n").find((text) => text.startsWith("RESULT "));
  if (!line) throw new Error(`no RESULT line in the sandbox's stdout: ${stdout.slice(-2000)}`);
  return JSON.parse(line.slice("RESULT ".length)) as Generated;
}

describe(`a tiny causal LM from the store, generated on CPU (${containerRuntime})`, () => {
  let stack: Stack;
  let token: string;
  let scratch: string;
  let model: TinyCausalLm;
  let modelBytes: number;
  let expected: { tokens: number[]; margin: number };
  const code = `PROMPT = ${JSON.stringify(PROMPT)}\nNEW_TOKENS = ${NEW_TOKENS}\n` + readFileSync(path.join(import.meta.dirname, "generate_tokens.py"), "utf8");
  const measured: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const inspected = spawnSync("docker", ["image", "inspect", "--format", "{{.Size}}", GPU_IMAGE], { encoding: "utf8" });
    if (inspected.status !== 0) throw new Error(`${GPU_IMAGE} is not built: run bash scripts/gpu-image.sh (or npm run check:model)`);
    scratch = mkdtempSync(path.join(os.tmpdir(), "sandpit-model-check-"));
    model = writeTinyCausalLm(path.join(scratch, "tiny-gpt2"));
    modelBytes = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"]
      .map((file) => statSync(path.join(model.folder, file)).size)
      .reduce((a, b) => a + b, 0);
    expected = greedyTokens(model, PROMPT_IDS, NEW_TOKENS, [EOS_ID]);
    stack = await startStack({ containerRuntime });
    token = createToken(stack.dataDir);
  }, 300_000);

  afterAll(async () => {
    console.log(
      [
        `model check (${containerRuntime}): tiny GPT-2, ${model?.parameters} parameters, ${modelBytes} bytes in 5 files`,
        `expected tokens ${JSON.stringify(expected?.tokens)} (smallest top-2 logit gap ${expected?.margin.toFixed(4)})`,
        ...measured.map((row) => JSON.stringify(row)),
      ].join("\n"),
    );
    await stack?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  function checkGenerated(generated: Generated) {
    expect(generated.modelPath).toBe("/models/tiny-gpt2");
    expect(generated.cudaAvailable).toBe(false);
    expect(generated.promptIds).toEqual(PROMPT_IDS);
    // Every weight came from the file, none was initialised at random or left over.
    expect([generated.missingKeys, generated.unexpectedKeys, generated.mismatchedKeys]).toEqual([[], [], []]);
    expect(generated.embeddingSum).toBeCloseTo(model.embeddingSum, 9);
    expect(generated.newIds).toHaveLength(NEW_TOKENS);
    expect(generated.text.split(" ")).toHaveLength(NEW_TOKENS);
    if (expected.margin >= CLEAR_MARGIN) expect(generated.newIds).toEqual(expected.tokens);
  }

  it("TypeScript SDK: uploads the folder, and a CPU sandbox asking for torch + transformers generates from MODEL_PATH", async () => {
    const started = performance.now();
    const sandbox = await CPUSandbox.create({
      apiToken: token,
      baseUrl: stack.baseUrl,
      language: "python",
      model: model.folder,
      requirements: ["torch", "transformers"],
      code,
      memory: 2048,
      vcpus: 1,
      timeout: 300,
    });
    const created = performance.now();
    try {
      expect(sandbox.modelUpload).toEqual({ name: "tiny-gpt2", files: 5, sentBytes: modelBytes, skippedBytes: 0 });
      expect([sandbox.type, sandbox.gpu]).toEqual(["cpu", undefined]); // the TypeScript SDK: no GPU is undefined
      const result = await sandbox.run();
      const ran = performance.now();
      expect([result.state, result.exitCode], result.stderr).toEqual(["succeeded", 0]);
      const generated = parseGenerated(result.stdout);
      measured.push({
        sdk: "typescript",
        createS: +((created - started) / 1000).toFixed(2),
        runS: +((ran - created) / 1000).toFixed(2),
        ...generated,
      });
      checkGenerated(generated);
    } finally {
      await sandbox.delete();
    }
  }, 600_000);

  it("Python SDK: the same folder uploads nothing (the store has it) and generates the same tokens", () => {
    const codeFile = path.join(scratch, "generate.py");
    writeFileSync(codeFile, code);
    const python = path.join(root, ".venv-sdk/bin/python");
    const child = spawnSync(python, [path.join(import.meta.dirname, "python_sdk_generate.py"), model.folder, codeFile], {
      env: { ...process.env, SANDPIT_API_TOKEN: token, SANDPIT_BASE_URL: stack.baseUrl },
      encoding: "utf8",
      timeout: 540_000,
    });
    if (child.error) throw child.error;
    expect(child.status, `${child.stderr}\n(no .venv-sdk? bash scripts/sdk-venv.sh)`).toBe(0);
    const report = JSON.parse(child.stdout.trim().split("\n").pop()!) as {
      type: string;
      gpu: string | null;
      modelUpload: { name: string; files: number; sentBytes: number; skippedBytes: number };
      state: string;
      exitCode: number | null;
      stdout: string;
      stderr: string;
      createS: number;
      runS: number;
    };
    expect(report.modelUpload).toEqual({ name: "tiny-gpt2", files: 5, sentBytes: 0, skippedBytes: modelBytes });
    expect([report.type, report.gpu]).toEqual(["cpu", null]);
    expect([report.state, report.exitCode], report.stderr).toEqual(["succeeded", 0]);
    const generated = parseGenerated(report.stdout);
    measured.push({ sdk: "python", createS: report.createS, runS: report.runS, ...generated });
    checkGenerated(generated);
  }, 600_000);
});
