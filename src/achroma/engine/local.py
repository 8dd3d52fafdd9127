"""`LocalBackend`: the backend interface over the local engine (SQLite + USearch).

Catalog operations go to `catalog`; writes to `records` and then the vector index; reads
are planned by `planner` and carried out by `executor`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from uuid import UUID

import numpy as np

from achroma._version import __version__
from achroma.backend.base import Backend
from achroma.core import off_loop, schema_rules
from achroma.core.defaults import DEFAULT_DATABASE, DEFAULT_TENANT
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
from achroma.core.schema_filters import bm25_keys, check_record_filter, check_search
from achroma.core.search_plan import SearchRequest
from achroma.engine import catalog, planner, reads, records, results, search, search_results
from achroma.engine.engine import Engine, acquire, release
from achroma.engine.executor import check_dimension, execute
from achroma.engine.indexes import IndexChange, Indexes, keys_array
from achroma.engine.store import Store
from achroma.engine.writes import plan_write
from achroma.errors import (
    AuthorizationError,
    ClientClosedError,
    InternalError,
    NotFoundError,
)

# Chroma's embedded client reports this limit (SQLite's bound-variable limit / 6).
MAX_BATCH_SIZE = 5461


class LocalBackend(Backend):
    """Tenants, databases, collections and records in a local SQLite store."""

    def __init__(self, engine: Engine, allow_reset: bool) -> None:
        self._engine: Engine | None = engine
        self._allow_reset = allow_reset

    @classmethod
    async def open(cls, path: str | Path | None, allow_reset: bool = False) -> LocalBackend:
        """Open (or share) the engine at `path` (None: the in-memory ephemeral store)."""
        return cls(await acquire(path), allow_reset)

    @property
    def engine(self) -> Engine:
        if self._engine is None or self._engine.closed:
            raise ClientClosedError("This client has been closed and cannot be used any more")
        return self._engine

    @property
    def store(self) -> Store:
        return self.engine.store

    @property
    def indexes(self) -> Indexes:
        return self.engine.indexes

    # --- system ---

    async def heartbeat(self) -> int:
        self.store  # noqa: B018  (raises when closed)
        return time.time_ns()

    async def get_version(self) -> str:
        return __version__

    async def get_max_batch_size(self) -> int:
        return MAX_BATCH_SIZE

    async def get_user_identity(self) -> UserIdentity:
        return UserIdentity(user_id="", tenant=DEFAULT_TENANT, databases=[DEFAULT_DATABASE])

    async def reset(self) -> bool:
        if not self._allow_reset:
            raise AuthorizationError("Reset is disabled by config")
        async with self.store.transaction() as db:
            async with db.execute("SELECT id FROM collections") as cur:
                gone = [r[0] for r in await cur.fetchall()]
            await db.execute("DELETE FROM collections")
            await db.execute("DELETE FROM databases")
            await db.execute("DELETE FROM tenants")
            await catalog.create_defaults(db)
        self.indexes.drop(gone)
        return True

    async def close(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            await release(engine)

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
            gone = await catalog.delete_database(db, name, tenant)
        self.indexes.drop([str(c) for c in gone])

    # --- collections ---

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
        # As Chroma's server: the schema is checked and reconciled first, even when an
        # existing collection (which keeps its own) is returned.
        if schema is not None:
            schema_rules.validate_schema(schema)
        reconciled, configuration = schema_rules.reconcile(schema, configuration)
        async with self.store.transaction() as db:
            if get_or_create:
                found = await catalog.find_collection(db, name, tenant, database)
                if found is not None:
                    return found
            return await catalog.create_collection(
                db, name, tenant, database, metadata, configuration, reconciled
            )

    async def get_collection(self, name: str, tenant: str, database: str) -> CollectionModel:
        return await catalog.get_collection(self.store.db, name, tenant, database)

    async def get_collection_by_id(
        self, collection_id: UUID, tenant: str, database: str
    ) -> CollectionModel:
        found = await catalog.collection_by_id(self.store.db, collection_id)
        if (found.tenant, found.database) != (tenant, database):
            raise NotFoundError(f"Collection [{collection_id}] does not exist")
        return found

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
            stored = await catalog.modify_collection(
                db,
                collection.id,
                new_name,
                new_metadata,
                new_configuration,
                collection.configuration,
            )
        if new_configuration is not None:
            ef_search = (stored.get("hnsw") or {}).get("ef_search")
            if ef_search is not None:
                self.indexes.set_ef_search(str(collection.id), int(ef_search))

    async def delete_collection(self, name: str, tenant: str, database: str) -> None:
        async with self.store.transaction() as db:
            gone = await catalog.delete_collection(db, name, tenant, database)
        self.indexes.drop([str(gone)])

    async def fork_collection(self, collection: CollectionModel, new_name: str) -> CollectionModel:
        async with self.store.transaction() as db:
            source = await catalog.collection_by_id(db, collection.id)
            fork = await catalog.create_collection(
                db,
                new_name,
                source.tenant,
                source.database,
                source.metadata,
                source.configuration,
                source.schema or schema_rules.reconcile(None, source.configuration)[0],
            )
            await records.copy(db, str(source.id), str(fork.id))
            await catalog.join_lineage(db, str(fork.id), str(source.id))
        return await self.get_collection(new_name, source.tenant, source.database)

    async def fork_count(self, collection: CollectionModel) -> int:
        db = self.engine.store.db
        await records.collection_state(db, str(collection.id))  # NotFoundError once deleted
        return await catalog.fork_count(db, str(collection.id))

    # --- records ---

    async def add(self, collection: CollectionModel, batch: RecordBatch) -> None:
        await self._write(collection, batch, insert_new=True, change_existing=False)

    async def upsert(self, collection: CollectionModel, batch: RecordBatch) -> None:
        await self._write(collection, batch, insert_new=True, change_existing=True)

    async def update(self, collection: CollectionModel, batch: RecordBatch) -> None:
        await self._write(collection, batch, insert_new=False, change_existing=True)

    async def _write(
        self,
        collection: CollectionModel,
        batch: RecordBatch,
        insert_new: bool,
        change_existing: bool,
    ) -> None:
        """Insert new ids and/or change existing ones in one transaction, then bring the
        vector index up to date (under the same write lock, so batches reach it in order).
        The batch's metadata keys new to the collection's schema join it in the same
        transaction."""
        _check_batch_size(len(batch))
        cid = str(collection.id)
        async with self.store.write_lock:
            async with self.store.transaction(locked=True) as db:
                seq, dimension = await records.collection_state(db, cid)
                if batch.embeddings is not None:
                    dimension = check_dimension(dimension, batch.embeddings.shape[1])
                existing = await records.existing(db, cid, batch.ids)
                plan = await off_loop.for_batch(
                    len(batch), plan_write, batch, existing, insert_new, change_existing
                )
                schema = await catalog.collection_schema(db, cid)
                discovered = schema_rules.discover_keys(schema, _distinct_values(batch.metadatas))
                if discovered is not None:
                    schema = discovered
                    await catalog.set_schema(db, cid, schema)
                if plan.empty:
                    return
                seq += 1
                new_keys = keys_array([])
                if plan.inserts.ids:
                    new_keys = await records.insert(db, cid, seq, plan.inserts, schema)
                if plan.updates.keys:
                    await records.update(db, cid, seq, plan.updates, schema)
                await records.set_state(db, cid, seq, dimension)
            if dimension is None or (plan.vectors is None and len(new_keys) == 0):
                return
            keys = np.concatenate([new_keys, plan.vector_keys])
            vectors = plan.all_vectors(new_keys)
            change = IndexChange(seq, keys_array([]), keys, vectors)
            await self.indexes.apply(cid, collection.hnsw, dimension, change)

    async def delete(self, collection: CollectionModel, request: DeleteRequest) -> int:
        check_record_filter(_schema(collection), request.filter)
        cid = str(collection.id)
        async with self.store.write_lock:
            async with self.store.transaction(locked=True) as db:
                seq, dimension = await records.collection_state(db, cid)
                keys = await records.select_keys(db, cid, request.filter, request.limit)
                if not keys:
                    return _deleted_count(keys, request)
                seq += 1
                await records.delete(db, cid, seq, keys)
                await records.set_state(db, cid, seq, dimension)
            if dimension is not None:
                change = IndexChange.removal(seq, keys_array(keys), dimension)
                await self.indexes.apply(cid, collection.hnsw, dimension, change)
        return _deleted_count(keys, request)

    async def count(self, collection: CollectionModel) -> int:
        return await self.store.run_inline(reads.count, str(collection.id))

    async def get(self, collection: CollectionModel, request: GetRequest) -> GetResult:
        check_record_filter(_schema(collection), request.filter)
        outcome = await execute(self.engine, collection, planner.plan_get(request))
        return results.get_result(outcome.rows, list(request.include), outcome.dimension)

    async def query(self, collection: CollectionModel, request: QueryRequest) -> QueryResult:
        check_record_filter(_schema(collection), request.filter)
        outcome = await execute(self.engine, collection, planner.plan_query(request))
        assert outcome.hits is not None
        return results.query_result(
            outcome.hits, outcome.rows_by_key, list(request.include), outcome.dimension
        )

    async def indexing_status(self, collection: CollectionModel) -> IndexingStatus:
        cid = str(collection.id)
        seq, _ = await records.collection_state(self.engine.store.db, cid)
        indexed = min(seq, self.engine.indexes.indexed_seq(cid))
        return IndexingStatus(
            num_indexed_ops=indexed,
            num_unindexed_ops=seq - indexed,
            total_ops=seq,
            op_indexing_progress=indexed / seq if seq else 1.0,
        )

    async def search(self, collection: CollectionModel, request: SearchRequest) -> dict[str, Any]:
        schema = _schema(collection)
        check_search(schema, request)
        outcomes = await search.search(
            self.engine, collection, request, bm25_keys=bm25_keys(schema)
        )
        return search_results.search_result(outcomes)


def _schema(collection: CollectionModel) -> dict[str, Any]:
    """The schema a read is checked against: the handle's. One made before keys were
    discovered answers the same, since a discovered key's entry copies the defaults."""
    if collection.schema is not None:
        return collection.schema
    return schema_rules.reconcile(None, collection.configuration)[0]


_SCALARS = (str, int, float, bool)


def _distinct_values(metadatas: list[dict[str, Any] | None] | None) -> list[dict[str, Any]]:
    """The metadata values that can tell `discover_keys` something, in batch order: the first
    scalar of each (key, type) and every other value, each as a one-key dict."""
    seen: set[tuple[str, type]] = set()
    out: list[dict[str, Any]] = []
    for metadata in metadatas or ():
        for key, value in (metadata or {}).items():
            kind = type(value)
            if kind in _SCALARS:
                if (key, kind) in seen:
                    continue
                seen.add((key, kind))
            out.append({key: value})
    return out


def _deleted_count(keys: list[int], request: DeleteRequest) -> int:
    """Chroma reports the number of ids asked for when deleting by ids alone."""
    return len(keys) if request.filter.has_predicate else len(request.filter.ids or [])


def _check_batch_size(size: int) -> None:
    if size > MAX_BATCH_SIZE:
        raise InternalError(
            f"ValueError: Batch size of {size} is greater than max batch size of {MAX_BATCH_SIZE}"
        )
