#!/bin/bash
# `npm run format`: applies what scripts/lint.sh checks: Prettier for the TypeScript and JavaScript, ruff for the Python.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
npx prettier --write --log-level warn .
source scripts/sdk-venv.sh
"$venv/bin/ruff" format --quiet sdk/python
"$venv/bin/ruff" format --quiet --config sdk/python/pyproject.toml examples/reward-scoring/python/agent.py tests/checks
