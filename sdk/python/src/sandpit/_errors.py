"""Typed errors; HTTP statuses map to them in one place (:func:`error_from_response`)."""

from __future__ import annotations

import builtins
from typing import Any, Mapping, Optional


class SandpitError(Exception):
    """Base of every error the SDK raises. ``status`` is the HTTP status when there was a response."""

    def __init__(self, message: str, *, status: Optional[int] = None, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


class AuthError(SandpitError):
    """401 / 403: missing, unknown or revoked API token."""


class NotFoundError(SandpitError):
    """404: the sandbox or run does not exist."""


class ValidationError(SandpitError, ValueError):
    """400 from the server, or a bad option caught before any request. ``field`` names the option."""

    def __init__(self, message: str, *, field: Optional[str] = None, status: Optional[int] = None, code: Optional[str] = None) -> None:
        super().__init__(message, status=status, code=code)
        self.field = field


class ConflictError(SandpitError):
    """409: the sandbox is not ready, already deleted, or expired."""


class RateLimitError(SandpitError):
    """429: too many requests; ``retry_after`` (alias ``retryAfter``) is the server's Retry-After in seconds."""

    def __init__(self, message: str, *, retry_after: Optional[float] = None, status: Optional[int] = None, code: Optional[str] = None) -> None:
        super().__init__(message, status=status, code=code)
        self.retry_after = retry_after

    @property
    def retryAfter(self) -> Optional[float]:  # noqa: N802 - same name as the TypeScript SDK
        return self.retry_after


class SandpitTimeoutError(SandpitError, builtins.TimeoutError):
    """Something took too long; ``kind`` says what. Also a built-in :class:`TimeoutError`, which it does not shadow.

    * ``"run"``: the run hit its time limit inside the sandbox (state ``timed_out``); ``result`` holds
      what it printed before it was stopped.
    * ``"client"``: the SDK gave up waiting for the server.
    """

    def __init__(self, message: str, *, kind: str, result: Any = None, status: Optional[int] = None, code: Optional[str] = None) -> None:
        SandpitError.__init__(self, message, status=status, code=code)
        self.kind = kind
        self.result = result


def error_from_response(status: int, body: Any, headers: Optional[Mapping[str, str]] = None) -> SandpitError:
    """The one mapping from an HTTP error response to an SDK error."""
    parsed = body if isinstance(body, dict) else {}
    text = body.strip()[:500] if isinstance(body, str) and body.strip() else None
    message = parsed.get("error") if isinstance(parsed.get("error"), str) else (text or f"request failed with HTTP {status}")
    code = parsed.get("code") if isinstance(parsed.get("code"), str) else None
    if status in (400, 422):
        field = parsed.get("field") if isinstance(parsed.get("field"), str) else None
        return ValidationError(message, field=field, status=status, code=code)
    if status in (401, 403):
        return AuthError(message, status=status, code=code)
    if status == 404:
        return NotFoundError(message, status=status, code=code)
    if status in (408, 504):
        return SandpitTimeoutError(message, kind="client", status=status, code=code)
    if status == 409:
        return ConflictError(message, status=status, code=code)
    if status == 429:
        retry_after: Optional[float] = None
        raw = (headers or {}).get("retry-after")
        if raw is not None:
            try:
                retry_after = float(raw)
            except ValueError:
                retry_after = None
        return RateLimitError(message, retry_after=retry_after, status=status, code=code)
    return SandpitError(message, status=status, code=code)
