#!/bin/bash
# The web process's own unprivileged system user (docs/security.md "Least privilege"): no login, no home,
# not in the docker group, so the web server can never open the Docker socket. Idempotent. Run as root.
set -euo pipefail
WEB_USER=${SANDPIT_WEB_USER:-sandpit-web}
log() { printf 'create-web-user: %s\n' "$*"; }
[[ $(id -u) == 0 ]] || { echo "create-web-user: must run as root" >&2; exit 1; }
if ! id -u "$WEB_USER" >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$WEB_USER"
    log "created system user $WEB_USER"
fi
# Never a member of docker (or any group that owns the socket).
if id -nG "$WEB_USER" | tr ' ' '\n' | grep -x docker >/dev/null; then
    gpasswd -d "$WEB_USER" docker >/dev/null
    log "removed $WEB_USER from the docker group"
fi
# It must be able to read the code, node_modules and .next: every directory above the checkout traversable.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if ! setpriv --reuid="$WEB_USER" --regid="$WEB_USER" --init-groups -- test -r "$ROOT/package.json"; then
    log "WARNING: $WEB_USER cannot read $ROOT (a parent directory is not world-traversable): move the checkout or chmod o+x its parents"
fi
