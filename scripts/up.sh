#!/bin/bash
# Sets everything up, then serves the web app and the worker (Ctrl-C stops both).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export NODE_ENV=production
# Least privilege (docs/security.md): the web process runs as its own unprivileged user, outside the docker
# group; only the worker (root) talks to Docker. DATA_DIR belongs to the web user (0700, files 0600); root's
# worker reads and writes it anyway, and anything it creates there is handed to the directory's owner.
WEB_USER=${SANDPIT_WEB_USER:-sandpit-web}
DATA_DIR=${DATA_DIR:-./data}
mkdir -p "$DATA_DIR"
chown -R "$WEB_USER:$WEB_USER" "$DATA_DIR"
chmod 700 "$DATA_DIR"
setpriv --reuid="$WEB_USER" --regid="$WEB_USER" --init-groups --no-new-privs -- node --import tsx server.ts &
web=$!
node --import tsx worker/main.ts &
worker=$!
trap 'kill $web $worker 2>/dev/null; wait' INT TERM EXIT
# Either process ending takes the other down: a half-running Sandpit is worse than a stopped one.
wait -n $web $worker
