#!/bin/bash
# Builds the Next.js app when its sources changed since the last build (fast no-op otherwise).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
stamp=.next/sandpit-source-hash
inputs=()
# The runtime catalog (images/*/runtime.json and starters) is read when pages render, some at build time.
for path in app components lib public proxy.ts next.config.ts postcss.config.mjs package-lock.json tsconfig.json images/*/runtime.json images/*/starter.*; do
    [[ -e $path ]] && inputs+=("$path")
done
want=$(find "${inputs[@]}" -type f | sort | xargs sha256sum | sha256sum | cut -d' ' -f1)
if [[ -f $stamp && -f .next/BUILD_ID && $(cat "$stamp") == "$want" ]]; then
    echo "web: build up to date"
    exit 0
fi
echo "web: next build"
npx next build > /tmp/sandpit-next-build.log 2>&1 || { cat /tmp/sandpit-next-build.log; exit 1; }
echo "$want" > "$stamp"
