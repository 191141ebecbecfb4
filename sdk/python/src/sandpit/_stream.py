"""Follows one run over Socket.IO and hands its output to callbacks, in order."""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import Any, Callable, Optional

import socketio

from ._errors import SandpitError, SandpitTimeoutError

OutputCallback = Callable[[str], Any]

# Socket.IO events of a run's stream (the document's ``x-socket-io``; tests/test_contract.py checks them).
SUBSCRIBE = "run:subscribe"
RUN_EVENT = "run:event"


class StreamUnavailableError(Exception):
    """The socket never connected: the caller falls back to waiting over HTTP."""


async def _call(callback: Optional[OutputCallback], data: str) -> None:
    if callback is None:
        return
    outcome = callback(data)
    if inspect.isawaitable(outcome):
        await outcome


async def follow_run(
    base_url: str,
    run_id: str,
    on_stdout: Optional[OutputCallback],
    on_stderr: Optional[OutputCallback],
    delivered: dict[str, int],
    deadline_s: float,
) -> None:
    """Subscribes (replaying from the start), awaits each callback in turn, returns after the ``end`` event.

    No token is sent: like ``GET /api/v1/runs/{id}``, the stream needs only the run's unguessable id.
    """
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    state = {"last_seq": -1}
    # A restarting server comes back on its own time: keep reconnecting (the run's deadline bounds the wait),
    # and each reconnect resubscribes after the last chunk received, so nothing is lost or repeated.
    sio = socketio.AsyncClient(
        reconnection=True,
        reconnection_attempts=0,
        reconnection_delay=0.25,
        reconnection_delay_max=2,
        logger=False,
        engineio_logger=False,
    )

    def on_ack(reply: Any = None) -> None:
        if isinstance(reply, dict) and reply.get("ok") is False:
            queue.put_nowait({"type": "_refused", "error": reply.get("error")})

    async def subscribe() -> None:
        try:
            await sio.emit(SUBSCRIBE, {"runId": run_id, "afterSeq": state["last_seq"]}, callback=on_ack)
        except Exception as error:  # pragma: no cover - the reconnect handler retries
            queue.put_nowait({"type": "_refused", "error": repr(error)})

    async def on_connect() -> None:
        asyncio.ensure_future(subscribe())

    async def on_event(event: Any) -> None:
        if isinstance(event, dict) and event.get("runId") == run_id:
            queue.put_nowait(event)

    sio.on("connect", on_connect)
    sio.on(RUN_EVENT, on_event)
    try:
        await sio.connect(
            base_url,
            transports=["websocket"],
            socketio_path="socket.io",
            wait_timeout=10,
        )
    except socketio.exceptions.ConnectionError as error:
        raise StreamUnavailableError(str(error)) from error
    try:
        end = time.monotonic() + deadline_s
        while True:
            remaining = end - time.monotonic()
            if remaining <= 0:
                raise SandpitTimeoutError(f"run {run_id}: no end event within {deadline_s:g} s", kind="client")
            try:
                event = await asyncio.wait_for(queue.get(), timeout=remaining)
            except asyncio.TimeoutError:
                continue
            kind = event.get("type")
            if kind == "chunk":
                seq = event.get("seq", -1)
                if not isinstance(seq, int) or seq <= state["last_seq"]:
                    continue  # replayed twice around the subscribe
                state["last_seq"] = seq
                stream = "stderr" if event.get("stream") == "stderr" else "stdout"
                data = str(event.get("data", ""))
                delivered[stream] += len(data)
                await _call(on_stderr if stream == "stderr" else on_stdout, data)
            elif kind == "end":
                return
            elif kind == "_refused":
                raise SandpitError(f"run {run_id}: subscribe refused: {event.get('error') or 'unknown reason'}")
    finally:
        try:
            await sio.disconnect()
        except Exception:  # pragma: no cover
            pass
