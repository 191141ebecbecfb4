"""Runs the sandbox's code as __main__, then calls its top-level `handler(event, context)` if it has one.

The handler's return value is written as JSON to $SANDPIT_RESPONSE_FILE for the worker to read.
"""
import json
import os
import runpy
import sys
import time

import sandpit_streams


class Context:
    """A small Lambda-like context."""

    def __init__(self):
        self.sandbox_id = os.environ.get("SANDPIT_SANDBOX_ID", "")
        self.sandboxId = self.sandbox_id
        self.name = os.environ.get("SANDPIT_SANDBOX_NAME", "")
        self.run_id = os.environ.get("SANDPIT_RUN_ID", "")
        self._deadline_ms = int(os.environ.get("SANDPIT_DEADLINE_MS", "0"))

    @property
    def remaining_time_ms(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))

    remainingTimeMs = remaining_time_ms

    def get_remaining_time_in_millis(self):
        return self.remaining_time_ms

    def __getitem__(self, key):
        return getattr(self, key)


def main():
    sandpit_streams.install()
    path = sys.argv[1]
    sys.argv = [path]
    sys.path.insert(0, os.path.dirname(path))
    namespace = runpy.run_path(path, run_name="__main__")
    handler = namespace.get("handler")
    if not callable(handler):
        return
    with open(os.environ["SANDPIT_EVENT_FILE"], encoding="utf-8") as event_file:
        raw = event_file.read()
    event = json.loads(raw) if raw.strip() else None
    result = handler(event, Context())
    sys.stdout.flush()
    with open(os.environ["SANDPIT_RESPONSE_FILE"], "w", encoding="utf-8") as response_file:
        json.dump(result, response_file, default=str)


main()
