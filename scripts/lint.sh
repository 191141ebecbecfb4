#!/bin/bash
# Linters, fast and before the tests: ESLint (typescript-eslint, type-aware) for the TypeScript, ruff for the Python SDK
# and the Python example; then formatting (Prettier, `ruff format`), checked only: `npm run format` applies both.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
npx eslint --max-warnings=-1 .
source scripts/sdk-venv.sh
"$venv/bin/ruff" check sdk/python
# The example's agent with the SDK's rules (reward_handler.py is a str.format template, not Python until filled in).
"$venv/bin/ruff" check --config sdk/python/pyproject.toml examples/reward-scoring/python/agent.py
# The model check's Python (tests/checks: the SDK helper, and the program it runs in a sandbox) with the same rules.
"$venv/bin/ruff" check --config sdk/python/pyproject.toml tests/checks
npx prettier --check --log-level warn .
"$venv/bin/ruff" format --check --quiet sdk/python
"$venv/bin/ruff" format --check --quiet --config sdk/python/pyproject.toml examples/reward-scoring/python/agent.py tests/checks
