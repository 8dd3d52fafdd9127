"""Pure ASGI middleware: request body limits (size, read deadline) and structured access
logs."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from achroma.server.errors import GENERIC, WireError, send_error

access_logger = logging.getLogger("achroma.access")

# Chroma's server refuses bodies of 40 MiB and more.
DEFAULT_MAX_BODY_BYTES = 40 * 1024 * 1024 - 1
CLOSE = (b"connection", b"close")
TOO_LARGE = "Failed to buffer the request body: length limit exceeded"
# The body's first seconds, and the longest pause between two of its pieces.
DEFAULT_BODY_TIMEOUT = 10.0
# After its first seconds, a body must arrive at least this fast on average (bytes/s).
DEFAULT_BODY_MIN_RATE = 64 * 1024


class BodySizeLimit:
    """Refuse request bodies over `max_bytes` with Chroma's 413: at once when Content-Length
    says so, otherwise as soon as the streamed body passes the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await send_error(send, 413, GENERIC, TOO_LARGE)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised inside the endpoint's body read, which answers it as a 413.
                    raise WireError(413, GENERIC, TOO_LARGE)
            return message

        await self.app(scope, limited, send)


class BodyDeadline:
    """Answer 408 when a request body arrives too slowly: no pause between two of its pieces
    longer than `timeout` seconds, and the whole body within `timeout` seconds plus one second
    per `min_rate` bytes received.

    A response sent before its request's body was read whole (this 408, a 413, a 401, any
    answer that needs no body) closes the connection: the server would otherwise go on
    reading and discarding the rest of the body, for as long as the client sends it.
    """

    def __init__(
        self,
        app: ASGIApp,
        timeout: float = DEFAULT_BODY_TIMEOUT,
        min_rate: int = DEFAULT_BODY_MIN_RATE,
    ) -> None:
        self.app = app
        self.timeout = timeout
        self.min_rate = min_rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        unread = headers.get(b"content-length", b"0") != b"0" or b"transfer-encoding" in headers
        started = time.monotonic()
        received = 0

        async def timed() -> Message:
            nonlocal received, unread
            deadline = started + self.timeout + received / self.min_rate
            with anyio.move_on_after(max(min(self.timeout, deadline - time.monotonic()), 0)) as w:
                message = await receive()
            if w.cancelled_caught:
                # Raised inside the endpoint's body read, which answers it as a 408.
                raise WireError(408, GENERIC, self._message())
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                unread = unread and message.get("more_body", False)
            return message

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start" and unread:
                message = {**message, "headers": [*message.get("headers", []), CLOSE]}
            await send(message)

        await self.app(scope, timed, answer)

    def _message(self) -> str:
        return (
            f"Request body not received in time: at most {self.timeout:g} s between two "
            f"pieces, and {self.min_rate} bytes/s on average after the first {self.timeout:g} s"
        )


class AccessLog:
    """One JSON line per request on the `achroma.access` logger: time, client, method, path,
    status, response size and duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not access_logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        sent = 0

        async def watched(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            access_logger.info(json.dumps(_entry(scope, status, sent, started)))


def _entry(scope: Scope, status: int, sent: int, started: float) -> dict[str, Any]:
    client = scope.get("client")
    return {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z",
        "client": f"{client[0]}:{client[1]}" if client else None,
        "method": scope["method"],
        "path": scope["path"],
        "query": scope.get("query_string", b"").decode("latin-1") or None,
        "status": status,
        "bytes": sent,
        "ms": round((time.perf_counter() - started) * 1000, 2),
    }
