#!/bin/bash
# Everything Sandpit needs on this machine, idempotent: Docker + gVisor, npm deps, runtime images,
# database migrations, the web build. Shared by `npm run up` and `npm test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The current runsc takes minutes of CPU to build (scripts/install-runsc.sh): on a fresh machine it builds in
# the background while npm and the images (mostly downloads) proceed, then host-setup registers it.
SANDPIT_RUNSC_CACHED_ONLY=1 bash scripts/host-setup.sh
# `--with-chromium` (the test command): Debian's Chromium installs beside the rest, after host-setup's apt-get.
chromium=
if [[ ${1-} == --with-chromium ]]; then
    bash scripts/ensure-chromium.sh &
    chromium=$!
fi
runsc_build=
if ! SANDPIT_RUNSC_CACHED_ONLY=1 bash scripts/install-runsc.sh >/dev/null 2>&1; then
    echo "setup: building the current runsc in the background (log: /tmp/sandpit-install-runsc.log)"
    bash scripts/install-runsc.sh >/dev/null 2>/tmp/sandpit-install-runsc.log &
    runsc_build=$!
fi
bash scripts/ensure-node-deps.sh
# The web build is CPU, the images mostly downloads and disk: side by side they take the time of the longer.
bash scripts/build-web.sh &
web_build=$!
bash scripts/build-images.sh
wait "$web_build"
if [[ -n $runsc_build ]]; then
    if ! wait "$runsc_build"; then
        echo "setup: the background runsc build failed:"; tail -n 20 /tmp/sandpit-install-runsc.log
        # Once more in the foreground, its log on this terminal; if it fails again Debian's runsc stays registered.
        bash scripts/install-runsc.sh >/dev/null || echo "setup: runsc build failed twice: Debian's runsc stays registered"
    fi
    bash scripts/host-setup.sh
fi
npx tsx scripts/migrate.ts
if [[ -n $chromium ]]; then wait "$chromium"; fi
