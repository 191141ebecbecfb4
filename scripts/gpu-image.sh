#!/bin/bash
# Builds sandpit/python-gpu (CUDA-enabled PyTorch, transformers and accelerate from PyPI) on top of sandpit/python.
# Not part of the default test run or build-images.sh: it downloads gigabytes. Cached: an image whose recipe label
# matches images/python-gpu is kept; Docker's layer cache keeps the pip layer across unrelated rebuilds.
# Use: bash scripts/gpu-image.sh   (then IMAGE for GPU sandboxes: sandpit/python-gpu)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
recipe=$( (cat images/python-gpu/*; docker image inspect --format '{{.Id}}' sandpit/python) | sha256sum | cut -c1-16)
if [[ $(docker image inspect --format '{{index .Config.Labels "sandpit.recipe"}}' sandpit/python-gpu 2>/dev/null || true) == "$recipe" ]]; then
    echo "sandpit/python-gpu is up to date ($recipe)"
    exit 0
fi
docker build --label "sandpit.recipe=$recipe" -t sandpit/python-gpu images/python-gpu
