"""The Python SDK's half of tests/checks/model-generation.check.ts.

Usage: python python_sdk_generate.py MODEL_FOLDER CODE_FILE (SANDPIT_API_TOKEN and SANDPIT_BASE_URL set).
Creates a CPU sandbox with the local model folder (the SDK uploads what the store lacks) and torch + transformers
as requirements, runs the code once, deletes the sandbox, and prints one JSON line: the upload, the run's output and
the timings.
"""

import asyncio
import json
import os
import sys
import time

import sandpit


async def main(folder: str, code: str) -> None:
    await sandpit.Sandpit({"apiToken": os.environ["SANDPIT_API_TOKEN"], "baseUrl": os.environ["SANDPIT_BASE_URL"]})
    started = time.monotonic()
    sandbox = await sandpit.CPUSandbox.create(
        {
            "language": "python",
            "model": folder,
            "requirements": ["torch", "transformers"],
            "code": code,
            "memory": 2048,
            "cpu_cores": 1,
            "timeout": 300,
        }
    )
    created = time.monotonic()
    try:
        result = await sandbox.run()
    finally:
        await sandbox.delete()
    ran = time.monotonic()
    upload = sandbox.model_upload
    report = {
        "type": sandbox.type,
        "gpu": sandbox.gpu,
        "modelUpload": {"name": upload.name, "files": upload.files, "sentBytes": upload.sent_bytes, "skippedBytes": upload.skipped_bytes},
        "state": result.state,
        "exitCode": result.exit_code,
        "stdout": result.stdout,
        "stderr": result.stderr,
        "createS": round(created - started, 2),
        "runS": round(ran - created, 2),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    with open(sys.argv[2], encoding="utf-8") as code_file:
        asyncio.run(main(sys.argv[1], code_file.read()))
