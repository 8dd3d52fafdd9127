"""`HttpBackend`: the backend interface over Chroma's v2 REST API.

One pooled `httpx.AsyncClient` per backend (keep-alive connections, timeouts), closed with the
client. It talks to an achroma server or to a Chroma server alike; arguments arrive validated by
`AsyncClient`/`AsyncCollection`, exactly as for the local engine.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlparse, urlunparse
from uuid import UUID

import httpx

from achroma._version import __version__
from achroma.backend.base import Backend
from achroma.config import Settings
from achroma.core.models import (
    CollectionModel,
    Database,
    GetResult,
    IndexingStatus,
    QueryResult,
    Tenant,
    UserIdentity,
)
from achroma.core.records import RecordBatch
from achroma.core.requests import DeleteRequest, GetRequest, QueryRequest, RecordFilter
from achroma.core.search_plan import SearchRequest
from achroma.errors import ClientClosedError
from achroma.http import wire
from achroma.http.client_auth import auth_headers

# Chroma's clients wait as long as a request takes; achroma bounds connecting, and gives a
# generous bound to everything else so that a dead server cannot hang a client for ever.
CONNECT_TIMEOUT_SECS = 10.0
REQUEST_TIMEOUT_SECS = 300.0


def resolve_url(host: str, port: int | None, ssl: bool, api_path: str | None) -> str:
    """The API's base URL, as Chroma's clients build it: `host` may be a bare host name or a
    full URL (whose own port and path are then kept)."""
    api_path = api_path or ""
    if "/" in host and not host.startswith(("http://", "https://")):
        parsed = urlparse(host)
        if parsed.scheme:
            raise ValueError(f"Invalid URL. Unrecognized protocol - {parsed.scheme}.")
        raise ValueError(
            "Invalid URL. Seems that you are trying to pass URL as a host but without "
            "specifying the protocol. Please add http:// or https:// to the host."
        )
    if host.startswith(("http://", "https://")):
        parsed = urlparse(host)
        scheme = "https" if ssl else parsed.scheme
        path = parsed.path.rstrip("/")
        if not path.endswith(api_path):
            path += api_path
        return urlunparse((scheme, parsed.netloc, quote(path.replace("//", "/")), "", "", ""))
    scheme = "https" if ssl else "http"
    netloc = f"[{host}]" if ":" in host else host
    return f"{scheme}://{netloc}:{port or 8000}{api_path}"


def _limits(settings: Settings) -> httpx.Limits:
    kwargs: dict[str, Any] = {"keepalive_expiry": settings.chroma_http_keepalive_secs}
    if settings.chroma_http_max_connections is not None:
        kwargs["max_connections"] = settings.chroma_http_max_connections
    if settings.chroma_http_max_keepalive_connections is not None:
        kwargs["max_keepalive_connections"] = settings.chroma_http_max_keepalive_connections
    return httpx.Limits(**kwargs)


def _page(limit: int | None, offset: int | None) -> dict[str, int]:
    return {k: v for k, v in (("limit", limit), ("offset", offset)) if v is not None}


def _configuration_change(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """What `modify` changes, as Chroma's update payload: only the changed HNSW fields (a
    Chroma server refuses fields that cannot change) and the embedding function."""
    old_hnsw, new_hnsw = old.get("hnsw") or {}, new.get("hnsw") or {}
    change: dict[str, Any] = {}
    hnsw = {k: v for k, v in new_hnsw.items() if old_hnsw.get(k) != v}
    if hnsw:
        change["hnsw"] = hnsw
    if new.get("embedding_function") != old.get("embedding_function"):
        change["embedding_function"] = new.get("embedding_function")
    return change


class HttpBackend(Backend):
    """Tenants, databases, collections and records on a Chroma-compatible server."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http
        self._closed = False
        self._pre_flight: dict[str, Any] | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, transport: httpx.AsyncBaseTransport | None = None
    ) -> HttpBackend:
        """A backend for the server the settings name (`chroma_server_host` and friends).

        `transport` replaces the network (e.g. `httpx.MockTransport` in tests)."""
        if not settings.chroma_server_host:
            raise ValueError("Missing required config value 'chroma_server_host'")
        url = resolve_url(
            settings.chroma_server_host,
            settings.chroma_server_http_port,
            bool(settings.chroma_server_ssl_enabled),
            settings.chroma_server_api_default_path,
        )
        headers = {
            **(settings.chroma_server_headers or {}),
            **auth_headers(settings),
            "Content-Type": "application/json",
            "User-Agent": f"achroma/{__version__}",
        }
        verify = settings.chroma_server_ssl_verify
        http = httpx.AsyncClient(
            base_url=url,
            headers=headers,
            timeout=httpx.Timeout(REQUEST_TIMEOUT_SECS, connect=CONNECT_TIMEOUT_SECS),
            limits=_limits(settings),
            verify=verify if verify is not None else True,
            transport=transport,
        )
        return cls(http)

    async def connect(self) -> None:
        """Check that the server answers; `ValueError` as in chromadb when it does not."""
        try:
            await self.heartbeat()
        except httpx.TransportError as exc:
            await self.close()
            raise ValueError(
                "Could not connect to a Chroma server. Are you sure it is running?"
            ) from exc

    @property
    def base_url(self) -> str:
        return str(self._http.base_url)

    async def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, int] | None = None,
    ) -> Any:
        if self._closed:
            raise ClientClosedError("This client has been closed and cannot be used any more")
        response = await self._http.request(
            method,
            quote(path, safe="/:"),
            content=wire.dumps(body) if body is not None else None,
            params=params,
        )
        if response.status_code >= 400:
            error = wire.error_from_json(
                response.status_code, response.reason_phrase, response.text
            )
            error.trace_id = response.headers.get("chroma-trace-id")
            raise error
        return wire.loads(response.content) if response.content else None

    async def _pre_flight_checks(self) -> dict[str, Any]:
        if self._pre_flight is None:
            self._pre_flight = dict(await self._request("GET", "/pre-flight-checks"))
        return self._pre_flight

    # --- system ---

    async def heartbeat(self) -> int:
        return int((await self._request("GET", "/heartbeat"))["nanosecond heartbeat"])

    async def get_version(self) -> str:
        return str(await self._request("GET", "/version"))

    async def get_max_batch_size(self) -> int:
        return int((await self._pre_flight_checks()).get("max_batch_size", -1))

    async def get_user_identity(self) -> UserIdentity:
        body = await self._request("GET", "/auth/identity")
        return UserIdentity(
            user_id=body.get("user_id", ""),
            tenant=body.get("tenant"),
            databases=list(body.get("databases") or []),
        )

    async def reset(self) -> bool:
        return bool(await self._request("POST", "/reset"))

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._http.aclose()

    # --- tenants and databases ---

    async def create_tenant(self, name: str) -> None:
        await self._request("POST", "/tenants", {"name": name})

    async def get_tenant(self, name: str) -> Tenant:
        return wire.tenant_from_json(await self._request("GET", f"/tenants/{name}"))

    async def list_tenants(self, limit: int | None, offset: int | None) -> list[Tenant]:
        body = await self._request("GET", "/tenants", params=_page(limit, offset))
        return [wire.tenant_from_json(t) for t in body]

    async def create_database(self, name: str, tenant: str) -> None:
        await self._request("POST", f"/tenants/{tenant}/databases", {"name": name})

    async def get_database(self, name: str, tenant: str) -> Database:
        body = await self._request("GET", f"/tenants/{tenant}/databases/{name}")
        return wire.database_from_json(body)

    async def list_databases(
        self, tenant: str, limit: int | None, offset: int | None
    ) -> list[Database]:
        body = await self._request(
            "GET", f"/tenants/{tenant}/databases", params=_page(limit, offset)
        )
        return [wire.database_from_json(d) for d in body]

    async def delete_database(self, name: str, tenant: str) -> None:
        await self._request("DELETE", f"/tenants/{tenant}/databases/{name}")

    # --- collections ---

    @staticmethod
    def _collections(tenant: str, database: str) -> str:
        return f"/tenants/{tenant}/databases/{database}/collections"

    @classmethod
    def _records(cls, collection: CollectionModel, op: str) -> str:
        return f"{cls._collections(collection.tenant, collection.database)}/{collection.id}/{op}"

    async def create_collection(
        self,
        name: str,
        tenant: str,
        database: str,
        metadata: dict[str, Any] | None,
        configuration: dict[str, Any],
        get_or_create: bool,
        schema: dict[str, Any] | None = None,
    ) -> CollectionModel:
        body = await self._request(
            "POST",
            self._collections(tenant, database),
            {
                "name": name,
                "metadata": metadata,
                "configuration": configuration,
                "schema": schema,
                "get_or_create": get_or_create,
            },
        )
        return wire.collection_from_json(body)

    async def get_collection(self, name: str, tenant: str, database: str) -> CollectionModel:
        body = await self._request("GET", f"{self._collections(tenant, database)}/{name}")
        return wire.collection_from_json(body)

    async def get_collection_by_id(
        self, collection_id: UUID, tenant: str, database: str
    ) -> CollectionModel:
        path = f"{self._collections(tenant, database)}/by-id/{collection_id}"
        return wire.collection_from_json(await self._request("GET", path))

    async def list_collections(
        self, tenant: str, database: str, limit: int | None, offset: int | None
    ) -> list[CollectionModel]:
        body = await self._request(
            "GET", self._collections(tenant, database), params=_page(limit, offset)
        )
        return [wire.collection_from_json(c) for c in body]

    async def count_collections(self, tenant: str, database: str) -> int:
        return int(
            await self._request("GET", f"/tenants/{tenant}/databases/{database}/collections_count")
        )

    async def modify_collection(
        self,
        collection: CollectionModel,
        new_name: str | None,
        new_metadata: dict[str, Any] | None,
        new_configuration: dict[str, Any] | None,
    ) -> None:
        change = (
            _configuration_change(collection.configuration, new_configuration)
            if new_configuration is not None
            else None
        )
        await self._request(
            "PUT",
            f"{self._collections(collection.tenant, collection.database)}/{collection.id}",
            {
                "new_name": new_name,
                "new_metadata": new_metadata,
                "new_configuration": change or None,
            },
        )

    async def delete_collection(self, name: str, tenant: str, database: str) -> None:
        await self._request("DELETE", f"{self._collections(tenant, database)}/{name}")

    async def fork_collection(self, collection: CollectionModel, new_name: str) -> CollectionModel:
        body = await self._request(
            "POST", self._records(collection, "fork"), {"new_name": new_name}
        )
        return wire.collection_from_json(body)

    # --- records ---

    async def _write(self, collection: CollectionModel, op: str, batch: RecordBatch) -> None:
        limit = await self.get_max_batch_size()
        if 0 <= limit < len(batch):
            raise ValueError(f"Batch size {len(batch)} exceeds maximum batch size {limit}")
        as_base64 = bool((await self._pre_flight_checks()).get("supports_base64_encoding"))
        embeddings = (
            wire.embeddings_to_json(batch.embeddings, as_base64)
            if batch.embeddings is not None
            else None
        )
        await self._request(
            "POST",
            self._records(collection, op),
            {
                "ids": batch.ids,
                "embeddings": embeddings,
                "metadatas": wire.metadatas_to_json(batch.metadatas),
                "documents": batch.documents,
                "uris": batch.uris,
            },
        )

    async def add(self, collection: CollectionModel, batch: RecordBatch) -> None:
        await self._write(collection, "add", batch)

    async def upsert(self, collection: CollectionModel, batch: RecordBatch) -> None:
        await self._write(collection, "upsert", batch)

    async def update(self, collection: CollectionModel, batch: RecordBatch) -> None:
        await self._write(collection, "update", batch)

    async def delete(self, collection: CollectionModel, request: DeleteRequest) -> int:
        body: dict[str, Any] = _filter_json(request.filter)
        if request.limit is not None:
            body["limit"] = request.limit
        response = await self._request("POST", self._records(collection, "delete"), body)
        return int((response or {}).get("deleted", 0))

    async def count(self, collection: CollectionModel) -> int:
        return int(await self._request("GET", self._records(collection, "count")))

    async def fork_count(self, collection: CollectionModel) -> int:
        body = await self._request("GET", self._records(collection, "fork_count"))
        return int(body["count"])

    async def indexing_status(self, collection: CollectionModel) -> IndexingStatus:
        body = await self._request("GET", self._records(collection, "indexing_status"))
        return IndexingStatus(
            num_indexed_ops=int(body["num_indexed_ops"]),
            num_unindexed_ops=int(body["num_unindexed_ops"]),
            total_ops=int(body["total_ops"]),
            op_indexing_progress=float(body["op_indexing_progress"]),
        )

    async def get(self, collection: CollectionModel, request: GetRequest) -> GetResult:
        include = list(request.include)
        payload = {
            **_filter_json(request.filter),
            "limit": request.limit,
            "offset": request.offset,
            # "data" is loaded by the client from the uris; servers do not know it.
            "include": [i for i in include if i != "data"],
        }
        body = await self._request("POST", self._records(collection, "get"), payload)
        return wire.get_result_from_json(body, include)

    async def query(self, collection: CollectionModel, request: QueryRequest) -> QueryResult:
        include = list(request.include)
        selection = _filter_json(request.filter)
        payload = {
            "ids": selection["ids"],
            "query_embeddings": wire.embeddings_to_json(request.embeddings, as_base64=False),
            "n_results": request.n_results,
            "where": selection["where"],
            "where_document": selection["where_document"],
            "include": [i for i in include if i != "data"],
        }
        body = await self._request("POST", self._records(collection, "query"), payload)
        return wire.query_result_from_json(body, include)

    async def search(self, collection: CollectionModel, request: SearchRequest) -> dict[str, Any]:
        payload = {
            "searches": [plan.wire for plan in request.searches],
            "read_level": request.read_level,
        }
        body = await self._request("POST", self._records(collection, "search"), payload)
        return wire.search_result_from_json(body)


def _filter_json(selection: RecordFilter) -> dict[str, Any]:
    where, document = selection.where, selection.where_document
    return {
        "ids": selection.ids,
        "where": where.to_json() if where is not None else None,
        "where_document": document.to_json() if document is not None else None,
    }
