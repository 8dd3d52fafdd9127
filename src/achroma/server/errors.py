"""Exceptions to HTTP responses, with the status codes and bodies of Chroma's server.

Errors are answered by their type alone:

- a `WireError` with the status, name and message the server chose for it;
- an `AlreadyExistsError` (or `UniqueConstraintError`) with Chroma's 409 named `ChromaError`,
  where the embedded client raises `InternalError`;
- any other `ChromaError` with its own code and name;
- anything else is a bug: a 500 whose body and `x-request-id` header carry a request id, logged
  with its traceback under the same id.

Client-side validation errors, which the embedded client raises as plain `ValueError`s and
`TypeError`s, become 400 `WireError`s where the api layer is called (`boundary.validated`).
"""

from __future__ import annotations

import logging
import uuid

from starlette.responses import Response
from starlette.types import Send

from achroma.errors import AlreadyExistsError, ChromaError, UniqueConstraintError
from achroma.http import wire

logger = logging.getLogger("achroma.server")

GENERIC = "ChromaError"
REQUEST_ID_HEADER = "x-request-id"
# Sent with every error, as Chroma's server does; chromadb's clients keep it as `trace_id`.
TRACE_ID_HEADER = "chroma-trace-id"


class WireError(Exception):
    """An error answered with exactly this status, wire name and message."""

    def __init__(self, status: int, name: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.name = name
        self.message = message


def invalid_argument(message: str) -> WireError:
    return WireError(400, "InvalidArgumentError", message)


def undeserializable(detail: str) -> WireError:
    """A body of the wrong shape, as Chroma's server words it."""
    return WireError(
        422, GENERIC, f"Failed to deserialize the JSON body into the target type: {detail}"
    )


def not_implemented(message: str) -> WireError:
    return WireError(501, GENERIC, message)


def _json(status: int, body: wire.JSON, headers: dict[str, str] | None = None) -> Response:
    return Response(
        wire.dumps(body), status_code=status, headers=headers, media_type="application/json"
    )


def error_response(exc: Exception) -> Response:
    """The answer to `exc`, raised while serving a request."""
    trace = {TRACE_ID_HEADER: uuid.uuid4().hex}
    if isinstance(exc, WireError):
        return _json(exc.status, wire.error_to_json(exc.name, exc.message), trace)
    if isinstance(exc, (AlreadyExistsError, UniqueConstraintError)):
        return _json(409, wire.error_to_json(GENERIC, exc.message()), trace)
    if isinstance(exc, ChromaError):
        return _json(exc.code, wire.error_to_json(exc.wire_name, exc.message()), trace)
    request_id = trace[TRACE_ID_HEADER]
    logger.error("request %s failed with an unexpected error", request_id, exc_info=exc)
    message = f"Unexpected server error (request id {request_id}); the server log has the details"
    body = {**wire.error_to_json("InternalError", message), "request_id": request_id}
    return _json(500, body, headers={**trace, REQUEST_ID_HEADER: request_id})


async def send_error(send: Send, status: int, name: str, message: str) -> None:
    """Answer with an error body straight from ASGI middleware (outside any endpoint)."""
    content = wire.dumps(wire.error_to_json(name, message))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
                (TRACE_ID_HEADER.encode(), uuid.uuid4().hex.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})
