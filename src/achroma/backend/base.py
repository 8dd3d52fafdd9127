"""The async backend interface: tenants, databases, collections and records.

`AsyncClient` and `AsyncCollection` are thin over this. The local engine
(`achroma.engine.local.LocalBackend`) is one implementation; the HTTP client is another.
Arguments arrive validated and normalised (writes as a `RecordBatch`, reads as typed request
objects); a backend only stores, searches and raises `ChromaError`s for conditions only it can
see (missing or duplicate objects, a dimension that differs, a batch too large). Any other
exception out of a backend is a bug.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any
from uuid import UUID

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
from achroma.core.requests import DeleteRequest, GetRequest, QueryRequest
from achroma.core.search_plan import SearchRequest


class Backend(ABC):
    """Operations on tenants, databases, collections and records."""

    # --- system ---
    @abstractmethod
    async def heartbeat(self) -> int: ...

    @abstractmethod
    async def get_version(self) -> str: ...

    @abstractmethod
    async def get_max_batch_size(self) -> int: ...

    @abstractmethod
    async def get_user_identity(self) -> UserIdentity: ...

    @abstractmethod
    async def reset(self) -> bool: ...

    @abstractmethod
    async def close(self) -> None: ...

    # --- tenants and databases ---
    @abstractmethod
    async def create_tenant(self, name: str) -> None: ...

    @abstractmethod
    async def get_tenant(self, name: str) -> Tenant: ...

    @abstractmethod
    async def list_tenants(self, limit: int | None, offset: int | None) -> list[Tenant]: ...

    @abstractmethod
    async def create_database(self, name: str, tenant: str) -> None: ...

    @abstractmethod
    async def get_database(self, name: str, tenant: str) -> Database: ...

    @abstractmethod
    async def list_databases(
        self, tenant: str, limit: int | None, offset: int | None
    ) -> list[Database]: ...

    @abstractmethod
    async def delete_database(self, name: str, tenant: str) -> None: ...

    # --- collections ---
    @abstractmethod
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
        """Create a collection (or, with `get_or_create`, return the one of that name as it
        is). `schema`: Chroma's schema JSON as a client sent it (None: none given), which
        the backend checks and reconciles with `configuration`; the model returned carries
        the collection's schema."""

    @abstractmethod
    async def get_collection(self, name: str, tenant: str, database: str) -> CollectionModel: ...

    @abstractmethod
    async def get_collection_by_id(
        self, collection_id: UUID, tenant: str, database: str
    ) -> CollectionModel:
        """The collection with this id in this tenant and database; `NotFoundError` if none."""

    @abstractmethod
    async def list_collections(
        self, tenant: str, database: str, limit: int | None, offset: int | None
    ) -> list[CollectionModel]: ...

    @abstractmethod
    async def count_collections(self, tenant: str, database: str) -> int: ...

    @abstractmethod
    async def modify_collection(
        self,
        collection: CollectionModel,
        new_name: str | None,
        new_metadata: dict[str, Any] | None,
        new_configuration: dict[str, Any] | None,
    ) -> None: ...

    @abstractmethod
    async def delete_collection(self, name: str, tenant: str, database: str) -> None: ...

    @abstractmethod
    async def fork_collection(
        self, collection: CollectionModel, new_name: str
    ) -> CollectionModel: ...

    # --- records ---
    @abstractmethod
    async def add(self, collection: CollectionModel, batch: RecordBatch) -> None:
        """Insert the batch's new ids; ids already stored are left as they are. Durable
        when it returns; a query issued after it sees it."""

    @abstractmethod
    async def upsert(self, collection: CollectionModel, batch: RecordBatch) -> None:
        """Insert new ids and change stored ones (metadata merged; a None value removes its
        key; a None column keeps what is stored)."""

    @abstractmethod
    async def update(self, collection: CollectionModel, batch: RecordBatch) -> None:
        """Change stored ids as `upsert` does; ids not stored are ignored."""

    @abstractmethod
    async def delete(self, collection: CollectionModel, request: DeleteRequest) -> int:
        """Delete the records `request.filter` selects (at most `request.limit`); the number
        deleted, or, when the filter is ids alone, the number of ids asked for (Chroma's
        count)."""

    @abstractmethod
    async def count(self, collection: CollectionModel) -> int:
        """How many records the collection holds."""

    @abstractmethod
    async def get(self, collection: CollectionModel, request: GetRequest) -> GetResult:
        """The selected records in insertion order, paged by `limit` and `offset`, with the
        fields of `request.include` (never "data": the client loads that from the URIs)."""

    @abstractmethod
    async def query(self, collection: CollectionModel, request: QueryRequest) -> QueryResult:
        """For each query vector, the `n_results` nearest selected records, nearest first.
        Every live record that passes the filter can be found: nothing acknowledged is
        missed. `InvalidArgumentError` when the vectors' dimension differs from the
        collection's."""

    @abstractmethod
    async def search(self, collection: CollectionModel, request: SearchRequest) -> dict[str, Any]:
        """Each Search of the batch on its own: Chroma's column-major `SearchResult` body
        (`ids`, `documents`, `embeddings`, `metadatas`, `scores`, `select`, one entry per
        Search)."""

    @abstractmethod
    async def indexing_status(self, collection: CollectionModel) -> IndexingStatus:
        """How many of the collection's write batches its vector index has applied."""

    @abstractmethod
    async def fork_count(self, collection: CollectionModel) -> int:
        """How many other live collections share the collection's fork line."""
