# The chosen model is mounted read-only at MODEL_PATH (a folder in Hugging Face layout).
import json
import os

path = os.environ["MODEL_PATH"]
print("model folder:", path)
for root, _, files in os.walk(path):
    for name in sorted(files):
        file = os.path.join(root, name)
        print(f"  {os.path.relpath(file, path)}: {os.path.getsize(file)} bytes")

config_file = os.path.join(path, "config.json")
if os.path.exists(config_file):
    with open(config_file) as f:
        config = json.load(f)
    print("model_type:", config.get("model_type"), "| architectures:", config.get("architectures"))

# Loading the weights needs transformers (and torch): a sandbox with them in `requirements`, or a GPU sandbox on
# the GPU image, can run:
#   from transformers import AutoModelForCausalLM, AutoTokenizer
#   model = AutoModelForCausalLM.from_pretrained(path)
try:
    from transformers import AutoConfig
    print("transformers reads it as", type(AutoConfig.from_pretrained(path)).__name__)
except ImportError:
    print("(transformers is not installed in this image: the folder is read as plain files)")
