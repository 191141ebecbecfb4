#!/bin/bash
# Sets everything up, then serves the web app and the worker (Ctrl-C stops both).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export NODE_ENV=production
node --import tsx server.ts &
web=$!
node --import tsx worker/main.ts &
worker=$!
trap 'kill $web $worker 2>/dev/null; wait' INT TERM EXIT
# Either process ending takes the other down: a half-running Sandpit is worse than a stopped one.
wait -n $web $worker
