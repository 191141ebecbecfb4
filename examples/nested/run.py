"""Nested orchestration, the seed's "example architecture" end to end: a Node.js sandbox (parent.js) fans out
three Python child sandboxes (child.py) through its API channel, gathers their responses and returns the
combined result; deleting the parent would take any child still there with it.

    SANDPIT_API_TOKEN=... SANDPIT_BASE_URL=http://localhost:3000 python examples/nested/run.py
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from sandpit import CPUSandbox, Sandpit

HERE = Path(__file__).parent
CHUNKS = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]


async def main() -> dict:
    if not os.environ.get("SANDPIT_API_TOKEN"):
        sys.exit("Set SANDPIT_API_TOKEN (create one with: npm run token -- create NAME)")
    await Sandpit({"apiToken": os.environ["SANDPIT_API_TOKEN"], "baseUrl": os.environ.get("SANDPIT_BASE_URL", "http://localhost:3000")})
    parent = await CPUSandbox.create({
        "name": "nested-parent",
        "runtime": "node",
        "language": "javascript",
        "code": (HERE / "parent.js").read_text(),
        "timeout": 120,
        # At most 3 sandboxes below it at once (128 MB each fits the default memory budget), one level deep.
        "nested": {"maxChildren": 3, "maxDepth": 1},
    })
    print(f"parent sandbox created: {parent.id}")
    try:
        result = await parent.run({"childCode": (HERE / "child.py").read_text(), "chunks": CHUNKS})
        if result.status != 200:
            sys.exit(f"the parent failed ({result.status}): {result.stderr[-2000:]}")
        print(f"combined: {json.dumps(result.response, sort_keys=True)}")
        print(f"total: {result.response['total']}")
        return result.response
    finally:
        await parent.delete()
        print("parent sandbox deleted")


if __name__ == "__main__":
    asyncio.run(main())
