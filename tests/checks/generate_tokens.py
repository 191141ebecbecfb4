# Runs inside a CPU sandbox (tests/checks/model-generation.check.ts): loads the store model at $MODEL_PATH with
# transformers on CPU, generates NEW_TOKENS tokens greedily from PROMPT, and prints what it measured as one JSON line.
# PROMPT and NEW_TOKENS are prepended by the check.
import json
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the sandbox has no network: never ask the hub
started = time.monotonic()
import torch  # noqa: E402
import transformers  # noqa: E402

imported = time.monotonic()
torch.set_num_threads(1)
path = os.environ["MODEL_PATH"]
tokenizer = transformers.AutoTokenizer.from_pretrained(path)
model, info = transformers.AutoModelForCausalLM.from_pretrained(path, output_loading_info=True)
model.eval()
loaded = time.monotonic()
inputs = tokenizer(PROMPT, return_tensors="pt")  # noqa: F821
with torch.no_grad():
    output = model.generate(**inputs, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS, do_sample=False)  # noqa: F821
generated = time.monotonic()
prompt_ids = inputs["input_ids"][0].tolist()
new_ids = output[0, len(prompt_ids) :].tolist()
result = {
    "modelPath": path,
    "torch": torch.__version__,
    "transformers": transformers.__version__,
    "cudaAvailable": torch.cuda.is_available(),
    "promptIds": prompt_ids,
    "newIds": new_ids,
    "text": tokenizer.decode(new_ids),
    "missingKeys": sorted(info.get("missing_keys", [])),
    "unexpectedKeys": sorted(info.get("unexpected_keys", [])),
    "mismatchedKeys": [str(key) for key in info.get("mismatched_keys", [])],
    "embeddingSum": model.transformer.wte.weight.double().sum().item(),
    "importS": round(imported - started, 2),
    "loadS": round(loaded - imported, 2),
    "generateS": round(generated - loaded, 2),
}
print("RESULT " + json.dumps(result))
