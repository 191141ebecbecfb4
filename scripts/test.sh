#!/bin/bash
# Sets everything up, type-checks and lints, then runs every test: unit, integration against real containers under runc and runsc,
# browser tests in Chromium, then both SDKs' tests and the examples against a live server.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
npx tsc --noEmit
bash scripts/lint.sh
npx vitest run
bash scripts/test-sdks.sh
