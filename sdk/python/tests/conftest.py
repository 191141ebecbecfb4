"""Starts a real Sandpit (web + worker, runc) for the session, as tests/support/stack.ts does for Vitest."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

import sandpit

REPO_ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    def __init__(self) -> None:
        self.data_dir = tempfile.mkdtemp(prefix="sandpit-pytest-")
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._log: list[str] = []
        self._lock = threading.Lock()
        self.processes: list[subprocess.Popen[str]] = []

    def logs(self) -> str:
        with self._lock:
            return "".join(self._log)

    def launch(self, script: str, env: dict[str, str], label: str, ready: str, timeout: float = 120.0) -> subprocess.Popen[str]:
        full_env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/root"),
            "NODE_ENV": "production",
            "DATA_DIR": self.data_dir,
            **env,
        }
        process = subprocess.Popen(
            ["node", "--import", "tsx", script],
            cwd=REPO_ROOT,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self.processes.append(process)
        seen = threading.Event()
        pattern = re.compile(ready)

        def pump() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                with self._lock:
                    self._log.append(f"[{label}] {line}")
                if pattern.search(line):
                    seen.set()

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not seen.wait(0.2):
            if process.poll() is not None:
                raise RuntimeError(f"{label} exited ({process.returncode}) before {ready!r}\n{self.logs()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {label}: {ready!r}\n{self.logs()}")
        return process

    def start(self) -> None:
        self.launch(
            "server.ts",
            # Caps raised to the seed's GPU request (10000 MB, 6 vCPUs): tests/seed expects the GPU, not a cap, refused.
            {"PORT": str(self.port), "HOST": "127.0.0.1", "PUBLIC_URL": self.base_url, "RUN_MEMORY_MAX_MB": "16384", "RUN_VCPUS_MAX": "8"},
            "web",
            r"listening on",
        )
        self.launch(
            "worker/main.ts",
            # 4: the nested example's parent holds a run slot while its three children run theirs.
            {"WEB_URL": self.base_url, "SANDBOX_RUNTIME": "runc", "WORKER_CONCURRENCY": "4"},
            "worker",
            r"ready:",
        )

    def stop(self) -> None:
        for process in reversed(self.processes):  # worker first, then web
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def create_token(self, name: str = "test-user") -> str:
        completed = subprocess.run(
            ["npx", "tsx", "scripts/token.ts", "create", name],
            cwd=REPO_ROOT,
            env={**os.environ, "DATA_DIR": self.data_dir},
            capture_output=True,
            text=True,
            check=True,
        )
        lines = completed.stdout.strip().splitlines()
        if not lines:
            raise RuntimeError(f"no token printed: {completed.stdout!r} {completed.stderr!r}")
        return lines[-1].strip()


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    started = Stack()
    try:
        started.start()
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="session")
def token(stack: Stack) -> str:
    return stack.create_token("test-user")


@pytest.fixture(scope="session")
async def client(stack: Stack, token: str) -> sandpit.Client:
    """Authenticated; also the default client for ``CPUSandbox.create()`` without apiToken/baseUrl."""
    return await sandpit.Sandpit({"apiToken": token, "baseUrl": stack.base_url})


@pytest.fixture
async def make_sandbox(client: sandpit.Client):
    """``await make_sandbox({...})`` creates a sandbox that is deleted after the test."""
    made: list[sandpit.Sandbox] = []

    async def make(options: dict, cls=sandpit.CPUSandbox):
        sandbox = await cls.create({"timeout": 120, **options})
        made.append(sandbox)
        return sandbox

    yield make
    for sandbox in made:
        try:
            await sandbox.delete()
        except sandpit.SandpitError:
            pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and "stack" in item.funcargs:
        report.sections.append(("sandpit logs (tail)", item.funcargs["stack"].logs()[-6000:]))
