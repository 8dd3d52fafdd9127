"""Exceptions to HTTP responses, with the status codes and bodies of Chroma's server.

The engine raises the classes chromadb's embedded client raises; Chroma's server reports some of
the same conditions differently (an existing tenant, database or collection is a 409 named
`ChromaError`, where the embedded client raises `InternalError`). This module is that one
translation. Validation errors that are plain `ValueError`s or `TypeError`s in the embedded client
are 400 `InvalidArgumentError`s on the wire.
"""

from __future__ import annotations

import logging

from starlette.responses import Response
from starlette.types import Send

from achroma.errors import ChromaError, InternalError, NotFoundError, UniqueConstraintError
from achroma.http import wire

logger = logging.getLogger("achroma.server")

GENERIC = "ChromaError"


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


def _describe(exc: Exception) -> tuple[int, str, str]:
    if isinstance(exc, WireError):
        return exc.status, exc.name, exc.message
    message = exc.message() if isinstance(exc, ChromaError) else str(exc)
    if isinstance(exc, NotFoundError):
        return 404, exc.wire_name, message
    if isinstance(exc, UniqueConstraintError) or (
        isinstance(exc, InternalError) and message.endswith("already exists")
    ):
        return 409, GENERIC, message
    if isinstance(exc, ChromaError):
        return exc.code, exc.wire_name, message
    if isinstance(exc, NotImplementedError):
        return 501, GENERIC, message
    if isinstance(exc, (ValueError, TypeError, AttributeError, IndexError, OverflowError)):
        return 400, "InvalidArgumentError", message
    logger.exception("unexpected error while serving a request", exc_info=exc)
    return 500, "InternalError", message or type(exc).__name__


def error_response(exc: Exception) -> Response:
    status, name, message = _describe(exc)
    return Response(
        wire.dumps(wire.error_to_json(name, message)),
        status_code=status,
        media_type="application/json",
    )


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
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})
