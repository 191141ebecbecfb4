"""Sandpit Python SDK: hardened sandboxes that keep state between runs.

    from sandpit import Sandpit, CPUSandbox

    client = await Sandpit({"apiToken": "...", "baseUrl": "http://localhost:3000"})
    sandbox = await CPUSandbox.create({"language": "python", "code": "print('hi')"})
    result = await sandbox.run()
    await sandbox.delete()

A synchronous API with the same names lives in :mod:`sandpit.sync`.
"""

from ._client import DEFAULT_BASE_URL, Buildfunctions, Client, Sandpit, User, configure, get_default_client
from ._code import SOURCE_EXTENSIONS, looks_like_path
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
from ._run_code import CODE_RUNTIMES, CodeRunResult, run_code
from ._models import ModelUpload, is_model_path, plan_model, upload_model
from ._sandbox import CPUSandbox, GPUSandbox, RunResult, Sandbox

__version__ = "0.1.0"

__all__ = [
    "Sandpit",
    "Buildfunctions",
    "Client",
    "User",
    "configure",
    "get_default_client",
    "DEFAULT_BASE_URL",
    "Sandbox",
    "CPUSandbox",
    "GPUSandbox",
    "RunResult",
    "run_code",
    "CodeRunResult",
    "CODE_RUNTIMES",
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
    "upload_model",
    "plan_model",
    "is_model_path",
    "ModelUpload",
    "looks_like_path",
    "SOURCE_EXTENSIONS",
]
