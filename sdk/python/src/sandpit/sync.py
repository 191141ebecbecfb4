"""Synchronous API with the same names as :mod:`sandpit`:

    from sandpit.sync import Sandpit, CPUSandbox

    client = Sandpit({"apiToken": "..."})
    sandbox = CPUSandbox.create({"language": "python", "code": "print('hi')"})
    print(sandbox.run().stdout)
    sandbox.delete()

Calls run on one private event loop in a daemon thread, so this works inside programs that have
no event loop (and also from code that is running one, e.g. a notebook). Streaming callbacks are
called on that thread.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Awaitable, Mapping, Optional, TypeVar

from . import _client
from ._client import Client, User
from ._errors import (
    AuthenticationError,
    AuthError,
    BuildfunctionsError,
    CapacityError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    SandpitError,
    SandpitTimeoutError,
    ValidationError,
)
from ._sandbox import CPUSandbox as _AsyncCPUSandbox
from ._sandbox import GPUSandbox as _AsyncGPUSandbox
from ._run_code import CodeRunResult
from ._run_code import run_code as _run_code
from ._sandbox import RunResult
from ._sandbox import Sandbox as _AsyncSandbox

T = TypeVar("T")
_loop: Optional[asyncio.AbstractEventLoop] = None
_lock = threading.Lock()


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="sandpit-sync", daemon=True).start()
        return _loop


def _wait(awaitable: Awaitable[T]) -> T:
    return asyncio.run_coroutine_threadsafe(awaitable, _background_loop()).result()  # type: ignore[arg-type]


def Sandpit(options: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> Client:  # noqa: N802
    """Authenticates and returns a client; it becomes the default for sandboxes."""
    return _wait(_client.Sandpit(options, **kwargs))


Buildfunctions = Sandpit
configure = _client.configure


def run_code(runtime: str, code: str, **kwargs: Any) -> CodeRunResult:
    """Blocking :func:`sandpit.run_code`."""
    return _wait(_run_code(runtime, code, **kwargs))


class Sandbox:
    """Blocking wrapper around :class:`sandpit.Sandbox`."""

    _async_cls: type[_AsyncSandbox] = _AsyncSandbox

    def __init__(self, inner: _AsyncSandbox) -> None:
        self._inner = inner

    def __repr__(self) -> str:
        return f"sync.{self._inner!r}"

    @classmethod
    def create(cls, options: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> "Sandbox":
        return cls(_wait(cls._async_cls.create(options, **kwargs)))

    @classmethod
    def connect(cls, sandbox_id: str, options: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> "Sandbox":
        return cls(_wait(cls._async_cls.connect(sandbox_id, options, **kwargs)))

    id = property(lambda self: self._inner.id)
    name = property(lambda self: self._inner.name)
    runtime = property(lambda self: self._inner.runtime)
    status = property(lambda self: self._inner.status)
    info = property(lambda self: self._inner.info)
    client = property(lambda self: self._inner.client)
    requirements_cached = property(lambda self: self._inner.requirements_cached)
    requirementsCached = requirements_cached  # noqa: N815
    endpoint = property(lambda self: self._inner.endpoint)
    type = property(lambda self: self._inner.type)  # noqa: A003 - the published SDK's name
    gpu = property(lambda self: self._inner.gpu)
    model_upload = property(lambda self: self._inner.model_upload)

    def run(self, input: Any = None, options: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> RunResult:  # noqa: A002
        return _wait(self._inner.run(input, options, **kwargs))

    def upload(self, options: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> dict[str, Any]:
        return _wait(self._inner.upload(options, **kwargs))

    def refresh(self) -> dict[str, Any]:
        return _wait(self._inner.refresh())

    def delete(self) -> None:
        _wait(self._inner.delete())

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        """``with CPUSandbox.create(...) as sandbox:`` deletes it when the block ends."""
        self.delete()


class CPUSandbox(Sandbox):
    _async_cls = _AsyncCPUSandbox


class GPUSandbox(Sandbox):
    _async_cls = _AsyncGPUSandbox


__all__ = [
    "Sandpit",
    "Buildfunctions",
    "configure",
    "Client",
    "User",
    "Sandbox",
    "CPUSandbox",
    "GPUSandbox",
    "RunResult",
    "run_code",
    "CodeRunResult",
    "SandpitError",
    "BuildfunctionsError",
    "AuthError",
    "AuthenticationError",
    "CapacityError",
    "NotFoundError",
    "ValidationError",
    "ConflictError",
    "RateLimitError",
    "SandpitTimeoutError",
]
