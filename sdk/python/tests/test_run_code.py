"""One-off runs through the Python SDK against a real Sandpit (web + worker, warm pool on, runc)."""

from __future__ import annotations

import asyncio

import pytest

import sandpit
import sandpit.sync
from sandpit import ValidationError


async def test_run_code_returns_output_exit_code_and_share_link(client: sandpit.Client) -> None:
    result = await sandpit.run_code("python", "import sys\nprint(sys.stdin.read()[::-1])\nsys.exit(4)", stdin="olleh", client=client)
    assert (result.status, result.exit_code, result.stdout, result.stderr) == ("failed", 4, "hello\n", "")
    assert f"/r/{result.id}" in result.url


async def test_run_code_gets_a_warm_container_once_the_pool_has_filled(client: sandpit.Client) -> None:
    result = await sandpit.run_code("bash", "echo $((6 * 7))", client=client)
    for _ in range(20):
        if result.warm:
            break
        await asyncio.sleep(0.5)
        result = await sandpit.run_code("bash", "echo $((6 * 7))", client=client)
    assert (result.status, result.stdout, result.warm) == ("succeeded", "42\n", True)


def test_sync_run_code(stack, token: str) -> None:
    client = sandpit.Client({"apiToken": token, "baseUrl": stack.base_url})
    result = sandpit.sync.run_code("node", "console.log(process.argv.length)", client=client)
    assert (result.status, result.stdout) == ("succeeded", "2\n")


async def test_run_code_refuses_an_unknown_runtime_before_sending(client: sandpit.Client) -> None:
    with pytest.raises(ValidationError):
        await sandpit.run_code("cobol", "", client=client)
