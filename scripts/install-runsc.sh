#!/bin/bash
# Build a current gVisor runsc from the pinned Go module gvisor.dev/gvisor/runsc and print its path.
# Cached per version under /var/lib/sandpit/runsc/<version>/runsc: a rerun costs nothing.
# Needs a Go toolchain (`go` on PATH or /usr/local/go/bin/go; GOTOOLCHAIN is honoured, so a pinned
# newer toolchain is fetched where the module needs one). Without one it prints nothing and exits 1:
# host-setup.sh then registers Debian's runsc instead. Building takes ~1.5 min of two cores.
# Logs go to stderr; stdout is only the binary's path.
set -euo pipefail
RUNSC_VERSION=${SANDPIT_RUNSC_VERSION:-v0.0.0-20260905035102-160fafc42237}
DIR=/var/lib/sandpit/runsc/$RUNSC_VERSION
log() { printf 'install-runsc: %s\n' "$*" >&2; }

if [[ -x $DIR/runsc ]] && "$DIR/runsc" --version 2>/dev/null | grep -qF "$RUNSC_VERSION"; then
    echo "$DIR/runsc"; exit 0
fi
GO=$(command -v go || true)
[[ -n $GO ]] || { [[ -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go; }
if [[ -z $GO ]]; then
    log "no Go toolchain: keeping Debian's runsc"
    exit 1
fi
log "building runsc $RUNSC_VERSION with $("$GO" version) (about 1.5 min)"
mkdir -p "$DIR"
tmp=$(mktemp -d "$DIR/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# Pure Go (no cgo), stripped: one static 80 MB binary. Lower priority: other work on the host goes first.
# -X stamps the module version into `runsc --version` (a plain `go install` leaves "VERSION_MISSING").
ldflags="-s -w -X gvisor.dev/gvisor/runsc/version.version=$RUNSC_VERSION"
if ! GOBIN=$tmp CGO_ENABLED=0 nice -n 10 "$GO" install -ldflags="$ldflags" "gvisor.dev/gvisor/runsc@$RUNSC_VERSION" >&2; then
    log "build failed: keeping Debian's runsc"
    exit 1
fi
"$tmp/runsc" --version >&2
mv "$tmp/runsc" "$DIR/runsc"   # atomic: a half-built binary is never at the cached path
echo "$DIR/runsc"
