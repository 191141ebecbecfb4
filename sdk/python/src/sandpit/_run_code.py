"""One-off runs: one program in a fresh single-use sandbox, in one request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Union

from ._client import Client, get_default_client
from ._errors import ValidationError

CODE_RUNTIMES = ("python", "node", "deno", "go", "bash")


@dataclass
class CodeRunResult:
    id: str
    status: str
    exit_code: Optional[int]
    stdout: str
    stderr: str
    truncated: bool
    oom_killed: bool
    duration_ms: Optional[float]
    #: Whether the run got a pre-started container from the server's warm pool.
    warm: bool
    error: Optional[str]
    #: Share link of the run.
    url: str


async def run_code(
    runtime: str,
    code: str,
    *,
    stdin: Optional[str] = None,
    timeout: Optional[float] = None,
    memory: Union[str, int, None] = None,
    vcpus: Optional[float] = None,
    client: Optional[Client] = None,
) -> CodeRunResult:
    """``POST /api/v1/runs?wait=1``: no sandbox to create or delete; the server hands it a warm container when it has one."""
    if runtime not in CODE_RUNTIMES:
        raise ValidationError(f"runtime: expected one of {', '.join(CODE_RUNTIMES)}", field="runtime")
    if not isinstance(code, str):
        raise ValidationError("code: expected the program's source text", field="code")
    body: dict[str, Any] = {"runtime": runtime, "code": code}
    for key, value in (("stdin", stdin), ("timeout", timeout), ("memory", memory), ("vcpus", vcpus)):
        if value is not None:
            body[key] = value
    # The server waits up to the run's timeout plus a margin; so does this request.
    deadline = (timeout or 10) + 30
    answer = await (client or get_default_client()).request("POST", "/api/v1/runs?wait=1", body=body, timeout=deadline)
    return CodeRunResult(
        id=answer["id"],
        status=answer["status"],
        exit_code=answer.get("exitCode"),
        stdout=answer.get("stdout", ""),
        stderr=answer.get("stderr", ""),
        truncated=bool(answer.get("truncated")),
        oom_killed=bool(answer.get("oomKilled")),
        duration_ms=answer.get("durationMs"),
        warm=bool(answer.get("warm")),
        error=answer.get("error"),
        url=answer.get("url", ""),
    )
