"""Sandboxes: create, run (waiting or streaming), upload, delete."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Iterator, Mapping, Optional
from urllib.parse import quote

from ._client import Client, get_default_client, normalise_keys
from ._code import files_named_by_command, is_command_line
from ._errors import SandpitError, SandpitTimeoutError, ValidationError
from ._models import ModelUpload, upload_model
from ._options import OPTION_ALIASES, build_create_request
from ._stream import OutputCallback, StreamUnavailableError, _call, follow_run

CLIENT_MARGIN_S = 30.0
_RUN_ALIASES = {"onStdout": "on_stdout", "onStderr": "on_stderr"}


_CAMEL_KEYS = {"runId": "run_id", "exitCode": "exit_code", "durationMs": "duration_ms"}


@dataclass
class RunResult(Mapping[str, Any]):
    """The result of ``sandbox.run()``: ``response``, ``status``, ``stdout``, ``stderr``, ``exit_code``…

    Attributes, or keys as the published SDK's dict-like results: ``result["response"]``, ``result.get("status")``,
    ``"stdout" in result``, ``dict(result)`` (camelCase keys such as ``result["exitCode"]`` work too).
    """

    run_id: str
    response: Any
    status: int
    stdout: str
    stderr: str
    exit_code: Optional[int]
    duration_ms: Optional[int]
    truncated: bool
    state: str
    error: Optional[str] = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    # the TypeScript SDK's names
    @property
    def runId(self) -> str:  # noqa: N802
        return self.run_id

    @property
    def exitCode(self) -> Optional[int]:  # noqa: N802
        return self.exit_code

    @property
    def durationMs(self) -> Optional[int]:  # noqa: N802
        return self.duration_ms

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("raw", None)
        return data

    def _keys(self) -> list[str]:
        return [item.name for item in fields(self) if item.name != "raw"]

    def __getitem__(self, key: str) -> Any:
        name = _CAMEL_KEYS.get(key, key)
        if name not in self._keys():
            raise KeyError(key)
        return getattr(self, name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and _CAMEL_KEYS.get(key, key) in self._keys()

    @classmethod
    def from_api(cls, raw: Any) -> "RunResult":
        if not isinstance(raw, dict) or not isinstance(raw.get("runId"), str):
            raise SandpitError(f"unexpected run result from server: {str(raw)[:300]}")
        status = raw.get("status")
        return cls(
            run_id=raw["runId"],
            response=raw.get("response"),
            status=status if isinstance(status, int) else int(status or 0),
            stdout=raw.get("stdout") or "",
            stderr=raw.get("stderr") or "",
            exit_code=raw.get("exitCode"),
            duration_ms=raw.get("durationMs"),
            truncated=raw.get("truncated") is True,
            state=raw.get("state") or "",
            error=raw.get("error"),
            raw=raw,
        )


def _read_local_file(path: str) -> bytes:
    return Path(path).expanduser().read_bytes()


class Sandbox:
    """One sandbox: a container that keeps its files between runs until ``delete()`` or its timeout."""

    _kind = "cpu"

    def __init__(self, client: Client, info: dict[str, Any], model_upload: Optional[ModelUpload] = None) -> None:
        self.client = client
        self.info = info
        self.model_upload = model_upload
        """The upload done before create when ``model`` was a local folder (None otherwise)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, name={self.name!r}, status={self.status!r})"

    @property
    def id(self) -> str:
        return self.info["id"]

    @property
    def name(self) -> str:
        return self.info.get("name", "")

    @property
    def runtime(self) -> str:
        return self.info.get("runtime", "")

    @property
    def status(self) -> str:
        return self.info.get("status", "")

    @property
    def endpoint(self) -> str:
        """Where this sandbox's runs are posted (the server's view, else built from the base URL)."""
        return self.info.get("endpoint") or f"{self.client.base_url}{self._path}/runs"

    @property
    def type(self) -> str:  # noqa: A003 - the published SDK's name
        """``"gpu"`` or ``"cpu"``, as the published SDK's instances say."""
        return self.info.get("type") or ("gpu" if self.gpu else "cpu")

    @property
    def gpu(self) -> Optional[str]:
        """The GPU type asked for (``"any"``, ``"T4"``, …); None for a CPU sandbox."""
        return self.info.get("gpu")

    @property
    def requirements_cached(self) -> bool:
        """True when the requirements came from the server's cache instead of a fresh install."""
        return self.info.get("requirementsCached") is True

    requirementsCached = requirements_cached  # noqa: N815

    @property
    def _path(self) -> str:
        return f"/api/v1/sandboxes/{quote(self.id, safe='')}"

    @classmethod
    async def create(cls, options: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> "Sandbox":
        """Creates a sandbox (``CPUSandbox.create({...})`` as in the seed, or keyword arguments)."""
        opts = normalise_keys(options, kwargs, OPTION_ALIASES)
        body, model_folder = build_create_request(opts, cls._kind)
        if opts.get("apiToken") is not None or opts.get("baseUrl") is not None:
            default = get_default_client()
            client = Client({"apiToken": opts.get("apiToken") or default.api_token, "baseUrl": opts.get("baseUrl") or default.base_url})
        else:
            client = get_default_client()
        # A local model folder goes into the store first (only what the store lacks), then is named in the create.
        model_upload = None if model_folder is None else await upload_model(client, body["model"], model_folder)
        info = await client.request("POST", "/api/v1/sandboxes", body=body, timeout=15 * 60)
        return cls(client, info, model_upload)

    @classmethod
    async def connect(cls, sandbox_id: str, options: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> "Sandbox":
        """A handle to an existing sandbox by id."""
        opts = normalise_keys(options, kwargs, OPTION_ALIASES)
        client = Client(opts) if opts else get_default_client()
        info = await client.request("GET", f"/api/v1/sandboxes/{quote(sandbox_id, safe='')}")
        return cls(client, info)

    async def refresh(self) -> dict[str, Any]:
        """Re-reads the sandbox's state (``status``: ready, deleted, expired, error)."""
        self.info = await self.client.request("GET", self._path)
        return self.info

    async def run(
        self,
        input: Any = None,  # noqa: A002 - the API's name
        options: Optional[Mapping[str, Any]] = None,
        *,
        on_stdout: Optional[OutputCallback] = None,
        on_stderr: Optional[OutputCallback] = None,
        command: Optional[str] = None,
        stdin: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> RunResult:
        """Runs the sandbox's code (or ``command``) with ``input`` as the handler's event.

        With ``on_stdout``/``on_stderr`` (or ``{"onStdout": ...}`` in ``options``; sync or async
        callables) output is streamed to them while it runs; otherwise one request waits.
        A string is code, as the published SDK's ``run(code)``: ``run("python other.py")`` runs that command (relative
        source files it names that exist locally are copied in first); a string event goes in ``options["input"]``.
        Raises :class:`SandpitTimeoutError` (``kind == "run"``) when the run hits its time limit.
        """
        opts = {_RUN_ALIASES.get(key, key): value for key, value in (options or {}).items()}
        unknown = set(opts) - {"on_stdout", "on_stderr", "command", "stdin", "timeout", "input"}
        if unknown:
            name = sorted(unknown)[0]
            raise ValidationError(f"{name}: unknown run option", field=name)
        on_stdout = on_stdout or opts.get("on_stdout")
        on_stderr = on_stderr or opts.get("on_stderr")
        command = command if command is not None else opts.get("command")
        stdin = stdin if stdin is not None else opts.get("stdin")
        timeout = timeout if timeout is not None else opts.get("timeout")
        if isinstance(input, str):
            if not is_command_line(input):
                raise ValidationError(
                    'run: a string is a command, as in run("python main.py") (one line starting with python, node, deno, go, bash or sh); '
                    'pass a string event as run(None, {"input": ...})',
                    field="command",
                )
            if command is not None:
                raise ValidationError("run: give the command as the string or as command=, not both", field="command")
            for file in files_named_by_command(input):
                await self.client.request("POST", f"{self._path}/files", body=file)
            command, input = input.strip(), opts.get("input")  # noqa: A001
        elif input is None:
            input = opts.get("input")  # noqa: A001

        body: dict[str, Any] = {}
        if input is not None:
            body["input"] = input
        if command is not None:
            if not isinstance(command, str) or not command.strip():
                raise ValidationError("command: expected a non-empty string", field="command")
            body["command"] = command
        if stdin is not None:
            if not isinstance(stdin, str):
                raise ValidationError("stdin: expected a string", field="stdin")
            body["stdin"] = stdin
        if timeout is not None:
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
                raise ValidationError("timeout: expected seconds above 0", field="timeout")
            body["timeout"] = timeout
        for name, callback in (("onStdout", on_stdout), ("onStderr", on_stderr)):
            if callback is not None and not callable(callback):
                raise ValidationError(f"{name}: expected a callable", field=name)

        limit = float(timeout or self.info.get("timeout") or 60)
        wait = limit + CLIENT_MARGIN_S
        if on_stdout is None and on_stderr is None:
            raw = await self.client.request("POST", f"{self._path}/runs?wait=1", body=body, timeout=wait)
        else:
            started = await self.client.request("POST", f"{self._path}/runs", body=body)
            run_id = started["runId"]
            delivered = {"stdout": 0, "stderr": 0}
            try:
                await follow_run(self.client.base_url, run_id, on_stdout, on_stderr, delivered, wait)
            except StreamUnavailableError:
                pass  # wait over HTTP and hand the callbacks what they missed, below
            raw = await self.client.request("GET", f"{self._path}/runs/{quote(run_id, safe='')}?wait=1", timeout=wait)
            stdout, stderr = raw.get("stdout") or "", raw.get("stderr") or ""
            if on_stdout is not None and len(stdout) > delivered["stdout"]:
                await _call(on_stdout, stdout[delivered["stdout"] :])
            if on_stderr is not None and len(stderr) > delivered["stderr"]:
                await _call(on_stderr, stderr[delivered["stderr"] :])
        result = RunResult.from_api(raw)
        if result.state == "timed_out":
            raise SandpitTimeoutError(f"run {result.run_id} in sandbox {self.name} hit its time limit ({limit:g} s)", kind="run", result=result)
        return result

    async def upload(self, options: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> dict[str, Any]:
        """Copies a local file into the sandbox: ``upload({"localPath": ..., "filePath": ...})``."""
        opts = normalise_keys(options, kwargs, {"local_path": "localPath", "file_path": "filePath"})
        local_path, file_path = opts.get("localPath"), opts.get("filePath")
        if not isinstance(local_path, str) or not local_path:
            raise ValidationError("localPath: expected a file path", field="localPath")
        if not isinstance(file_path, str) or not file_path:
            raise ValidationError("filePath: expected a path inside the sandbox", field="filePath")
        try:
            # Off the event loop: a large file (or a slow disk) would stall every other task.
            data = await asyncio.to_thread(_read_local_file, local_path)
        except OSError as error:
            raise ValidationError(f"localPath: cannot read {local_path} ({error})", field="localPath") from error
        return await self.client.request("POST", f"{self._path}/files", body={"path": file_path, "content": base64.b64encode(data).decode()})

    async def delete(self) -> None:
        """Stops and removes the sandbox (idempotent)."""
        answer = await self.client.request("DELETE", self._path)
        if isinstance(answer, dict):
            self.info = answer

    async def __aenter__(self) -> "Sandbox":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        """``async with await CPUSandbox.create(...) as sandbox:`` deletes it when the block ends."""
        await self.delete()


class CPUSandbox(Sandbox):
    """A sandbox on CPUs."""

    _kind = "cpu"


class GPUSandbox(Sandbox):
    """A sandbox with a GPU (python only); needs a Sandpit worker with an NVIDIA GPU."""

    _kind = "gpu"
