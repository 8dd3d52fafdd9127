"""The v2 REST API's routes: system, tenants, databases and collections (records are in
`records.py`). Paths, methods, bodies and status codes follow `chroma-openapi.json`."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from achroma.api.collection import AsyncCollection
from achroma.api.configuration import Recorded
from achroma.errors import ChromaError
from achroma.http import wire
from achroma.server import record_routes
from achroma.server.boundary import validated
from achroma.server.endpoint import (
    admin,
    backend,
    body,
    client,
    collection,
    collection_uuid,
    endpoint,
    page,
    path,
)
from achroma.server.errors import WireError, invalid_argument, not_implemented


def _collection_json(target: AsyncCollection) -> Any:
    return wire.collection_to_json(target.model)


# --- system ---


@endpoint()
async def heartbeat(request: Request) -> Any:
    return {"nanosecond heartbeat": time.time_ns()}


@endpoint()
async def healthcheck(request: Request) -> Any:
    try:
        await backend(request).heartbeat()
    except ChromaError as exc:
        raise WireError(503, "ChromaError", f"Service unavailable: {exc.message()}") from None
    return {"is_executor_ready": True, "is_log_client_ready": True}


@endpoint()
async def version(request: Request) -> Any:
    return await backend(request).get_version()


@endpoint()
async def pre_flight_checks(request: Request) -> Any:
    return {
        "max_batch_size": await backend(request).get_max_batch_size(),
        "supports_base64_encoding": True,
    }


@endpoint()
async def identity(request: Request) -> Any:
    user = getattr(request.state, "user", None)  # set by token auth
    if user is not None:
        return user.identity()
    found = await backend(request).get_user_identity()
    return {"user_id": found.user_id, "tenant": found.tenant, "databases": found.databases}


@endpoint()
async def reset(request: Request) -> Any:
    if not request.app.state.settings.allow_reset:
        raise WireError(403, "ChromaError", "Reset is disabled by config")
    return await backend(request).reset()


# --- tenants ---


@endpoint()
async def create_tenant(request: Request) -> Any:
    payload = await body(request, required=("name",))
    await validated(admin(request).create_tenant(payload["name"]))
    return {}


@endpoint()
async def list_tenants(request: Request) -> Any:
    limit, offset = page(request)
    found = await validated(admin(request).list_tenants(limit, offset))
    return [wire.tenant_to_json(t) for t in found]


@endpoint()
async def get_tenant(request: Request) -> Any:
    found = await validated(admin(request).get_tenant(path(request, "tenant_name")))
    return wire.tenant_to_json(found)


@endpoint()
async def update_tenant(request: Request) -> Any:
    await body(request, required=("resource_name",))
    # achroma keeps no resource names: the tenant must exist, and nothing changes.
    await validated(admin(request).get_tenant(path(request, "tenant_name")))
    return {}


# --- databases ---


@endpoint()
async def create_database(request: Request) -> Any:
    payload = await body(request, required=("name",))
    await validated(admin(request).create_database(payload["name"], path(request, "tenant")))
    return {}


@endpoint()
async def list_databases(request: Request) -> Any:
    limit, offset = page(request)
    tenant = path(request, "tenant")
    user = getattr(request.state, "user", None)  # set by token auth
    if user is None or user.all_databases:
        found = await validated(admin(request).list_databases(limit, offset, tenant=tenant))
    else:
        # A token bound to some databases sees only those, paged after the filter.
        every = await validated(admin(request).list_databases(tenant=tenant))
        found = [d for d in every if d["name"] in user.databases][offset or 0 :]
        found = found[:limit] if limit is not None else found
    return [wire.database_to_json(d) for d in found]


@endpoint()
async def get_database(request: Request) -> Any:
    found = await validated(
        admin(request).get_database(path(request, "database"), path(request, "tenant"))
    )
    return wire.database_to_json(found)


@endpoint()
async def delete_database(request: Request) -> Any:
    await validated(
        admin(request).delete_database(path(request, "database"), path(request, "tenant"))
    )
    return {}


# --- collections ---


@endpoint()
async def list_collections(request: Request) -> Any:
    limit, offset = page(request)
    found = await validated(client(request).list_collections(limit, offset))
    return [_collection_json(c) for c in found]


@endpoint()
async def count_collections(request: Request) -> Any:
    return await validated(client(request).count_collections())


@endpoint()
async def create_collection(request: Request) -> Any:
    payload = await body(request, required=("name",))
    configuration = payload.get("configuration")
    if isinstance(configuration, dict) and configuration:
        # The client recorded the embedding function (or none): keep its record as sent.
        ef = Recorded(configuration.get("embedding_function"))
        configuration = {**configuration, "embedding_function": ef}
    created = await validated(
        client(request).create_collection(
            payload["name"],
            schema=payload.get("schema"),
            configuration=configuration,
            metadata=payload.get("metadata"),
            embedding_function=None,
            get_or_create=bool(payload.get("get_or_create", False)),
        )
    )
    return _collection_json(created)


@endpoint()
async def get_collection(request: Request) -> Any:
    # Chroma's clients put the collection's name in this path segment.
    scoped = client(request)
    found = await validated(
        scoped.get_collection(path(request, "collection_id"), embedding_function=None)
    )
    return _collection_json(found)


@endpoint()
async def get_collection_by_id(request: Request) -> Any:
    cid = collection_uuid(
        request, "Validation error: collection_id: Invalid collection ID format, expected UUID"
    )
    scoped = client(request)
    found = await backend(request).get_collection_by_id(cid, scoped.tenant, scoped.database)
    return wire.collection_to_json(found)


@endpoint()
async def get_collection_by_crn(request: Request) -> Any:
    parts = path(request, "crn").split(":")
    if len(parts) != 3 or not all(parts):
        raise invalid_argument(
            "Validation error: crn: CRN must be in the format "
            "<tenant_resource_name>:<database_name>:<collection_name> with non-empty parts"
        )
    tenant, database, name = parts
    return wire.collection_to_json(await backend(request).get_collection(name, tenant, database))


@endpoint()
async def update_collection(request: Request) -> Any:
    payload = await body(request)
    target = await collection(request)
    change = payload.get("new_configuration")
    await validated(
        target.modify(
            name=payload.get("new_name"),
            metadata=payload.get("new_metadata"),
            configuration=wire.drop_nulls(change) or None,
        )
    )
    return {}


@endpoint()
async def delete_collection(request: Request) -> Any:
    await validated(client(request).delete_collection(path(request, "collection_id")))
    return {}


@endpoint()
async def fork_collection(request: Request) -> Any:
    payload = await body(request, required=("new_name",))
    target = await collection(request)
    return _collection_json(await validated(target.fork(payload["new_name"])))


# --- what a single-node Chroma server does not have either ---


@endpoint()
async def fork_count(request: Request) -> Any:
    return {"count": await validated((await collection(request)).fork_count())}


@endpoint()
async def indexing_status(request: Request) -> Any:
    status = await validated((await collection(request)).get_indexing_status())
    return dataclasses.asdict(status)


@endpoint()
async def search(request: Request) -> Any:
    payload = await body(request, required=("searches",))
    target = await collection(request)
    result = await validated(
        target._search_json(payload["searches"], payload.get("read_level", "index_and_wal"))
    )
    return wire.search_result_to_json(result)


@endpoint()
async def attach_function(request: Request) -> Any:
    raise not_implemented("Attached functions are not supported by achroma")


@endpoint()
async def get_attached_function(request: Request) -> Any:
    raise WireError(404, "NotFoundError", "Attached function not found")


@endpoint()
async def detach_function(request: Request) -> Any:
    raise not_implemented("Attached functions are not supported by achroma")


@endpoint()
async def v1_gone(request: Request) -> Any:
    raise WireError(410, "Unimplemented", "The v1 API is deprecated. Please use /v2 apis")


V2 = "/api/v2"
DB = V2 + "/tenants/{tenant}/databases/{database}"
COLLECTION = DB + "/collections/{collection_id}"


def routes() -> list[BaseRoute]:
    def r(p: str, handler: Any, *methods: str) -> Route:
        return Route(p, handler, methods=list(methods))

    return [
        r(V2 + "/heartbeat", heartbeat, "GET"),
        r(V2, heartbeat, "GET"),  # chromadb's AsyncHttpClient.heartbeat asks here
        r(V2 + "/healthcheck", healthcheck, "GET"),
        r(V2 + "/version", version, "GET"),
        r(V2 + "/pre-flight-checks", pre_flight_checks, "GET"),
        r(V2 + "/auth/identity", identity, "GET"),
        r(V2 + "/reset", reset, "POST"),
        r(V2 + "/tenants", create_tenant, "POST"),
        r(V2 + "/tenants", list_tenants, "GET"),
        r(V2 + "/tenants/{tenant_name}", get_tenant, "GET"),
        r(V2 + "/tenants/{tenant_name}", update_tenant, "PATCH"),
        r(V2 + "/tenants/{tenant}/databases", create_database, "POST"),
        r(V2 + "/tenants/{tenant}/databases", list_databases, "GET"),
        r(DB, get_database, "GET"),
        r(DB, delete_database, "DELETE"),
        r(DB + "/collections", list_collections, "GET"),
        r(DB + "/collections", create_collection, "POST"),
        r(DB + "/collections_count", count_collections, "GET"),
        r(DB + "/collections/by-id/{collection_id}", get_collection_by_id, "GET"),
        r(COLLECTION, get_collection, "GET"),
        r(COLLECTION, update_collection, "PUT"),
        r(COLLECTION, delete_collection, "DELETE"),
        r(COLLECTION + "/add", record_routes.add, "POST"),
        r(COLLECTION + "/upsert", record_routes.upsert, "POST"),
        r(COLLECTION + "/update", record_routes.update, "POST"),
        r(COLLECTION + "/delete", record_routes.delete, "POST"),
        r(COLLECTION + "/count", record_routes.count, "GET"),
        r(COLLECTION + "/get", record_routes.get, "POST"),
        r(COLLECTION + "/query", record_routes.query, "POST"),
        r(COLLECTION + "/fork", fork_collection, "POST"),
        r(COLLECTION + "/fork_count", fork_count, "GET"),
        r(COLLECTION + "/indexing_status", indexing_status, "GET"),
        r(COLLECTION + "/search", search, "POST"),
        r(COLLECTION + "/functions/attach", attach_function, "POST"),
        r(COLLECTION + "/functions/{function_name}", get_attached_function, "GET"),
        r(COLLECTION + "/attached_functions/{function_name}/detach", detach_function, "POST"),
        r(V2 + "/collections/{crn}", get_collection_by_crn, "GET"),
        r("/api/v1/{rest:path}", v1_gone, "GET", "POST", "PUT", "PATCH", "DELETE"),
    ]
