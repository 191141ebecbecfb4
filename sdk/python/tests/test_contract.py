"""The SDK's models against the server's OpenAPI document (the one contract, generated from its zod schemas)."""

from __future__ import annotations

from dataclasses import fields

import httpx
import pytest

from sandpit import CODE_RUNTIMES, CodeRunResult, RunResult, User
from sandpit._options import KNOWN_OPTIONS, LANGUAGES, RUNTIMES
from sandpit._run_code import camel_case
from sandpit._stream import RUN_EVENT, SUBSCRIBE


@pytest.fixture(scope="module")
def document(stack) -> dict:
    response = httpx.get(f"{stack.base_url}/api/v1/openapi.json", timeout=30)
    response.raise_for_status()
    return response.json()


def properties(document: dict, schema: str) -> set[str]:
    return set(document["components"]["schemas"][schema]["properties"])


def api_names(model: type, leave_out: tuple[str, ...] = ()) -> set[str]:
    return {camel_case(field.name) for field in fields(model) if field.name not in leave_out}


def test_run_result_has_every_field_of_a_sandbox_run_result(document):
    assert api_names(RunResult, leave_out=("raw",)) == properties(document, "SandboxRunResult")


def test_code_run_result_has_every_field_of_a_finished_run(document):
    assert api_names(CodeRunResult) == properties(document, "FinishedRun")


def test_user_is_who_am_i(document):
    assert api_names(User) == properties(document, "WhoAmI")


def test_sandbox_options_are_the_request_fields(document):
    client_only = {"apiToken", "baseUrl"}
    assert set(KNOWN_OPTIONS) - client_only == properties(document, "SandboxRequest")


def test_runtimes_and_languages_are_the_servers(document):
    schemas = document["components"]["schemas"]
    assert set(RUNTIMES) == set(schemas["SandboxRequest"]["properties"]["runtime"]["enum"])
    assert set(LANGUAGES) == set(schemas["SandboxRequest"]["properties"]["language"]["enum"])
    assert set(CODE_RUNTIMES) == set(schemas["RunRequest"]["properties"]["runtime"]["enum"])


def test_stream_events_are_the_servers(document):
    socket = document["x-socket-io"]
    assert SUBSCRIBE in socket["clientToServer"]
    assert RUN_EVENT in socket["serverToClient"]
