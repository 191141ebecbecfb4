"""Typed errors; the server's error ``code`` (else the HTTP status) maps to them in one place (:func:`error_from_response`).

``BuildfunctionsError`` and ``AuthenticationError`` are the published SDK's names for ``SandpitError`` and ``AuthError``.
"""

from __future__ import annotations

import builtins
from typing import Any, Mapping, Optional


class SandpitError(Exception):
    """Base of every error the SDK raises. ``status`` (also ``status_code``/``statusCode``) is the HTTP status when
    there was a response; ``code`` the server's error code; ``details`` its whole JSON error body."""

    def __init__(self, message: str, *, status: Optional[int] = None, code: Optional[str] = None, details: Optional[dict[str, Any]] = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.details = details

    @property
    def status_code(self) -> Optional[int]:
        """The published SDK's name for ``status``."""
        return self.status

    @property
    def statusCode(self) -> Optional[int]:  # noqa: N802 - the published TypeScript SDK's name
        return self.status


class AuthError(SandpitError):
    """401 / 403: missing, unknown or revoked API token."""


class CapacityError(SandpitError):
    """503 (``unavailable``, ``insufficient_storage``): the server cannot take it now, e.g. every GPU slot stayed busy."""


class NotFoundError(SandpitError):
    """404: the sandbox or run does not exist."""


class ValidationError(SandpitError, ValueError):
    """400 from the server, or a bad option caught before any request. ``field`` names the option."""

    def __init__(
        self, message: str, *, field: Optional[str] = None, status: Optional[int] = None, code: Optional[str] = None, details: Optional[dict[str, Any]] = None
    ) -> None:
        super().__init__(message, status=status, code=code, details=details)
        self.field = field


class ConflictError(SandpitError):
    """409: the sandbox is not ready, already deleted, or expired."""


class RateLimitError(SandpitError):
    """429: too many requests; ``retry_after`` (alias ``retryAfter``) is the server's Retry-After in seconds."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: Optional[float] = None,
        status: Optional[int] = None,
        code: Optional[str] = None,
        details: Optional[dict[str, Any]] = None,
    ) -> None:
        super().__init__(message, status=status, code=code, details=details)
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

    def __init__(
        self, message: str, *, kind: str, result: Any = None, status: Optional[int] = None, code: Optional[str] = None, details: Optional[dict[str, Any]] = None
    ) -> None:
        SandpitError.__init__(self, message, status=status, code=code, details=details)
        self.kind = kind
        self.result = result


# The server's error codes (lib/errors/sandpit-error.ts) and the kind of error each becomes; unknown codes fall back to the status.
_KIND_BY_CODE = {
    "validation": "validation",
    "unauthorized": "auth",
    "forbidden": "auth",
    "not_found": "not_found",
    "gone": "conflict",
    "conflict": "conflict",
    "rate_limited": "rate_limit",
    "unavailable": "capacity",
    "insufficient_storage": "capacity",
}
_KIND_BY_STATUS = {
    400: "validation",
    422: "validation",
    401: "auth",
    403: "auth",
    404: "not_found",
    408: "timeout",
    504: "timeout",
    409: "conflict",
    410: "conflict",
    429: "rate_limit",
    503: "capacity",
    507: "capacity",
}


def error_from_response(status: int, body: Any, headers: Optional[Mapping[str, str]] = None) -> SandpitError:
    """The one mapping from an HTTP error response to an SDK error: by the body's ``code``, else by the status."""
    parsed = body if isinstance(body, dict) else {}
    text = body.strip()[:500] if isinstance(body, str) and body.strip() else None
    message = parsed.get("error") if isinstance(parsed.get("error"), str) else (text or f"request failed with HTTP {status}")
    code = parsed.get("code") if isinstance(parsed.get("code"), str) else None
    base: dict[str, Any] = {"status": status, "code": code, "details": parsed or None}
    kind = _KIND_BY_CODE.get(code or "") or _KIND_BY_STATUS.get(status)
    if kind == "validation":
        field = parsed.get("field") if isinstance(parsed.get("field"), str) else None
        return ValidationError(message, field=field, **base)
    if kind == "auth":
        return AuthError(message, **base)
    if kind == "not_found":
        return NotFoundError(message, **base)
    if kind == "timeout":
        return SandpitTimeoutError(message, kind="client", **base)
    if kind == "conflict":
        return ConflictError(message, **base)
    if kind == "rate_limit":
        retry_after: Optional[float] = None
        raw = (headers or {}).get("retry-after")
        if raw is not None:
            try:
                retry_after = float(raw)
            except ValueError:
                retry_after = None
        return RateLimitError(message, retry_after=retry_after, **base)
    if kind == "capacity":
        return CapacityError(message, **base)
    return SandpitError(message, **base)


# The published SDK's names for the same classes, so its ``except`` clauses keep working.
BuildfunctionsError = SandpitError
AuthenticationError = AuthError
