"""The async backend interface: tenants, databases, collections and records.

`AsyncClient` and `AsyncCollection` are thin over this. The local engine
(`achroma.engine.local.LocalBackend`) is one implementation; the HTTP client is another.
Arguments arrive validated and normalised; a backend only stores, searches and raises
`ChromaError`s for conditions only it can see (missing or duplicate objects).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any
from uuid import UUID

from achroma.core.models import (
    CollectionModel,
    Database,
    GetResult,
    Include,
    QueryResult,
    Tenant,
    UserIdentity,
    Where,
    WhereDocument,
)
from achroma.core.records import RecordBatch


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
    ) -> CollectionModel: ...

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
    async def add(self, collection: CollectionModel, batch: RecordBatch) -> None: ...

    @abstractmethod
    async def upsert(self, collection: CollectionModel, batch: RecordBatch) -> None: ...

    @abstractmethod
    async def update(self, collection: CollectionModel, batch: RecordBatch) -> None: ...

    @abstractmethod
    async def delete(
        self,
        collection: CollectionModel,
        ids: list[str] | None,
        where: Where | None,
        where_document: WhereDocument | None,
        limit: int | None,
    ) -> int: ...

    @abstractmethod
    async def count(self, collection: CollectionModel) -> int: ...

    @abstractmethod
    async def get(
        self,
        collection: CollectionModel,
        ids: list[str] | None,
        where: Where | None,
        where_document: WhereDocument | None,
        limit: int | None,
        offset: int | None,
        include: list[Include],
    ) -> GetResult: ...

    @abstractmethod
    async def query(
        self,
        collection: CollectionModel,
        query_embeddings: Any,
        ids: list[str] | None,
        n_results: int,
        where: Where | None,
        where_document: WhereDocument | None,
        include: list[Include],
    ) -> QueryResult: ...
