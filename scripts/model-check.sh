#!/bin/bash
# npm run check:model: a tiny random-weight causal LM, made by the test in Hugging Face layout, uploaded through the
# TypeScript and the Python SDK, loaded with transformers on CPU in a CPU sandbox from MODEL_PATH, generating a few
# tokens (tests/checks/model-generation.check.ts). Not part of `npm test`: the sandbox's torch comes from the GPU
# image (scripts/gpu-image.sh: about 6 GB from PyPI, minutes to build). No GPU needed.
# MODEL_CHECK_RUNTIME=runc|runsc (default runsc, gVisor) picks the sandboxes' container runtime.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
bash scripts/gpu-image.sh
source scripts/sdk-venv.sh
npx vitest run --config vitest.checks.config.ts
