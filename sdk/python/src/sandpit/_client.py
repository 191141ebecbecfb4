"""The connection to one Sandpit server: token, base URL, JSON requests, error mapping."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from typing import Any, Mapping, Optional

import httpx

from ._errors import AuthError, SandpitError, SandpitTimeoutError, error_from_response

DEFAULT_BASE_URL = "http://localhost:3000"

_ALIASES = {"api_token": "apiToken", "base_url": "baseUrl", "request_timeout": "requestTimeout"}


def _env(name: str) -> Optional[str]:
    value = os.environ.get(name, "").strip()
    return value or None


def normalise_keys(options: Optional[Mapping[str, Any]], kwargs: Mapping[str, Any], aliases: Mapping[str, str]) -> dict[str, Any]:
    """Merges an options dict and keyword arguments; snake_case names become the seed's camelCase."""
    merged: dict[str, Any] = {}
    if options is not None:
        if not isinstance(options, Mapping):
            from ._errors import ValidationError

            raise ValidationError("options: expected a dict of options", field="options")
        merged.update(options)
    merged.update(kwargs)
    normalised: dict[str, Any] = {}
    for key, value in merged.items():
        name = aliases.get(key, key)
        if name != key and (name in merged or name in normalised):
            from ._errors import ValidationError

            raise ValidationError(f"{key}: give {name} or {key}, not both", field=key)
        normalised[name] = value
    return normalised


@dataclass
class User:
    """Who the token belongs to (``GET /api/v1/me``, schema ``WhoAmI``): ``username`` is the token's name."""

    username: str
    tokenId: Optional[str] = None  # noqa: N815 - the API's name

    @property
    def token_id(self) -> Optional[str]:
        return self.tokenId


class Client:
    """An API token and a server. ``await Sandpit({...})`` makes one and checks the token.

    Each value comes from the explicit option, then the environment (``SANDPIT_API_TOKEN``,
    ``SANDPIT_BASE_URL``; in a nested sandbox ``SANDPIT_API_URL``), then the default (``http://localhost:3000``).
    """

    def __init__(self, options: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> None:
        opts = normalise_keys(options, kwargs, _ALIASES)
        # SANDPIT_API_URL: what a nested sandbox is given (its channel to the sandbox API).
        self.api_token: Optional[str] = opts.get("apiToken") or _env("SANDPIT_API_TOKEN")
        self.base_url: str = (opts.get("baseUrl") or _env("SANDPIT_BASE_URL") or _env("SANDPIT_API_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.request_timeout: float = float(opts.get("requestTimeout") or 60.0)
        self.user: Optional[User] = None
        self._http: Optional[httpx.AsyncClient] = None
        self._http_loop: Optional[asyncio.AbstractEventLoop] = None

    # camelCase aliases, as in the seed / TypeScript SDK
    @property
    def apiToken(self) -> Optional[str]:  # noqa: N802
        return self.api_token

    @property
    def baseUrl(self) -> str:  # noqa: N802
        return self.base_url

    def _client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._http is None or self._http_loop is not loop or self._http.is_closed:
            # httpx connections belong to one event loop; a new loop (asyncio.run again, the sync API) gets its own.
            self._http = httpx.AsyncClient()
            self._http_loop = loop
        return self._http

    async def authenticate(self) -> User:
        """``GET /api/v1/me``: checks the token and records ``user``."""
        me = await self.request("GET", "/api/v1/me")
        self.user = User(username=me["username"], tokenId=me.get("tokenId"))
        return self.user

    async def request_bytes(self, method: str, path: str, data: bytes, headers: Optional[Mapping[str, str]] = None) -> Any:
        """A request whose body is bytes (a model blob's chunk); the answer is JSON as for :meth:`request`."""
        return await self.request(method, path, data=data, headers=headers, timeout=max(self.request_timeout, 600.0))

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        data: Optional[bytes] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
    ) -> Any:
        """One request (``body`` as JSON, or ``data`` as bytes); non-2xx answers raise typed errors."""
        if not self.api_token:
            raise AuthError("no API token: pass apiToken or set SANDPIT_API_TOKEN (create one with `npm run token -- create NAME`)")
        deadline = timeout if timeout is not None else self.request_timeout
        sent_headers = {**(headers or {}), "authorization": f"Bearer {self.api_token}", "accept": "application/json"}
        content: Any = None
        if data is not None:
            sent_headers["content-type"] = "application/octet-stream"
            content = data
        elif body is not None:
            sent_headers["content-type"] = "application/json"
            content = json.dumps(body)
        try:
            response = await self._client().request(method, f"{self.base_url}{path}", headers=sent_headers, content=content, timeout=deadline)
        except httpx.TimeoutException as error:
            raise SandpitTimeoutError(f"{method} {path}: no answer from {self.base_url} within {deadline:g} s", kind="client") from error
        except httpx.HTTPError as error:
            raise SandpitError(f"{method} {path}: could not reach Sandpit at {self.base_url} ({error!r})") from error
        text = response.text
        parsed: Any = text
        if text:
            try:
                parsed = json.loads(text)
            except ValueError:
                pass
        if response.status_code >= 400:
            raise error_from_response(response.status_code, parsed, response.headers)
        return parsed

    async def aclose(self) -> None:
        if self._http is not None and not self._http.is_closed:
            try:
                await self._http.aclose()
            except RuntimeError:
                pass  # its loop is gone
        self._http = None


_default_options: dict[str, Any] = {}
_last_client: Optional[Client] = None


def configure(options: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> Client:
    """Sets the connection used by ``CPUSandbox.create()`` when its options name no apiToken/baseUrl."""
    global _default_options, _last_client
    _default_options = normalise_keys(options, kwargs, _ALIASES)
    _last_client = Client(_default_options)
    return _last_client


def get_default_client() -> Client:
    """The configured client, else the last one made by ``Sandpit()``, else one from the environment."""
    global _last_client
    if _last_client is None:
        _last_client = Client(_default_options)
    return _last_client


async def Sandpit(options: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> Client:  # noqa: N802 - seed's shape
    """Authenticates and returns a client (``client.user.username``); it becomes the default for sandboxes."""
    global _last_client
    client = Client(options, **kwargs)
    await client.authenticate()
    _last_client = client
    return client


Buildfunctions = Sandpit
"""Alias so code written for the Buildfunctions SDK runs with only a changed import."""
