#!/bin/bash
# Tests the TypeScript and Python SDKs and the reward-scoring examples against a real Sandpit
# (each suite starts its own web + worker under runc). Idempotent: the virtualenv, the SDK build
# and the example's install are redone only when their inputs changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

hash_of() { find "$@" -type f -not -path '*/node_modules/*' -not -path '*/dist/*' -not -name '*.pyc' | sort | xargs sha256sum | sha256sum | cut -d' ' -f1; }

# The web server runs the production build; rebuild it if the app changed (fast no-op otherwise).
bash scripts/build-web.sh

# Python: .venv-sdk with sdk/python installed editable (+ test extras).
source scripts/sdk-venv.sh

# TypeScript: npm ci when the lockfile changed, tsc build when the sources changed.
stamp=sdk/js/node_modules/.sandpit-lock-hash
want=$(sha256sum sdk/js/package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    echo "sdk/js: npm ci"
    npm --prefix sdk/js ci --no-audit --no-fund --loglevel=error
    echo "$want" > "$stamp"
fi
stamp=sdk/js/dist/.sandpit-source-hash
want=$(hash_of sdk/js/src sdk/js/tsconfig.json sdk/js/package.json)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    echo "sdk/js: build"
    rm -rf sdk/js/dist
    npm --prefix sdk/js run --silent build
    echo "$want" > "$stamp"
else
    echo "sdk/js: build up to date"
fi
sdk/js/node_modules/.bin/tsc -p sdk/js/tsconfig.test.json  # type-checks the tests against the sources

# The TypeScript example installs the SDK from ./sdk/js as a user would (npm install <folder>).
example=examples/reward-scoring/js
stamp=$example/node_modules/.sandpit-package-hash
want=$(cat $example/package.json $example/package-lock.json sdk/js/package.json | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    echo "$example: npm install"
    npm --prefix "$example" install --no-audit --no-fund --loglevel=error
    echo "$want" > "$stamp"
fi

echo "sdk/js: vitest"
npm --prefix sdk/js test --silent

echo "sdk/python: pytest (SDK tests and both examples)"
SANDPIT_REQUIRE_JS_EXAMPLE=1 "$venv/bin/python" -m pytest sdk/python/tests -q -p no:cacheprovider
