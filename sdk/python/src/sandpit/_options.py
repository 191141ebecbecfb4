"""Checks sandbox options and turns them into the body of ``POST /api/v1/sandboxes``."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Mapping, Optional

from ._code import resolve_code, resolve_requirements
from ._errors import ValidationError
from ._models import plan_model

# The server's enums (tests/test_contract.py checks them against its OpenAPI document). Limits (name length,
# timeout, vcpus, memory) are the server's to set and report in its 400s.
RUNTIMES = ("python", "node", "deno", "go", "shell", "bash")
LANGUAGES = ("python", "javascript", "typescript", "go", "shell")
KNOWN_OPTIONS = (
    "name",
    "language",
    "runtime",
    "code",
    "memory",
    "timeout",
    "vcpus",
    "envVariables",
    "requirements",
    "denoFlags",
    "model",
    "gpu",
    "gpuCount",
    "apiToken",
    "baseUrl",
    "files",
    "nested",
)
# snake_case spellings, and the published SDK's names (cpu_cores, gpu_count), each meaning one of ours.
OPTION_ALIASES = {
    "env_variables": "envVariables",
    "cpu_cores": "vcpus",
    "cpuCores": "vcpus",
    "gpu_count": "gpuCount",
    "deno_flags": "denoFlags",
    "api_token": "apiToken",
    "base_url": "baseUrl",
}
_MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(b|k|kb|ki|kib|m|mb|mi|mib|g|gb|gi|gib)?\s*$", re.IGNORECASE)
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _fail(field: str, message: str) -> None:
    raise ValidationError(f"{field}: {message}", field=field)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def build_create_body(options: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """Checks the options (already in our names) and turns them into the body of ``POST /api/v1/sandboxes``."""
    return build_create_request(options, kind)[0]


def build_create_request(options: Mapping[str, Any], kind: str) -> tuple[dict[str, Any], Optional[Path]]:
    """The request body, and the local model folder to upload (as ``body["model"]``) before it, if any."""
    model_folder: Optional[Path] = None
    for key in options:
        if key not in KNOWN_OPTIONS:
            _fail(key, f"unknown option (known: {', '.join(KNOWN_OPTIONS)})")
    body: dict[str, Any] = {}
    files: list[dict[str, str]] = []

    name = options.get("name")
    if name is not None:
        if not isinstance(name, str) or not name.strip():
            _fail("name", "expected a non-empty string")
        body["name"] = name
    runtime = options.get("runtime")
    language = options.get("language")
    if runtime is not None:
        if runtime not in RUNTIMES:
            _fail("runtime", f"expected one of {', '.join(RUNTIMES)}")
        body["runtime"] = runtime
    if language is not None:
        if language not in LANGUAGES:
            _fail("language", f"expected one of {', '.join(LANGUAGES)}")
        body["language"] = language
        if language == "javascript" and runtime is None:
            _fail("runtime", "language javascript needs runtime node or deno")
    if runtime is None and language is None:
        _fail("runtime", "say which runtime: set runtime or language")
    if kind == "gpu" and (runtime or language) != "python":
        _fail("runtime" if runtime is not None else "language", "GPU sandboxes run python only")

    code = options.get("code")
    if code is not None:
        if not isinstance(code, str):
            _fail("code", "expected source text, a file path or a command")
        body["code"], named = resolve_code(code)
        files.extend(named)

    memory = options.get("memory")
    if memory is not None:
        ok = (_is_number(memory) and memory > 0) or (isinstance(memory, str) and bool(_MEMORY.match(memory)))
        if not ok:
            _fail("memory", f'expected a size such as "512MB", "2GB", "1Gi" or a number of MB, got {memory!r}')
        body["memory"] = memory

    timeout = options.get("timeout")
    if timeout is not None:
        if not _is_number(timeout) or timeout <= 0:
            _fail("timeout", "expected seconds, a number above 0")
        body["timeout"] = timeout

    vcpus = options.get("vcpus")
    if vcpus is not None:
        if not _is_number(vcpus) or vcpus <= 0:
            _fail("vcpus", "expected a number above 0")
        body["vcpus"] = vcpus

    env = options.get("envVariables")
    if env is not None:
        if isinstance(env, Mapping):
            pairs = list(env.items())
        elif isinstance(env, (list, tuple)):
            pairs = []
            for entry in env:
                if not isinstance(entry, Mapping):
                    _fail("envVariables", "expected [{key, value}] or {KEY: value}")
                pairs.append((entry.get("key"), entry.get("value")))
        else:
            _fail("envVariables", "expected [{key, value}] or {KEY: value}")
        out = []
        for key, value in pairs:
            if not isinstance(key, str) or not _ENV_KEY.match(key):
                _fail("envVariables", f"bad variable name {key!r}")
            if isinstance(value, bool):
                value = "true" if value else "false"
            if not isinstance(value, (str, int, float)):
                _fail("envVariables", f"value of {key} must be a string")
            out.append({"key": key, "value": str(value)})
        body["envVariables"] = out

    requirements = options.get("requirements")
    if requirements is not None:
        if isinstance(requirements, str):
            body["requirements"] = resolve_requirements(requirements)
        elif isinstance(requirements, (list, tuple)) and all(isinstance(item, str) and item.strip() for item in requirements):
            body["requirements"] = list(requirements)
        else:
            _fail("requirements", "expected a list of package names or requirements.txt text")

    flags = options.get("denoFlags")
    if flags is not None:
        if not isinstance(flags, (list, tuple)) or not all(isinstance(flag, str) and flag.startswith("--") for flag in flags):
            _fail("denoFlags", 'expected a list of flags such as ["--allow-read"]')
        body["denoFlags"] = list(flags)

    model = options.get("model")
    if model is not None:
        body["model"], model_folder = plan_model(model)

    gpu = options.get("gpu")
    gpu_count = options.get("gpuCount")
    if kind == "gpu":
        # Memory, vCPUs and lifetime are left out when not given: the server fills in the published SDK's GPU
        # defaults (10000 MB, 10 vCPUs, 300 s), each lowered to its own cap, so a default never fails a request.
        gpu = "any" if gpu is None else gpu
        if not isinstance(gpu, str) or not gpu.strip():
            _fail("gpu", 'expected a GPU type such as "T4" or "any"')
        body["gpu"] = gpu
        if gpu_count is not None:
            if isinstance(gpu_count, bool) or not isinstance(gpu_count, int) or gpu_count < 1:
                _fail("gpuCount", "expected a whole number of GPUs, 1 or more")
            body["gpuCount"] = gpu_count  # the server says how many one sandbox may have
    elif gpu is not None or gpu_count is not None:
        _fail("gpu" if gpu is not None else "gpuCount", "use GPUSandbox for a GPU")

    extra = options.get("files")
    if extra is not None:
        if not isinstance(extra, (list, tuple)):
            _fail("files", "expected [{path, content(base64)}]")
        files.extend(extra)
    if files:
        body["files"] = files
    nested = options.get("nested")
    if nested is not None:
        if not isinstance(nested, Mapping):
            _fail("nested", "expected {maxChildren, maxDepth, memory, vcpus, gpus}")
        body["nested"] = dict(nested)  # the server checks each limit
    return body, model_folder
