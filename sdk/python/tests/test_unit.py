"""Checks that need no server: options, code paths, error mapping."""

from __future__ import annotations

import base64
import builtins
from pathlib import Path

import pytest

import sandpit
from sandpit import AuthError, ConflictError, NotFoundError, RateLimitError, SandpitError, SandpitTimeoutError, ValidationError
from sandpit._code import looks_like_path, resolve_code
from sandpit._models import list_model_files, plan_model
from sandpit._errors import error_from_response
from sandpit._options import build_create_body


def test_client_options_come_from_option_then_env_then_default(monkeypatch):
    monkeypatch.delenv("SANDPIT_API_TOKEN", raising=False)
    monkeypatch.delenv("SANDPIT_BASE_URL", raising=False)
    assert sandpit.Client().base_url == "http://localhost:3000"
    monkeypatch.setenv("SANDPIT_API_TOKEN", "env-token")
    monkeypatch.setenv("SANDPIT_BASE_URL", "http://127.0.0.1:9/")
    client = sandpit.Client()
    assert (client.api_token, client.base_url) == ("env-token", "http://127.0.0.1:9")
    client = sandpit.Client({"apiToken": "given", "baseUrl": "http://127.0.0.1:8"})
    assert (client.apiToken, client.baseUrl) == ("given", "http://127.0.0.1:8")
    assert sandpit.Client(api_token="kw").api_token == "kw"
    assert sandpit.Buildfunctions is sandpit.Sandpit


async def test_no_token_is_an_auth_error(monkeypatch):
    monkeypatch.delenv("SANDPIT_API_TOKEN", raising=False)
    with pytest.raises(AuthError):
        await sandpit.Client({"baseUrl": "http://127.0.0.1:9"}).request("GET", "/api/v1/me")


async def test_unreachable_server_is_a_sandpit_error():
    with pytest.raises(SandpitError):
        await sandpit.Sandpit({"apiToken": "x", "baseUrl": "http://127.0.0.1:9"})


def test_error_mapping():
    error = error_from_response(400, {"error": "bad", "field": "memory"})
    assert isinstance(error, ValidationError) and error.field == "memory" and error.status == 400 and str(error) == "bad"
    assert isinstance(error_from_response(401, {}), AuthError)
    assert isinstance(error_from_response(403, {}), AuthError)
    assert isinstance(error_from_response(404, {}), NotFoundError)
    assert isinstance(error_from_response(409, {}), ConflictError)
    limited = error_from_response(429, {"error": "slow"}, {"retry-after": "7"})
    assert isinstance(limited, RateLimitError) and limited.retry_after == 7 and limited.retryAfter == 7
    assert isinstance(error_from_response(504, "x"), SandpitTimeoutError)
    other = error_from_response(500, "<html>oops</html>")
    assert type(other) is SandpitError and "oops" in str(other)
    timeout = SandpitTimeoutError("t", kind="client")
    assert isinstance(timeout, SandpitError) and isinstance(timeout, builtins.TimeoutError)


@pytest.mark.parametrize("value", ["/abs/file.py", "./x.js", "../y.ts", "~/z.sh", "main.py", "dir/main.go", "/a b/c.py"])
def test_paths_look_like_paths(value):
    assert looks_like_path(value)


@pytest.mark.parametrize("value", ["print('hi')", "console.log(1)", "// comment", "/* c */ x()", "python main.py", "a.py\nb.py", "x=1; y.py"])
def test_code_does_not_look_like_a_path(value):
    assert not looks_like_path(value)


def test_code_from_relative_absolute_and_home_paths(tmp_path: Path, monkeypatch):
    (tmp_path / "hello.py").write_text("print('from file')\n")
    monkeypatch.chdir(tmp_path)
    assert resolve_code("./hello.py")[0] == "print('from file')\n"
    assert resolve_code("hello.py")[0] == "print('from file')\n"
    assert resolve_code(str(tmp_path / "hello.py"))[0] == "print('from file')\n"
    assert resolve_code("print('inline')") == ("print('inline')", [])
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_code("~/hello.py")[0] == "print('from file')\n"
    for missing in ("./missing.py", "missing.py", "/no/such/file.py"):
        with pytest.raises(ValidationError) as caught:
            resolve_code(missing)
        assert caught.value.field == "code"


