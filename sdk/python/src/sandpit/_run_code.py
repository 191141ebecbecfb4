"""One-off runs: one program in a fresh single-use sandbox, in one request."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Optional, Union

from ._client import Client, get_default_client
from ._errors import ValidationError

CODE_RUNTIMES = ("python", "node", "deno", "go", "bash")


@dataclass
class CodeRunResult:
    """The ended run: the server's ``FinishedRun`` (its run view and share link), in snake_case."""

    id: str
    runtime: str
    status: str
    exit_code: Optional[int]
    stdout: str
    stderr: str
    truncated: bool
    oom_killed: bool
    duration_ms: Optional[float]
    queued_at: str
    started_at: Optional[str]
    first_output_at: Optional[str]
    finished_at: Optional[str]
    error: Optional[str]
    #: Time limit in seconds.
    timeout: float
    memory_mb: int
    container_runtime: Optional[str]
    #: Whether the run got a pre-started container from the server's warm pool.
    warm: bool
    #: Share link of the run.
    url: str

    @classmethod
    def from_api(cls, answer: dict[str, Any]) -> "CodeRunResult":
        names = {field.name for field in fields(cls)}
        return cls(**{name: answer.get(camel_case(name)) for name in names})


def camel_case(name: str) -> str:
    """``exit_code`` → ``exitCode``: the API's name of a field."""
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


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
    # The server answers by the run's timeout plus its wait margin; so does this request. Without a timeout the
    # server's default applies, which only the server knows: the client's own request deadline bounds the wait.
    owner = client or get_default_client()
    deadline = timeout + 30 if timeout is not None else owner.request_timeout
    answer = await owner.request("POST", "/api/v1/runs?wait=1", body=body, timeout=deadline)
    return CodeRunResult.from_api(answer)
