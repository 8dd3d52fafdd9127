"""What every endpoint shares: JSON in and out, errors as Chroma's bodies, and the per-request
client objects through which requests are validated exactly as the embedded client validates."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from achroma.api.client import AsyncAdminAPI, AsyncClient
from achroma.api.collection import AsyncCollection
from achroma.backend.base import Backend
from achroma.config import Settings
from achroma.errors import NotFoundError
from achroma.http import wire
from achroma.server.errors import (
    GENERIC,
    WireError,
    error_response,
    invalid_argument,
    undeserializable,
)

Handler = Callable[[Request], Awaitable[Any]]
Endpoint = Callable[[Request], Awaitable[Response]]


def json_response(value: Any, status: int = 200) -> Response:
    return Response(wire.dumps(value), status_code=status, media_type="application/json")


def endpoint(status: int = 200) -> Callable[[Handler], Endpoint]:
    """Turn `handler(request) -> JSON value` into an endpoint answering `status`, or the
    error's status and Chroma error body."""

    def decorate(handler: Handler) -> Endpoint:
        @functools.wraps(handler)
        async def run(request: Request) -> Response:
            try:
                return json_response(await handler(request), status)
            except Exception as exc:
                return error_response(exc)

        return run

    return decorate


# --- request parts ---


async def body(request: Request, required: Iterable[str] = ()) -> dict[str, Any]:
    """The JSON object in the request body, with the `required` fields present."""
    # Like Chroma's server: no Content-Type is read as JSON, another type is refused.
    content_type = request.headers.get("content-type", "application/json")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise WireError(415, GENERIC, "Expected request with `Content-Type: application/json`")
    raw = await request.body()
    try:
        value = wire.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise invalid_argument(f"Failed to parse the request body as JSON: {exc}") from None
    if not isinstance(value, dict):
        raise undeserializable(f"invalid type: {type(value).__name__}, expected a JSON object")
    for name in required:
        if name not in value:
            raise undeserializable(f"missing field `{name}` at {_end_of_object(raw)}")
    return value


def _end_of_object(raw: bytes) -> str:
    """Where Chroma's JSON reader notices a missing field: the object's closing brace."""
    end = raw.rfind(b"}")
    line = raw.count(b"\n", 0, end) + 1
    column = end - (raw.rfind(b"\n", 0, end) + 1) + 1
    return f"line {line} column {column}"


def page(request: Request) -> tuple[int | None, int | None]:
    """`limit` and `offset` from the query string: non-negative integers when given."""
    values: list[int | None] = []
    for name in ("limit", "offset"):
        raw = request.query_params.get(name)
        if raw is None:
            values.append(None)
        elif raw.isascii() and raw.isdigit():
            values.append(int(raw))
        else:
            raise invalid_argument(
                f"Failed to deserialize query string: {name}: invalid digit found in string"
            )
    return values[0], values[1]


def path(request: Request, name: str) -> str:
    return str(request.path_params[name])


def collection_uuid(request: Request, message: str = "Collection ID is not a valid UUIDv4") -> UUID:
    try:
        return UUID(path(request, "collection_id"))
    except ValueError:
        raise invalid_argument(message) from None


# --- the objects a request works through ---


def backend(request: Request) -> Backend:
    found: Backend = request.app.state.backend
    return found


def settings(request: Request) -> Settings:
    found: Settings = request.app.state.settings
    return found


def admin(request: Request) -> AsyncAdminAPI:
    return AsyncAdminAPI(backend(request), settings(request))


def client(request: Request) -> AsyncClient:
    """A client scoped to the path's tenant and database (their existence is checked by the
    operations themselves, as Chroma's server does)."""
    return AsyncClient(
        backend(request), settings(request), path(request, "tenant"), path(request, "database")
    )


async def collection(request: Request) -> AsyncCollection:
    """The path's collection (by id, in the path's tenant and database), with no embedding
    function: the server stores the vectors it is sent and never embeds."""
    cid = collection_uuid(request)
    target = backend(request)
    tenant, database = path(request, "tenant"), path(request, "database")
    try:
        model = await target.get_collection_by_id(cid, tenant, database)
    except NotFoundError:
        # Chroma's record endpoints end this message with a period; its by-id lookup does not.
        raise WireError(404, "NotFoundError", f"Collection [{cid}] does not exist.") from None
    return StoringCollection(target, model, embedding_function=None)


class StoringCollection(AsyncCollection):
    """A collection handle that stores what it is sent: Chroma's clients compute sparse
    embeddings for the schema themselves, and its server never does."""

    async def _with_sparse_embeddings(
        self, metadatas: list[Any] | None, documents: list[Any] | None
    ) -> list[Any] | None:
        return metadatas