def test_command_sends_the_files_it_names(tmp_path: Path, monkeypatch):
    (tmp_path / "inference.py").write_text("print(1)\n")
    monkeypatch.chdir(tmp_path)
    code, files = resolve_code('python inference.py "a prompt"')
    assert code == 'python inference.py "a prompt"'
    assert files == [{"path": "inference.py", "content": base64.b64encode(b"print(1)\n").decode()}]


def test_model_plans(tmp_path: Path, monkeypatch):
    folder = tmp_path / "models" / "Qwen3-8B"
    folder.mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert plan_model("./models/Qwen3-8B") == ("Qwen3-8B", folder)
    assert plan_model(str(folder)) == ("Qwen3-8B", folder)
    assert plan_model("Qwen/Qwen3-8B") == ("Qwen/Qwen3-8B", None)  # a hub id: never looked for locally
    assert plan_model("/path/to/models/Qwen/Qwen3-8B") == ("Qwen3-8B", None)  # not here: the store's model of that name
    assert plan_model({"name": "org/m", "path": "./models/Qwen3-8B"}) == ("org/m", folder)
    assert plan_model({"name": "m"}) == ("m", None)
    for bad in ({"name": "m", "path": "./models/nope"}, {"name": "../m"}, "", 5):
        with pytest.raises(ValidationError) as caught:
            plan_model(bad)
        assert caught.value.field == "model"
    (folder / "sub").mkdir()
    (folder / ".cache").mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "sub" / "weights.bin").write_text("abc")
    (folder / ".gitattributes").write_text("x")
    (folder / ".cache" / "lock").write_text("x")
    (folder / "empty.txt").write_text("")
    assert [(path, size) for path, _, size in list_model_files(folder)] == [("config.json", 2), ("sub/weights.bin", 3)]


def test_published_option_names():
    from sandpit._client import normalise_keys
    from sandpit._options import OPTION_ALIASES

    options = normalise_keys({"language": "python", "cpu_cores": 6, "gpu_count": 1, "env_variables": {"A": "1"}}, {}, OPTION_ALIASES)
    assert build_create_body(options, "gpu") == {
        "language": "python",
        "vcpus": 6,
        "gpu": "any",
        "gpuCount": 1,
        "envVariables": [{"key": "A", "value": "1"}],
    }
    with pytest.raises(ValidationError) as caught:
        normalise_keys({"vcpus": 2, "cpu_cores": 2}, {}, OPTION_ALIASES)
    assert caught.value.field == "cpu_cores"
    with pytest.raises(ValidationError) as caught:
        build_create_body({"language": "python", "gpuCount": 1}, "cpu")
    assert caught.value.field == "gpuCount"


def test_errors_by_code_and_published_names():
    busy = error_from_response(503, {"error": "gpu: every GPU slot stayed busy", "code": "unavailable"})
    assert isinstance(busy, sandpit.CapacityError) and isinstance(busy, sandpit.BuildfunctionsError)
    assert (busy.status_code, busy.statusCode, busy.code) == (503, 503, "unavailable")
    refused = error_from_response(400, {"error": "gpu: no worker has a GPU", "code": "validation", "field": "gpu"})
    assert isinstance(refused, ValidationError) and refused.field == "gpu"
    assert sandpit.AuthenticationError is AuthError and sandpit.BuildfunctionsError is SandpitError
    assert isinstance(error_from_response(403, {"error": "no", "code": "forbidden"}), sandpit.AuthenticationError)
    assert isinstance(error_from_response(410, {"error": "deleted", "code": "gone"}), ConflictError)
    assert error_from_response(409, {"error": "resume", "code": "conflict", "offset": 42}).details["offset"] == 42


