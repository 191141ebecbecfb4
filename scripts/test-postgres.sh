#!/bin/bash
# The PostgreSQL pass (README "PostgreSQL"): tests again with DATABASE_URL pointing at a server from Debian's packages
# (scripts/ensure-postgres.sh; each database test gets a fresh database on it). `npm test` runs the unit tests that open
# a database and the LISTEN/NOTIFY test; `npm run test:postgres` (`--all`) adds the rest of the unit tests and the
# API's integration test under runc and runsc (minutes more, kept out of the default run for CI's time).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# A PostgreSQL that does not start fails the run: never a quiet pass on SQLite.
postgres_url=$(bash scripts/ensure-postgres.sh)
if [[ ${1-} == --all ]]; then
    files=(tests/unit tests/integration/runs-api.test.ts)
else
    mapfile -t files < <(grep -l "support/test-database" tests/unit/*.test.ts)
fi
DATABASE_URL=$postgres_url npx vitest run "${files[@]}" tests/integration/postgres-commands.test.ts
