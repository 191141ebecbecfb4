#!/bin/bash
# Everything Sandpit needs on this machine, idempotent: Docker + gVisor, npm deps, runtime images,
# database migrations, the web build. Shared by `npm run up` and `npm test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/host-setup.sh
bash scripts/ensure-node-deps.sh
bash scripts/build-images.sh
npx tsx scripts/migrate.ts
bash scripts/ensure-chromium.sh
bash scripts/build-web.sh
