"""Runs the reward-scoring examples (Python and TypeScript SDKs) against the live server; each must print a score."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "reward-scoring"
SCORE = re.compile(r"^score: (\d+\.\d+)$", re.MULTILINE)


def example_env(stack, token) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANTHROPIC_", "BUILDFUNCTIONS_"))}
    env.update({"SANDPIT_API_TOKEN": token, "SANDPIT_BASE_URL": stack.base_url})
    return env  # no ANTHROPIC_API_KEY: the fixed candidate, no call to any model service


def check_score(completed: subprocess.CompletedProcess) -> None:
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    match = SCORE.search(completed.stdout)
    assert match, output
    assert float(match.group(1)) == 1.0, output  # the fixed candidate passes every test
    assert "CPU Sandbox deleted" in completed.stdout


def test_python_example_prints_a_score(stack, token):
    completed = subprocess.run(
        [sys.executable, str(EXAMPLE / "python" / "agent.py")],
        cwd=EXAMPLE / "python",
        env=example_env(stack, token),
        capture_output=True,
        text=True,
        timeout=180,
    )
    check_score(completed)
    assert "Authenticated as: test-user" in completed.stdout


def test_js_example_prints_a_score(stack, token):
    installed = EXAMPLE / "js" / "node_modules" / "@sandpit" / "sdk" / "dist" / "index.js"
    if not installed.exists():
        message = "build sdk/js and `npm install` in examples/reward-scoring/js first (scripts/test-sdks.sh does)"
        if os.environ.get("SANDPIT_REQUIRE_JS_EXAMPLE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    completed = subprocess.run(
        ["node", "agent.mjs"],
        cwd=EXAMPLE / "js",
        env=example_env(stack, token),
        capture_output=True,
        text=True,
        timeout=180,
    )
    check_score(completed)


def test_nested_example_fans_out_three_children(stack, token):
    """examples/nested: a Node.js sandbox creates three Python children through its channel and combines their responses."""
    completed = subprocess.run(
        [sys.executable, "run.py"],
        cwd=REPO_ROOT / "examples" / "nested",
        env=example_env(stack, token),
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "total: 45" in completed.stdout, output  # 1 + 2 + … + 9, summed by three children
    assert "parent sandbox deleted" in completed.stdout, output
