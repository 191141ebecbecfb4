#!/bin/bash
# Build a current gVisor runsc from the pinned Go module gvisor.dev/gvisor and print its path.
# Cached per version under /var/lib/sandpit/runsc/<version>/runsc: a rerun costs nothing.
# The patches in scripts/runsc-patches/ are applied first (see each file); they are part of the cache key.
# Needs a Go toolchain (`go` on PATH or /usr/local/go/bin/go; GOTOOLCHAIN is honoured, so a pinned
# newer toolchain is fetched where the module needs one). Without one it prints nothing and exits 1:
# host-setup.sh then registers Debian's runsc instead. Building takes ~1.5–3.5 min of two cores.
# Logs go to stderr; stdout is only the binary's path. SANDPIT_RUNSC_CACHED_ONLY=1: never build, only
# print the cached binary (setup.sh builds in the background while images build, then registers it).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MODULE_VERSION=${SANDPIT_RUNSC_VERSION:-v0.0.0-20260905035102-160fafc42237}
PATCHES=("$HERE"/runsc-patches/*.patch)
PATCH_ID=$(cat "${PATCHES[@]}" | sha256sum | cut -c1-8)
VERSION=$MODULE_VERSION+sandpit.$PATCH_ID
DIR=/var/lib/sandpit/runsc/$VERSION
log() { printf 'install-runsc: %s\n' "$*" >&2; }

# (grep reads all of it: `grep -q` would exit at the match and, under pipefail, the writer's SIGPIPE fails the check.)
if [[ -x $DIR/runsc ]] && "$DIR/runsc" --version 2>/dev/null | grep -F "$VERSION" >/dev/null; then
    echo "$DIR/runsc"; exit 0
fi
if [[ ${SANDPIT_RUNSC_CACHED_ONLY:-0} == 1 ]]; then
    log "runsc $VERSION not built yet (setup builds it in the background)"
    exit 1
fi
GO=$(command -v go || true)
[[ -n $GO ]] || { [[ -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go; }
if [[ -z $GO ]]; then
    log "no Go toolchain: keeping Debian's runsc"
    exit 1
fi
# Caches of our own: CI may run without HOME (then Go has no module or build cache and refuses to build),
# and the root user's caches are none of this script's business.
export GOPATH=${GOPATH:-/var/lib/sandpit/go} GOMODCACHE=${GOMODCACHE:-/var/lib/sandpit/go/pkg/mod}
export GOCACHE=${GOCACHE:-/var/lib/sandpit/go/cache} GOFLAGS="${GOFLAGS:-} -buildvcs=false"
log "building runsc $VERSION with $("$GO" version) (a few minutes)"
mkdir -p "$DIR"
tmp=$(mktemp -d "$DIR/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
build() {
    local source
    source=$(cd "$tmp" && GOFLAGS=-mod=mod "$GO" mod download -json "gvisor.dev/gvisor@$MODULE_VERSION" | jq -r .Dir)
    [[ -d $source ]] || { log "module download failed"; return 1; }
    cp -r "$source" "$tmp/src"
    chmod -R u+w "$tmp/src"
    local patch
    for patch in "${PATCHES[@]}"; do patch -d "$tmp/src" -p1 --quiet < "$patch" >&2 || { log "patch $patch failed"; return 1; }; done
    # Pure Go (no cgo), stripped: one static 80 MB binary. -X stamps the version into `runsc --version`.
    # Lower priority: other work on the host goes first.
    (cd "$tmp/src" && CGO_ENABLED=0 nice -n 10 "$GO" build -o "$tmp/runsc" \
        -ldflags="-s -w -X gvisor.dev/gvisor/runsc/version.version=$VERSION" ./runsc >&2)
}
if ! build; then
    log "build failed: keeping Debian's runsc"
    exit 1
fi
"$tmp/runsc" --version >&2
mv "$tmp/runsc" "$DIR/runsc"   # atomic: a half-built binary is never at the cached path
echo "$DIR/runsc"
