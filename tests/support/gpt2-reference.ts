import type { TinyCausalLm } from "./tiny-causal-lm";

/**
 * GPT-2's forward pass in plain float64 TypeScript, for the tiny model of tiny-causal-lm.ts: the tokens greedy
 * decoding must produce, to compare with what transformers generated in the sandbox. `margin` is the smallest gap
 * between the best and the second-best logit over the steps: float32 (torch) and float64 (here) may rank a near tie
 * differently, so a caller compares tokens only when the margin is clear.
 */
export function greedyTokens(model: TinyCausalLm, prompt: number[], newTokens: number, forbidden: number[] = []): { tokens: number[]; margin: number } {
  const tokens = [...prompt];
  let margin = Infinity;
  for (let step = 0; step < newTokens; step++) {
    const logits = lastLogits(model, tokens);
    let best = -1;
    let second = -1;
    for (let id = 0; id < logits.length; id++) {
      if (forbidden.includes(id)) continue;
      if (best < 0 || logits[id] > logits[best]) [second, best] = [best, id];
      else if (second < 0 || logits[id] > logits[second]) second = id;
    }
    margin = Math.min(margin, logits[best] - logits[second]);
    tokens.push(best);
  }
  return { tokens: tokens.slice(prompt.length), margin };
}

function lastLogits(model: TinyCausalLm, tokens: number[]): number[] {
  const { n_embd: width, n_head: heads, n_layer: layers, layer_norm_epsilon: eps } = model.config;
  const weight = (name: string) => model.tensors.get(name)!.data;
  const headSize = width / heads;
  const wte = weight("transformer.wte.weight");
  const wpe = weight("transformer.wpe.weight");
  let x = tokens.map((token, position) => Array.from({ length: width }, (_, i) => wte[token * width + i] + wpe[position * width + i]));
  for (let layer = 0; layer < layers; layer++) {
    const p = `transformer.h.${layer}`;
    const a = x.map((row) => layerNorm(row, weight(`${p}.ln_1.weight`), weight(`${p}.ln_1.bias`), eps));
    const qkv = a.map((row) => linear(row, weight(`${p}.attn.c_attn.weight`), weight(`${p}.attn.c_attn.bias`)));
    const attended = qkv.map((_, t) => {
      const out = new Array<number>(width).fill(0);
      for (let h = 0; h < heads; h++) {
        const q = (s: number, i: number) => qkv[s][h * headSize + i];
        const k = (s: number, i: number) => qkv[s][width + h * headSize + i];
        const v = (s: number, i: number) => qkv[s][2 * width + h * headSize + i];
        const scores = Array.from({ length: t + 1 }, (_, s) => {
          let dot = 0;
          for (let i = 0; i < headSize; i++) dot += q(t, i) * k(s, i);
          return dot / Math.sqrt(headSize);
        });
        const weights = softmax(scores);
        for (let i = 0; i < headSize; i++) out[h * headSize + i] = weights.reduce((sum, w, s) => sum + w * v(s, i), 0);
      }
      return out;
    });
    x = x.map((row, t) => add(row, linear(attended[t], weight(`${p}.attn.c_proj.weight`), weight(`${p}.attn.c_proj.bias`))));
    const m = x.map((row) => layerNorm(row, weight(`${p}.ln_2.weight`), weight(`${p}.ln_2.bias`), eps));
    const hidden = m.map((row) => linear(row, weight(`${p}.mlp.c_fc.weight`), weight(`${p}.mlp.c_fc.bias`)).map(geluNew));
    x = x.map((row, t) => add(row, linear(hidden[t], weight(`${p}.mlp.c_proj.weight`), weight(`${p}.mlp.c_proj.bias`))));
  }
  const last = layerNorm(x[x.length - 1], weight("transformer.ln_f.weight"), weight("transformer.ln_f.bias"), eps);
  // The LM head is tied to the token embeddings.
  return Array.from({ length: model.config.vocab_size }, (_, id) => last.reduce((sum, value, i) => sum + value * wte[id * width + i], 0));
}

/** Conv1D as GPT-2 stores it: weight [in, out], row-major. */
function linear(input: number[], weight: Float32Array, bias: Float32Array): number[] {
  const out = Array.from(bias);
  for (let i = 0; i < input.length; i++) {
    for (let o = 0; o < out.length; o++) out[o] += input[i] * weight[i * out.length + o];
  }
  return out;
}

function layerNorm(row: number[], scale: Float32Array, bias: Float32Array, eps: number): number[] {
  const mean = row.reduce((a, b) => a + b, 0) / row.length;
  const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length;
  return row.map((value, i) => ((value - mean) / Math.sqrt(variance + eps)) * scale[i] + bias[i]);
}

const add = (a: number[], b: number[]) => a.map((value, i) => value + b[i]);
const geluNew = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

function softmax(values: number[]): number[] {
  const max = Math.max(...values);
  const exps = values.map((value) => Math.exp(value - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((value) => value / total);
}
