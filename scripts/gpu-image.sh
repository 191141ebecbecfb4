#!/bin/bash
# Builds sandpit/python-gpu (CUDA-enabled PyTorch, transformers and accelerate from PyPI) on top of sandpit/python.
# Not part of the default test run or build-images.sh: it downloads gigabytes. Cached: an image whose recipe label
# matches images/python-gpu is kept; Docker's layer cache keeps the pip layer across unrelated rebuilds.
# pip inside the build trusts the host's CA bundle (a TLS-inspecting proxy's CA included); only the build's first
# stage sees it (images/python-gpu/Dockerfile).
# Use: bash scripts/gpu-image.sh   (then IMAGE for GPU sandboxes: sandpit/python-gpu)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
HOST_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
export DOCKER_BUILDKIT=0   # as build-images.sh: the Debian daemon + CLI here have no buildx
recipe=$( (cat images/python-gpu/*; docker image inspect --format '{{.Id}}' sandpit/python) | sha256sum | cut -c1-16)
if [[ $(docker image inspect --format '{{index .Config.Labels "sandpit.recipe"}}' sandpit/python-gpu 2>/dev/null || true) == "$recipe" ]]; then
    echo "sandpit/python-gpu is up to date ($recipe)"
    exit 0
fi
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp images/python-gpu/* "$context/"
if [[ -r $HOST_CA_BUNDLE ]]; then cp "$HOST_CA_BUNDLE" "$context/host-ca.crt"; else : >"$context/host-ca.crt"; fi
started=$SECONDS
docker build --label "sandpit.recipe=$recipe" -t sandpit/python-gpu "$context"
echo "sandpit/python-gpu built in $((SECONDS - started)) s, $(docker image inspect --format '{{.Size}}' sandpit/python-gpu) bytes"
