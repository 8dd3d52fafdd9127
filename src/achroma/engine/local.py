"""`LocalBackend`: the backend interface over the local engine (SQLite + USearch)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from achroma._version import __version__
from achroma.api.models import (
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
from achroma.api.records import RecordBatch
from achroma.backend.base import Backend
from achroma.engine import catalog
from achroma.engine.store import Store, acquire, release
from achroma.errors import ChromaError, ClientClosedError

# Chroma's embedded client reports this limit (SQLite's bound-variable limit / 6).
MAX_BATCH_SIZE = 5461


class LocalBackend(Backend):
    """Tenants, databases, collections and records in a local SQLite store."""

    def __init__(self, store: Store, allow_reset: bool) -> None:
        self._store: Store | None = store
        self._allow_reset = allow_reset

    @classmethod
    async def open(cls, path: str | Path | None, allow_reset: bool = False) -> LocalBackend:
        """Open the store at `path` (None: the in-memory ephemeral store)."""
        return cls(await acquire(path), allow_reset)

    @property
    def store(self) -> Store:
        if self._store is None or self._store.closed:
            raise ClientClosedError("This client has been closed and cannot be used any more")
        return self._store

    # --- system ---

    async def heartbeat(self) -> int:
        self.store  # noqa: B018  (raises when closed)
        return time.time_ns()

    async def get_version(self) -> str:
        return __version__

    async def get_max_batch_size(self) -> int:
        return MAX_BATCH_SIZE

    async def get_user_identity(self) -> UserIdentity:
        return UserIdentity(user_id="", tenant="default_tenant", databases=["default_database"])

    async def reset(self) -> bool:
        if not self._allow_reset:
            raise ChromaError(
                "Resetting is not allowed by this configuration "
                "(to enable it, set `allow_reset` to `True` in your Settings() or include "
                "`ALLOW_RESET=TRUE` in your environment variables)"
            )
        async with self.store.transaction() as db:
            await db.execute("DELETE FROM collections")
            await db.execute("DELETE FROM databases")
            await db.execute("DELETE FROM tenants")
            await catalog.create_defaults(db)
        return True

    async def close(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            await release(store)

    # --- tenants and databases ---

    async def create_tenant(self, name: str) -> None:
        async with self.store.transaction() as db:
            await catalog.create_tenant(db, name)

    async def get_tenant(self, name: str) -> Tenant:
        return await catalog.get_tenant(self.store.db, name)

    async def list_tenants(self, limit: int | None, offset: int | None) -> list[Tenant]:
        return await catalog.list_tenants(self.store.db, limit, offset)

    async def create_database(self, name: str, tenant: str) -> None:
        async with self.store.transaction() as db:
            await catalog.create_database(db, name, tenant)

    async def get_database(self, name: str, tenant: str) -> Database:
        return await catalog.get_database(self.store.db, name, tenant)

    async def list_databases(
        self, tenant: str, limit: int | None, offset: int | None
    ) -> list[Database]:
        return await catalog.list_databases(self.store.db, tenant, limit, offset)

    async def delete_database(self, name: str, tenant: str) -> None:
        async with self.store.transaction() as db:
            await catalog.delete_database(db, name, tenant)

    # --- collections ---

    async def create_collection(
        self,
        name: str,
        tenant: str,
        database: str,
        metadata: dict[str, Any] | None,
        configuration: dict[str, Any],
        get_or_create: bool,
    ) -> CollectionModel:
        async with self.store.transaction() as db:
            if get_or_create:
                found = await catalog.find_collection(db, name, tenant, database)
                if found is not None:
                    return found
            return await catalog.create_collection(
                db, name, tenant, database, metadata, configuration
            )

    async def get_collection(self, name: str, tenant: str, database: str) -> CollectionModel:
        return await catalog.get_collection(self.store.db, name, tenant, database)

    async def list_collections(
        self, tenant: str, database: str, limit: int | None, offset: int | None
    ) -> list[CollectionModel]:
        return await catalog.list_collections(self.store.db, tenant, database, limit, offset)

    async def count_collections(self, tenant: str, database: str) -> int:
        return await catalog.count_collections(self.store.db, tenant, database)

    async def modify_collection(
        self,
        collection: CollectionModel,
        new_name: str | None,
        new_metadata: dict[str, Any] | None,
        new_configuration: dict[str, Any] | None,
    ) -> None:
        async with self.store.transaction() as db:
            await catalog.modify_collection(
                db, collection.id, new_name, new_metadata, new_configuration
            )

    async def delete_collection(self, name: str, tenant: str, database: str) -> None:
        async with self.store.transaction() as db:
            await catalog.delete_collection(db, name, tenant, database)

    async def fork_collection(self, collection: CollectionModel, new_name: str) -> CollectionModel:
        raise NotImplementedError("fork arrives with records")

    # --- records (next step) ---

    async def add(self, collection: CollectionModel, batch: RecordBatch) -> None:
        raise NotImplementedError

    async def upsert(self, collection: CollectionModel, batch: RecordBatch) -> None:
        raise NotImplementedError

    async def update(self, collection: CollectionModel, batch: RecordBatch) -> None:
        raise NotImplementedError

    async def delete(
        self,
        collection: CollectionModel,
        ids: list[str] | None,
        where: Where | None,
        where_document: WhereDocument | None,
        limit: int | None,
    ) -> int:
        raise NotImplementedError

    async def count(self, collection: CollectionModel) -> int:
        raise NotImplementedError

    async def get(
        self,
        collection: CollectionModel,
        ids: list[str] | None,
        where: Where | None,
        where_document: WhereDocument | None,
        limit: int | None,
        offset: int | None,
        include: list[Include],
    ) -> GetResult:
        raise NotImplementedError

    async def query(
        self,
        collection: CollectionModel,
        query_embeddings: Any,
        ids: list[str] | None,
        n_results: int,
        where: Where | None,
        where_document: WhereDocument | None,
        include: list[Include],
    ) -> QueryResult:
        raise NotImplementedError
