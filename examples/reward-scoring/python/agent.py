"""Code generation with reward scoring, on Sandpit.

The seed's Buildfunctions example, ported: a candidate `sort_list` (from Claude when ANTHROPIC_API_KEY
is set, otherwise a fixed candidate, with no call to any model service) is run against unit tests
inside a CPUSandbox, as a Python `handler` that returns the score.

    SANDPIT_API_TOKEN=... SANDPIT_BASE_URL=http://localhost:3000 python examples/reward-scoring/python/agent.py
"""

import asyncio
import os
import re
import sys
import time
from pathlib import Path

try:  # optional, as in the seed
    from dotenv import load_dotenv

    load_dotenv()
except ImportError:
    pass

from sandpit import (
    CPUSandbox,
    Sandpit,
)  # the seed: from buildfunctions import Buildfunctions, CPUSandbox

API_TOKEN = os.environ.get("SANDPIT_API_TOKEN") or os.environ.get("BUILDFUNCTIONS_API_TOKEN", "")
BASE_URL = os.environ.get("SANDPIT_BASE_URL", "http://localhost:3000")
HANDLER_TEMPLATE = (Path(__file__).parent / "reward_handler.py").read_text()
MODEL = os.environ.get("ANTHROPIC_MODEL", "claude-opus-4-6")

PROMPT = (
    "Write a Python function called `sort_list` that takes a list and "
    "returns it sorted. Handle edge cases like empty lists, single elements, "
    "and mixed types. Return ONLY the code, no markdown, no explanations."
)

# Used when no ANTHROPIC_API_KEY is set: a reasonable candidate, so the example runs offline.
FIXED_CANDIDATE = '''
def sort_list(items):
    """Returns a new sorted list; mixed types are ordered by type name, then value."""
    if not items:
        return []
    try:
        return sorted(items)
    except TypeError:
        return sorted(items, key=lambda item: (type(item).__name__, repr(item) if not isinstance(item, (int, float, str)) else item))
'''.strip()


def strip_markdown_fences(text: str) -> str:
    return re.sub(r"^```[\w]*\n|```$", "", text.strip(), flags=re.MULTILINE).strip()


def generate_candidate() -> str:
    key = os.environ.get("ANTHROPIC_API_KEY")
    if not key:
        print("   ANTHROPIC_API_KEY not set: using the fixed candidate")
        return FIXED_CANDIDATE
    try:
        import anthropic
    except ImportError:
        print("   the `anthropic` package is not installed (pip install anthropic): using the fixed candidate")
        return FIXED_CANDIDATE
    claude = anthropic.Anthropic(api_key=key)
    response = claude.messages.create(model=MODEL, max_tokens=512, messages=[{"role": "user", "content": PROMPT}])
    return strip_markdown_fences(response.content[0].text)


async def main() -> float:
    if not API_TOKEN:
        sys.exit("Set SANDPIT_API_TOKEN (create one with: npm run token -- create NAME)")

    print("Testing Code Generation with Reward Scoring...\n")
    sandbox = None
    try:
        print("1. Authenticating...")
        client = await Sandpit({"apiToken": API_TOKEN, "baseUrl": BASE_URL})
        print(f"   Authenticated as: {client.user.username}")

        print("\n2. Generating sorting function...")
        generated_code = generate_candidate()
        print(f"   Generated code:\n{generated_code}\n")

        print("3. Creating CPU Sandbox with reward function...")
        handler_code = HANDLER_TEMPLATE.format(generated_code=generated_code)
        sandbox = await CPUSandbox.create(
            {
                "name": f"reward-eval-{int(time.time())}",
                "language": "python",
                "code": handler_code,
                "memory": "512MB",
                "timeout": 30,
            }
        )
        print(f"   CPU Sandbox created: {sandbox.name}")

        print("\n4. Running reward function...")
        result = await sandbox.run()
        if result.status != 200 or not isinstance(result.response, dict):
            print(f"   The candidate did not load (status {result.status}):\n{result.stderr[-2000:]}")
            score = 0.0
        else:
            score = float(result.response["score"])
            for test in result.response["results"]:
                print(f"   {'PASS' if test['passed'] else 'FAIL'} {test['name']}" + (f" ({test['error']})" if test["error"] else ""))
        print(f"   Result: {result.response}")
        print(f"\nscore: {score:.2f}")

        print("\n5. Deleting CPU Sandbox...")
        await sandbox.delete()
        sandbox = None
        print("   CPU Sandbox deleted")
        print("\nCode generation with reward scoring test completed!")
        return score
    finally:
        if sandbox is not None:
            try:
                await sandbox.delete()
            except Exception as error:  # noqa: BLE001
                print(f"Cleanup failed: {error}")


if __name__ == "__main__":
    asyncio.run(main())
