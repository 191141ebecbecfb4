#!/bin/bash
# Builds sandpit/app (deploy/Dockerfile) for deploy/compose.yaml: this checkout with its node_modules and Next.js
# build, and this host's Node.js, on sandpit/base. Needs no registry: run `bash scripts/setup.sh` first (it builds
# sandpit/base and the runtime images, installs the dependencies and builds the web app), then this.
# Usage: deploy/build-app-image.sh [TAG]   (default sandpit/app:latest)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tag=${1:-sandpit/app:latest}
docker image inspect sandpit/base:latest >/dev/null 2>&1 || { echo "build-app-image: no sandpit/base image: run bash scripts/build-images.sh" >&2; exit 1; }
[[ -d node_modules ]] || { echo "build-app-image: no node_modules: run bash scripts/setup.sh first" >&2; exit 1; }
bash scripts/build-web.sh
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/app"
cp deploy/Dockerfile "$stage/Dockerfile"
cp "$(readlink -f "$(command -v node)")" "$stage/node"
# The app: tracked (and new, unignored) files, the dependencies and the web build; not its cache, data or results.
{
    git ls-files --cached --others --exclude-standard | grep -v -e '^data/' -e '^bench/' -e '^deploy/' || true
    echo node_modules
    echo .next
} >"$stage/files"
tar -c -f - --exclude=.next/cache --verbatim-files-from -T "$stage/files" | tar -x -f - -C "$stage/app"
# The legacy builder, as scripts/build-images.sh: Debian's Docker CLI has no buildx.
DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$stage"
echo "build-app-image: built $tag"
