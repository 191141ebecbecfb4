"""The Python SDK against a real Sandpit (web + worker) and real containers (runc)."""

from __future__ import annotations

import asyncio
import random
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import sandpit
import sandpit.sync
from sandpit import AuthError, ConflictError, CPUSandbox, NotFoundError, SandpitTimeoutError, ValidationError


def containers_for(sandbox_id: str) -> list[str]:
    out = subprocess.run(
        ["docker", "ps", "-a", "-q", "--filter", f"label=sandpit.sandbox={sandbox_id}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line for line in out.splitlines() if line]


async def remove_requirement_images(requirements: str) -> None:
    """Removes the worker's cached install for this requirement text (keeping shared parent layers).

    Best effort, after the sandboxes using it are deleted; retries while Docker still holds the image.
    """
    ids = sorted(
        set(
            subprocess.run(
                ["docker", "images", "-q", "--filter", f"label=sandpit.requirements={requirements}"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
        )
    )
    for _ in range(10):
        if not ids or subprocess.run(["docker", "rmi", "--force", "--no-prune", *ids], capture_output=True).returncode == 0:
            return
        await asyncio.sleep(0.5)
    print(f"could not remove requirement images {ids}")


async def test_authenticates(client, stack):
    assert client.user.username == "test-user"
    assert client.base_url == stack.base_url
    same = await sandpit.Buildfunctions({"apiToken": client.api_token, "baseUrl": stack.base_url})
    assert same.user.username == "test-user"


async def test_create_run_twice_keeps_state_then_delete(make_sandbox):
    code = "\n".join(
        [
            "import os",
            "if os.path.exists('state.txt'):",
            "    print('read ' + open('state.txt').read())",
            "else:",
            "    open('state.txt', 'w').write('kept')",
            "    print('wrote')",
        ]
    )
    sandbox = await make_sandbox({"name": "state-test", "language": "python", "code": code, "memory": "256MB"})
    assert sandbox.name == "state-test" and sandbox.id and sandbox.status == "ready"
    first = await sandbox.run()
    assert (first.status, first.stdout, first.exit_code, first.state, first.truncated) == (200, "wrote\n", 0, "succeeded", False)
    assert first.exitCode == 0 and first.duration_ms is not None
    second = await sandbox.run()
    assert second.stdout == "read kept\n"
    await sandbox.delete()
    assert (await sandbox.refresh())["status"] == "deleted"
    await sandbox.delete()  # idempotent
    with pytest.raises(ConflictError):
        await sandbox.run()


async def test_code_inline_relative_and_absolute(make_sandbox, tmp_path: Path, monkeypatch):
    (tmp_path / "relative.py").write_text("print('from a relative path')\n")
    (tmp_path / "absolute.js").write_text("console.log('from an absolute path')\n")
    monkeypatch.chdir(tmp_path)
    inline = await make_sandbox({"language": "python", "code": "print('from a string')"})
    relative = await make_sandbox({"language": "python", "code": "./relative.py"})
    absolute = await make_sandbox({"runtime": "node", "code": str(tmp_path / "absolute.js")})
    assert (await inline.run()).stdout == "from a string\n"
    assert (await relative.run()).stdout == "from a relative path\n"
    assert (await absolute.run()).stdout == "from an absolute path\n"
    with pytest.raises(ValidationError) as caught:
        await CPUSandbox.create({"language": "python", "code": "./does_not_exist.py"})
    assert caught.value.field == "code"


async def test_lambda_style_handler(make_sandbox):
    sandbox = await make_sandbox(
        {
            "name": "handler-py",
            "language": "python",
            "code": "\n".join(
                [
                    "import json",
                    "def handler(event, context):",
                    "    return {'statusCode': 200, 'body': json.dumps({'sum': event['a'] + event['b'], 'name': context.name})}",
                ]
            ),
        }
    )
    result = await sandbox.run({"a": 2, "b": 3})
    assert result.status == 200
    assert result.response == {"sum": 5, "name": "handler-py"}
    teapot = await make_sandbox(
        {
            "language": "python",
            "code": "def handler(event, context):\n    return {'statusCode': 418, 'body': 'short and stout'}",
        }
    )
    result = await teapot.run()
    assert (result.status, result.response) == (418, "short and stout")


async def test_streaming_callbacks_get_output_before_run_returns(make_sandbox):
    sandbox = await make_sandbox(
        {
            "language": "python",
            "code": "\n".join(
                [
                    "import sys, time",
                    "for i in range(3):",
                    "    print(f'line {i}', flush=True)",
                    "    time.sleep(0.4)",
                    "print('warning', file=sys.stderr, flush=True)",
                ]
            ),
        }
    )
    stdout: list[str] = []
    stderr: list[str] = []
    state = {"returned": False, "late": 0}

    def on_stdout(data: str) -> None:
        state["late"] += state["returned"]
        stdout.append(data)

    async def on_stderr(data: str) -> None:
        await asyncio.sleep(0.01)  # async callbacks are awaited too
        state["late"] += state["returned"]
        stderr.append(data)

    result = await sandbox.run(None, {"onStdout": on_stdout, "onStderr": on_stderr})
    state["returned"] = True
    assert "".join(stdout) == "line 0\nline 1\nline 2\n"
    assert "".join(stderr) == "warning\n"
    assert state["late"] == 0
    assert len(stdout) >= 2  # arrived as printed, not as one block at the end
    assert result.stdout == "".join(stdout)

    # keyword spelling
    seen: list[str] = []
    await sandbox.run(on_stdout=seen.append)
    assert "".join(seen) == "line 0\nline 1\nline 2\n"


async def test_stdin_command_and_upload(make_sandbox, tmp_path: Path):
    sandbox = await make_sandbox({"language": "python", "code": "import sys\nprint(sys.stdin.read().upper(), end='')"})
    assert (await sandbox.run(stdin="shout")).stdout == "SHOUT"
    (tmp_path / "input.csv").write_text("a,b\n1,2\n")
    uploaded = await sandbox.upload({"localPath": str(tmp_path / "input.csv"), "filePath": "data/input.csv"})
    assert uploaded == {"path": "data/input.csv", "size": 8}
    assert (await sandbox.run(command="cat data/input.csv")).stdout == "a,b\n1,2\n"


async def test_run_timeout_is_a_timeout_error(make_sandbox):
    sandbox = await make_sandbox({"language": "python", "code": "import time\nprint('start', flush=True)\ntime.sleep(30)"})
    with pytest.raises(SandpitTimeoutError) as caught:
        await sandbox.run(timeout=1)
    assert caught.value.kind == "run"
    assert caught.value.result.stdout == "start\n"


async def test_sandbox_left_alone_expires(client):
    sandbox = await CPUSandbox.create({"language": "python", "code": "print(1)", "timeout": 2})
    assert len(containers_for(sandbox.id)) == 1
    deadline = time.monotonic() + 5
    status, containers = sandbox.status, containers_for(sandbox.id)
    while time.monotonic() < deadline and (status != "expired" or containers):
        await asyncio.sleep(0.25)
        status = (await sandbox.refresh())["status"]
        containers = containers_for(sandbox.id)
    assert status == "expired"
    assert containers == []
    with pytest.raises(ConflictError):
        await sandbox.run()


async def test_requirements_install_once_and_are_reused(make_sandbox):
    # The worker caches installs host-wide, by requirement text: a fresh (equivalent) spelling makes the
    # first create really install; the images it leaves are removed afterwards.
    requirement = f"requests>=1.{random.randrange(10**6)}"
    code = "import requests\nprint(requests.__name__)"
    made = []
    try:
        started = time.monotonic()
        first = await make_sandbox({"language": "python", "code": code, "requirements": [requirement]})
        made.append(first)
        first_s = time.monotonic() - started
        assert first.requirements_cached is False
        assert (await first.run()).stdout == "requests\n"
        started = time.monotonic()
        second = await make_sandbox({"language": "python", "code": code, "requirements": requirement + "\n"})
        made.append(second)
        second_s = time.monotonic() - started
        assert second.requirements_cached is True
        assert (await second.run()).stdout == "requests\n"
        assert second_s < first_s / 2, (first_s, second_s)
    finally:
        for sandbox in made:
            await sandbox.delete()
        await remove_requirement_images(requirement)


async def test_bad_token_is_an_auth_error(stack):
    with pytest.raises(AuthError):
        await sandpit.Sandpit({"apiToken": "not-a-token", "baseUrl": stack.base_url})
    with pytest.raises(AuthError):
        await CPUSandbox.create({"apiToken": "not-a-token", "baseUrl": stack.base_url, "runtime": "python", "code": "print(1)"})


async def test_bad_options_are_validation_errors_naming_the_field(client):
    with pytest.raises(ValidationError) as caught:
        await CPUSandbox.create({"runtime": "python", "code": "print(1)", "memory": "lots"})
    assert caught.value.field == "memory"
    # checked by the server
    with pytest.raises(ValidationError) as caught:
        await CPUSandbox.create({"runtime": "python", "code": "print(1)", "memory": "64Gi"})
    assert (caught.value.status, caught.value.field) == (400, "memory")
    with pytest.raises(ValidationError) as caught:
        await CPUSandbox.create({"runtime": "deno", "code": "console.log(1)", "denoFlags": ["--allow-net"]})
    assert (caught.value.status, caught.value.field) == (400, "denoFlags")


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="this host has an NVIDIA GPU")
async def test_gpu_without_a_gpu_worker_is_refused_on_gpu(client):
    with pytest.raises(ValidationError) as caught:
        await sandpit.GPUSandbox.create({"language": "python", "gpu": "T4", "code": "print(1)"})
    assert (caught.value.status, caught.value.field) == (400, "gpu")


async def test_unknown_model_is_refused_on_model(client):
    with pytest.raises(ValidationError) as caught:
        await CPUSandbox.create({"language": "python", "model": "no-such-model", "code": "print(1)"})
    assert (caught.value.status, caught.value.field) == (400, "model")


async def test_unknown_sandbox_is_not_found(client):
    with pytest.raises(NotFoundError):
        await CPUSandbox.connect("no-such-sandbox")


def test_sync_api(stack, token):
    client = sandpit.sync.Sandpit({"apiToken": token, "baseUrl": stack.base_url})
    assert client.user.username == "test-user"
    sandbox = sandpit.sync.CPUSandbox.create(
        {"language": "python", "code": "def handler(event, context):\n    return {'statusCode': 200, 'body': '{\"ok\": true}'}", "timeout": 60}
    )
    try:
        result = sandbox.run({"x": 1})
        assert (result.status, result.response) == (200, {"ok": True})
        chunks: list[str] = []
        streamed = sandbox.run(command="echo hi", on_stdout=chunks.append)
        assert streamed.stdout == "hi\n" and "".join(chunks) == "hi\n"
    finally:
        sandbox.delete()
    assert sandbox.refresh()["status"] == "deleted"


async def test_callbacks_still_get_everything_when_the_socket_is_unavailable(make_sandbox, monkeypatch):
    import sandpit._sandbox as module
    from sandpit._stream import StreamUnavailableError

    async def no_socket(*args, **kwargs):
        raise StreamUnavailableError("test: socket refused")

    monkeypatch.setattr(module, "follow_run", no_socket)
    sandbox = await make_sandbox({"language": "python", "code": "import sys\nprint('out')\nprint('err', file=sys.stderr)"})
    out: list[str] = []
    err: list[str] = []
    result = await sandbox.run(on_stdout=out.append, on_stderr=err.append)
    assert ("".join(out), "".join(err)) == ("out\n", "err\n")
    assert result.stdout == "out\n"


async def test_too_many_live_sandboxes_is_a_rate_limit_error(make_sandbox):
    """The server caps live sandboxes per token (429); the SDK raises RateLimitError."""
    for _ in range(30):
        try:
            await make_sandbox({"runtime": "bash", "code": "echo hi", "memory": "64MB", "vcpus": 0.1, "timeout": 60})
        except sandpit.RateLimitError as error:
            assert error.status == 429
            assert error.retry_after is None or error.retry_after >= 0
            return
    pytest.skip("no per-token sandbox cap reached within 30 sandboxes")
