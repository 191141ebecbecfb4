import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * A tiny GPT-2 causal LM in Hugging Face layout, written by hand (no torch on the host): config.json,
 * generation_config.json, a word-level tokenizer.json with its tokenizer_config.json, and model.safetensors
 * (an 8-byte little-endian header length, a JSON header, then raw little-endian float32 tensors).
 * The weights come from a seeded generator, so the same seed writes the same bytes (and the store dedupes them).
 */
export type TinyCausalLm = {
  folder: string;
  /** Words of the vocabulary, by token id (0: `<unk>`, 1: `<eos>`). */
  vocab: string[];
  /** The sum of the token embedding matrix (`transformer.wte.weight`) as float64 of its float32 values. */
  embeddingSum: number;
  parameters: number;
  /** The weight tensors by name, as written (row-major). */
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  config: typeof CONFIG;
};

const CONFIG = {
  architectures: ["GPT2LMHeadModel"],
  model_type: "gpt2",
  vocab_size: 64,
  n_positions: 64,
  n_embd: 32,
  n_layer: 2,
  n_head: 2,
  n_inner: null,
  activation_function: "gelu_new",
  resid_pdrop: 0,
  embd_pdrop: 0,
  attn_pdrop: 0,
  layer_norm_epsilon: 1e-5,
  initializer_range: 0.02,
  bos_token_id: 1,
  eos_token_id: 1,
  pad_token_id: 0,
  tie_word_embeddings: true,
  torch_dtype: "float32",
};

/** mulberry32: a small seeded generator; plenty for weights nobody trains. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The tensors GPT2LMHeadModel loads (lm_head is tied to the token embeddings); Conv1D weights are [in, out]. */
function gpt2Shapes(): [string, number[]][] {
  const { vocab_size: vocab, n_positions: positions, n_embd: width, n_layer: layers } = CONFIG;
  const shapes: [string, number[]][] = [
    ["transformer.wte.weight", [vocab, width]],
    ["transformer.wpe.weight", [positions, width]],
  ];
  for (let layer = 0; layer < layers; layer++) {
    const prefix = `transformer.h.${layer}`;
    shapes.push(
      [`${prefix}.ln_1.weight`, [width]],
      [`${prefix}.ln_1.bias`, [width]],
      [`${prefix}.attn.c_attn.weight`, [width, 3 * width]],
      [`${prefix}.attn.c_attn.bias`, [3 * width]],
      [`${prefix}.attn.c_proj.weight`, [width, width]],
      [`${prefix}.attn.c_proj.bias`, [width]],
      [`${prefix}.ln_2.weight`, [width]],
      [`${prefix}.ln_2.bias`, [width]],
      [`${prefix}.mlp.c_fc.weight`, [width, 4 * width]],
      [`${prefix}.mlp.c_fc.bias`, [4 * width]],
      [`${prefix}.mlp.c_proj.weight`, [4 * width, width]],
      [`${prefix}.mlp.c_proj.bias`, [width]],
    );
  }
  shapes.push(["transformer.ln_f.weight", [width]], ["transformer.ln_f.bias", [width]]);
  return shapes;
}

/** safetensors: u64 LE header length, the JSON header (offsets into the data), the data; header padded to 8 bytes. */
export function safetensorsBytes(tensors: Map<string, { shape: number[]; data: Float32Array }>): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  let offset = 0;
  for (const [name, { shape, data }] of tensors) {
    header[name] = { dtype: "F32", shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + json.length) % 8)) % 8);
  const out = Buffer.alloc(8 + json.length + offset);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  out.write(json, 8, "utf8");
  let at = 8 + json.length;
  for (const { data } of tensors.values()) {
    for (let i = 0; i < data.length; i++, at += 4) out.writeFloatLE(data[i], at);
  }
  return out;
}

export function writeTinyCausalLm(folder: string, seed = 1): TinyCausalLm {
  const random = seededRandom(seed);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, shape] of gpt2Shapes()) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    // LayerNorm scales near 1 and biases near 0; everything else small and random, like an untrained model.
    const isNormScale = /ln_.*\.weight$/.test(name);
    for (let i = 0; i < data.length; i++) data[i] = isNormScale ? 1 + (random() - 0.5) * 0.2 : (random() - 0.5) * 0.4;
    tensors.set(name, { shape, data });
  }
  const vocab = ["<unk>", "<eos>", ...Array.from({ length: CONFIG.vocab_size - 2 }, (_, i) => `w${i}`)];
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: vocab.slice(0, 2).map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: "WhitespaceSplit" },
    post_processor: null,
    decoder: null,
    model: { type: "WordLevel", vocab: Object.fromEntries(vocab.map((word, id) => [word, id])), unk_token: "<unk>" },
  };
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, "config.json"), JSON.stringify(CONFIG, null, 2));
  writeFileSync(
    path.join(folder, "generation_config.json"),
    JSON.stringify({ bos_token_id: CONFIG.bos_token_id, eos_token_id: CONFIG.eos_token_id, pad_token_id: CONFIG.pad_token_id }),
  );
  writeFileSync(path.join(folder, "tokenizer.json"), JSON.stringify(tokenizer));
  writeFileSync(
    path.join(folder, "tokenizer_config.json"),
    JSON.stringify({
      tokenizer_class: "PreTrainedTokenizerFast",
      unk_token: "<unk>",
      eos_token: "<eos>",
      bos_token: "<eos>",
      pad_token: "<unk>",
      model_max_length: CONFIG.n_positions,
    }),
  );
  writeFileSync(path.join(folder, "model.safetensors"), safetensorsBytes(tensors));
  const embeddings = tensors.get("transformer.wte.weight")!.data;
  let embeddingSum = 0;
  for (const value of embeddings) embeddingSum += value;
  let parameters = 0;
  for (const { data } of tensors.values()) parameters += data.length;
  return { folder, vocab, embeddingSum, parameters, tensors, config: CONFIG };
}
