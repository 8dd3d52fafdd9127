"""Record endpoints: add, upsert, update, delete, count, get and query.

Each decodes the JSON payload into the arguments of the matching `AsyncCollection` method and
calls it (through `validated`), so a request is validated by the same rules, with the same
messages, as a call on an embedded client.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from achroma.http import wire
from achroma.server.boundary import validated
from achroma.server.endpoint import body, collection, endpoint


def _columns(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadatas": wire.metadatas_from_json(payload.get("metadatas")),
        "documents": payload.get("documents"),
        "uris": payload.get("uris"),
    }


# What Chroma's server returns when a request names no `include`.
GET_INCLUDE = ["documents", "metadatas"]
QUERY_INCLUDE = ["documents", "metadatas", "distances"]


def _include(payload: dict[str, Any], default: list[str]) -> Any:
    include = payload.get("include")
    return list(default) if include is None else include


async def _write(request: Request, method: str) -> Any:
    """add and upsert: the same body, with embeddings required."""
    payload = await body(request, required=("ids", "embeddings"))
    target = await collection(request)
    await validated(
        getattr(target, method)(
            ids=payload["ids"],
            embeddings=wire.embeddings_from_json(payload["embeddings"]),
            **_columns(payload),
        )
    )
    return {}


@endpoint(status=201)
async def add(request: Request) -> Any:
    return await _write(request, "add")


@endpoint()
async def upsert(request: Request) -> Any:
    return await _write(request, "upsert")


@endpoint()
async def update(request: Request) -> Any:
    payload = await body(request, required=("ids",))
    target = await collection(request)
    await validated(
        target.update(
            ids=payload["ids"],
            embeddings=wire.update_embeddings_from_json(payload.get("embeddings")),
            **_columns(payload),
        )
    )
    return {}


@endpoint()
async def delete(request: Request) -> Any:
    payload = await body(request)
    target = await collection(request)
    result = await validated(
        target.delete(
            ids=payload.get("ids"),
            where=payload.get("where"),
            where_document=payload.get("where_document"),
            limit=payload.get("limit"),
        )
    )
    return {"deleted": result["deleted"]}


@endpoint()
async def count(request: Request) -> Any:
    return await validated((await collection(request)).count())


@endpoint()
async def get(request: Request) -> Any:
    payload = await body(request)
    target = await collection(request)
    result = await validated(
        target.get(
            ids=payload.get("ids"),
            where=payload.get("where"),
            limit=payload.get("limit"),
            offset=payload.get("offset"),
            where_document=payload.get("where_document"),
            include=_include(payload, GET_INCLUDE),
        )
    )
    return wire.get_result_to_json(result)


@endpoint()
async def query(request: Request) -> Any:
    payload = await body(request, required=("query_embeddings",))
    target = await collection(request)
    n_results = payload.get("n_results")
    result = await validated(
        target.query(
            query_embeddings=payload["query_embeddings"],
            ids=payload.get("ids"),
            n_results=10 if n_results is None else n_results,
            where=payload.get("where"),
            where_document=payload.get("where_document"),
            include=_include(payload, QUERY_INCLUDE),
        )
    )
    return wire.query_result_to_json(result)
