#!/bin/bash
# Sets everything up, type-checks and lints, then runs every test: unit, integration against real containers under runc and runsc,
# browser tests in Chromium, then both SDKs' tests and the examples against a live server.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Chromium is for the browser tests only: `npm run up` does not install it.
bash scripts/setup.sh --with-chromium
# Redis for the tests of several web servers (tests/support/redis.ts finds it running; starting it is idempotent).
bash scripts/ensure-redis.sh >/dev/null
# PostgreSQL from Debian's packages, installed and started before any test needs it (the scale-out test starts a
# private cluster of its own with the same script; the PostgreSQL pass, scripts/test-postgres.sh, uses this one).
bash scripts/ensure-postgres.sh >/dev/null
# The type check and the linters at once (two cores; each about half a minute).
npx tsc --noEmit & typecheck=$!
bash scripts/lint.sh
wait "$typecheck"
npx vitest run
# The SDKs' suites (their own stack, under runc) beside the PostgreSQL pass (light: unit tests and one small file).
sdk_log=$(mktemp)
bash scripts/test-sdks.sh > "$sdk_log" 2>&1 & sdks=$!
failed=0
bash scripts/test-postgres.sh || failed=1
wait "$sdks" || failed=1
cat "$sdk_log"
exit "$failed"
