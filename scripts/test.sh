#!/bin/bash
# Sets everything up, then runs every test: unit, then integration against real containers under runc and runsc.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
npx tsc --noEmit
npx vitest run
