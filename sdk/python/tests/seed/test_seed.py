"""The seed's code against a live Sandpit: its reward-scoring example (Python, copied unchanged but for the import
line, run as a script), and its CPU and GPU snippets in the Python SDK's shape (the seed shows them in JavaScript; the
GPU one uses the seed's Python parameter list). This machine has no GPU: the GPU snippet runs up to its create, which
must fail with the server's 400 naming why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import sandpit
from sandpit import GPUSandbox

SEED = Path(__file__).resolve().parent

# What the fake Messages API answers: a candidate in a markdown fence, as models often reply.
CANDIDATE = """```python
def sort_list(items):
    try:
        return sorted(items)
    except TypeError:
        return sorted(items, key=lambda item: (type(item).__name__, repr(item)))
```"""


class FakeMessages(BaseHTTPRequestHandler):
    """POST /v1/messages on loopback, answering one text block in the Messages API's shape."""

    requests: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("content-length") or 0)
        FakeMessages.requests.append({"path": self.path, "body": json.loads(self.rfile.read(length) or b"{}")})
        answer = json.dumps(
            {
                "id": "msg_test",
                "type": "message",
                "role": "assistant",
                "model": "claude-opus-4-6",
                "content": [{"type": "text", "text": CANDIDATE}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 1, "output_tokens": 1},
            }
        ).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def fake_anthropic():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeMessages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_reward_scoring_example_runs_unchanged(stack, token, fake_anthropic, tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANTHROPIC_", "BUILDFUNCTIONS_", "SANDPIT_"))}
    env.update(
        {
            "BUILDFUNCTIONS_API_TOKEN": token,
            "SANDPIT_BASE_URL": stack.base_url,
            "ANTHROPIC_BASE_URL": fake_anthropic,
            "ANTHROPIC_KEY": "test-key",
        }
    )
    FakeMessages.requests.clear()
    completed = subprocess.run(
        [sys.executable, str(SEED / "seed_reward_scoring.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "Authenticated as: test-user" in completed.stdout, output
    assert "   Result: {'score': 1, 'passed': 10, 'total': 10" in completed.stdout, output  # every test of the reward handler passed
    assert "CPU Sandbox deleted" in completed.stdout, output
    assert [request["path"] for request in FakeMessages.requests] == ["/v1/messages"]
    assert FakeMessages.requests[0]["body"]["model"] == "claude-opus-4-6"


async def test_cpu_snippet(client):
    # The seed's CPU snippet in the Python SDK: same options, dict-style as the seed's Python example.
    cpu_sandbox = await sandpit.CPUSandbox.create(
        {
            "name": "text-analyzer",
            "runtime": "node",
            "code": "console.log('Hello from Sandbox!');",
            "memory": "512MB",
            "timeout": 120,
        }
    )
    try:
        result = await cpu_sandbox.run()
        print(result.stdout)
    finally:
        await cpu_sandbox.delete()
    assert result.stdout.strip() == "Hello from Sandbox!"
    assert result["stdout"] == result.stdout and result.get("status") == 200 and "response" in result
    assert cpu_sandbox.type == "cpu" and cpu_sandbox.gpu is None
    assert cpu_sandbox.endpoint.endswith(f"/api/v1/sandboxes/{cpu_sandbox.id}/runs")


async def test_gpu_snippet_reaches_the_gpu_request(client, tmp_path):
    # The seed's model path does not exist here: the SDK sends its folder name, so the store must hold "Qwen3-8B".
    folder = tmp_path / "Qwen3-8B"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "tiny"}))
    (folder / "model.safetensors").write_bytes(b"\x07" * 4096)
    await sandpit.upload_model(client, "Qwen3-8B", folder)

    prompt = "Write a haiku about sandboxes."
    # The seed's GPU snippet with the seed's Python SDK parameters (cpu_cores, gpu), as a dict.
    with pytest.raises(sandpit.BuildfunctionsError) as caught:
        sandbox = await GPUSandbox.create(
            {
                "name": "secure-agent-action",
                "memory": 10000,
                "timeout": 300,
                "cpu_cores": 6,
                "gpu": "T4",
                "language": "python",
                "requirements": ["transformers", "torch", "accelerate"],
                "model": "/path/to/models/Qwen/Qwen3-8B",
                "code": f'python inference_script.py "{prompt}"',
            }
        )
        await sandbox.run()
    error = caught.value
    assert isinstance(error, sandpit.ValidationError)
    assert (error.status_code, error.statusCode, error.code, error.field) == (400, 400, "validation", "gpu")
    assert "no worker has a GPU" in str(error)


async def test_model_folder_is_uploaded_once_and_mounted(client, tmp_path):
    folder = tmp_path / "tiny-py"
    (folder / "tokenizer").mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "tiny-py"}')
    (folder / "tokenizer" / "vocab.txt").write_text("x\ny\n")
    (folder / "model.safetensors").write_bytes(b"\x05" * 70_000)
    code = "import os\nroot = os.environ['MODEL_PATH']\nprint(sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs))"
    first = await sandpit.CPUSandbox.create({"language": "python", "model": str(folder), "code": code, "timeout": 60})
    async with first:
        assert first.model_upload.name == "tiny-py" and first.model_upload.sent_bytes > 70_000
        assert (await first.run()).stdout.strip() == "['config.json', 'model.safetensors', 'tokenizer/vocab.txt']"
    again = await sandpit.CPUSandbox.create({"language": "python", "model": {"name": "tiny-py-again", "path": str(folder)}, "code": "print(1)", "timeout": 60})
    await again.delete()
    assert (again.model_upload.sent_bytes, again.model_upload.files) == (0, 3)  # the store had every blob