def test_run_results_are_dict_like():
    result = sandpit.RunResult.from_api({"runId": "r1", "response": {"ok": True}, "status": 200, "stdout": "hi", "exitCode": 0, "state": "succeeded"})
    assert result["response"] == {"ok": True} and result.response == {"ok": True}
    assert result.get("status") == 200 and result.get("nope", "d") == "d"
    assert "stdout" in result and "exitCode" in result and "raw" not in result
    assert result["exitCode"] == 0 and dict(result)["run_id"] == "r1"
    with pytest.raises(KeyError):
        result["raw"]


@pytest.mark.parametrize(
    "options, field",
    [
        ({"memory": "lots"}, "memory"),
        ({"timeout": -1}, "timeout"),
        ({"timeout": "soon"}, "timeout"),
        ({"vcpus": 0}, "vcpus"),
        ({"runtime": "cobol"}, "runtime"),
        ({"envVariables": {"BAD-KEY": "1"}}, "envVariables"),
        ({"memroy": "1GB"}, "memroy"),
        ({"gpu": "T4"}, "gpu"),
        ({"requirements": 5}, "requirements"),
    ],
)
def test_bad_options_name_the_field(options, field):
    with pytest.raises(ValidationError) as caught:
        build_create_body({"runtime": "python", "code": "print(1)", **options}, "cpu")
    assert caught.value.field == field


def test_gpu_options():
    assert build_create_body({"language": "python", "gpu": "T4", "model": "Qwen3-8B"}, "gpu") == {
        "language": "python",
        "gpu": "T4",
        "model": "Qwen3-8B",
    }
    assert build_create_body({"language": "python"}, "gpu")["gpu"] == "any"
    for options, field in (({"language": "python", "gpu": ""}, "gpu"), ({"runtime": "node"}, "runtime")):
        with pytest.raises(ValidationError) as caught:
            build_create_body(options, "gpu")
        assert caught.value.field == field


async def test_create_checks_options_before_any_request():
    unreachable = {"apiToken": "x", "baseUrl": "http://127.0.0.1:9"}
    with pytest.raises(ValidationError) as caught:
        await sandpit.CPUSandbox.create({**unreachable, "runtime": "python", "memory": "lots"})
    assert caught.value.field == "memory"
    with pytest.raises(ValidationError) as caught:
        await sandpit.GPUSandbox.create(language="python", model={"name": "m", "path": "./no/such/model"}, **{"api_token": "x"})
    assert caught.value.field == "model"


async def test_a_server_that_does_not_answer_is_a_client_timeout():
    import asyncio

    async def silent(reader, writer):
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        client = sandpit.Client({"apiToken": "x", "baseUrl": f"http://127.0.0.1:{port}", "requestTimeout": 0.3})
        with pytest.raises(SandpitTimeoutError) as caught:
            await client.request("GET", "/api/v1/me")
        assert caught.value.kind == "client"
        await client.aclose()
    finally:
        server.close()


class _RecordingClient:
    """Answers every request with a deleted sandbox, and remembers what was asked."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []

    async def request(self, method: str, path: str, **_: object) -> dict:
        self.requests.append((method, path))
        return {"id": "sb1", "name": "n", "status": "deleted"}


async def test_async_with_deletes_the_sandbox():
    client = _RecordingClient()
    async with sandpit.CPUSandbox(client, {"id": "sb1", "name": "n", "status": "ready"}) as sandbox:  # type: ignore[arg-type]
        assert client.requests == []
    assert client.requests == [("DELETE", "/api/v1/sandboxes/sb1")]
    assert sandbox.status == "deleted"


def test_with_deletes_the_sandbox():
    from sandpit import sync

    client = _RecordingClient()
    with sync.CPUSandbox(sandpit.CPUSandbox(client, {"id": "sb1", "name": "n", "status": "ready"})) as sandbox:  # type: ignore[arg-type]
        assert client.requests == []
    assert client.requests == [("DELETE", "/api/v1/sandboxes/sb1")]
    assert sandbox.status == "deleted"


def test_no_exported_name_shadows_a_built_in():
    from sandpit import sync

    for module in (sandpit, sync):
        assert [name for name in module.__all__ if hasattr(builtins, name)] == []
