"""Pure ASGI middleware: a request body size limit and structured access logs."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from achroma.server.errors import GENERIC, WireError, send_error

access_logger = logging.getLogger("achroma.access")

# Chroma's server refuses bodies of 40 MiB and more.
DEFAULT_MAX_BODY_BYTES = 40 * 1024 * 1024 - 1
TOO_LARGE = "Failed to buffer the request body: length limit exceeded"


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
