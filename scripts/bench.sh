#!/bin/bash
# `npm run bench`: sets up what is missing (idempotent, fast when done), then measures (bench/run-bench.ts).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec npx tsx bench/run-bench.ts
