"""SQL for tenants, databases and collections (the catalog), over one aiosqlite connection."""

from __future__ import annotations

import copy
import json
import sqlite3
import uuid
from typing import Any
from uuid import UUID

import aiosqlite

from achroma.core import schema_rules
from achroma.core.models import CollectionModel, Database, Tenant
from achroma.errors import (
    AlreadyExistsError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
)

DEFAULT_DATABASE_ID = "00000000-0000-0000-0000-000000000000"
# chromadb lets SQLite's message through when a rename takes a used name.
RENAME_CONFLICT = (
    "Database error: error returned from database: (code: 2067) UNIQUE constraint failed: "
    "collections.name, collections.database_id"
)
_COLLECTION_COLUMNS = (
    "c.id, c.name, c.metadata, c.configuration, c.dimension, c.version, d.tenant, d.name, c.schema"
)


def _stored_schema(text: str | None, configuration: dict[str, Any]) -> dict[str, Any]:
    # Collections made before schemas were stored have the one their configuration implies.
    if text is None:
        return schema_rules.reconcile(None, configuration)[0]
    schema: dict[str, Any] = json.loads(text)
    return schema


def _collection(row: sqlite3.Row | tuple[Any, ...]) -> CollectionModel:
    cid, name, metadata, configuration, dimension, version, tenant, database, schema = row
    stored = json.loads(configuration)
    return CollectionModel(
        id=UUID(cid),
        name=name,
        metadata=json.loads(metadata) if metadata is not None else None,
        configuration=stored,
        dimension=dimension,
        version=version,
        tenant=tenant,
        database=database,
        schema=_stored_schema(schema, stored),
    )


def _page(limit: int | None, offset: int | None) -> tuple[str, tuple[int, int]]:
    return " LIMIT ? OFFSET ?", (-1 if limit is None else limit, offset or 0)


async def _one(db: aiosqlite.Connection, sql: str, params: tuple[Any, ...]) -> Any:
    async with db.execute(sql, params) as cur:
        return await cur.fetchone()


async def _all(db: aiosqlite.Connection, sql: str, params: tuple[Any, ...]) -> list[Any]:
    async with db.execute(sql, params) as cur:
        return list(await cur.fetchall())


async def create_defaults(db: aiosqlite.Connection) -> None:
    """The default tenant and database, which always exist."""
    await db.execute("INSERT INTO tenants (name) VALUES ('default_tenant')")
    await db.execute(
        "INSERT INTO databases (id, name, tenant) VALUES (?, 'default_database', 'default_tenant')",
        (DEFAULT_DATABASE_ID,),
    )


# --- tenants ---


async def create_tenant(db: aiosqlite.Connection, name: str) -> None:
    try:
        await db.execute("INSERT INTO tenants (name) VALUES (?)", (name,))
    except sqlite3.IntegrityError:
        raise AlreadyExistsError(f"Tenant [{name}] already exists") from None


async def get_tenant(db: aiosqlite.Connection, name: str) -> Tenant:
    if await _one(db, "SELECT 1 FROM tenants WHERE name = ?", (name,)) is None:
        raise NotFoundError(f"Tenant [{name}] not found")
    return Tenant(name=name)


async def list_tenants(
    db: aiosqlite.Connection, limit: int | None, offset: int | None
) -> list[Tenant]:
    page, params = _page(limit, offset)
    rows = await _all(db, "SELECT name FROM tenants ORDER BY rowid" + page, params)
    return [Tenant(name=r[0]) for r in rows]


# --- databases ---


async def create_database(db: aiosqlite.Connection, name: str, tenant: str) -> None:
    await get_tenant(db, tenant)
    try:
        await db.execute(
            "INSERT INTO databases (id, name, tenant) VALUES (?, ?, ?)",
            (str(uuid.uuid4()), name, tenant),
        )
    except sqlite3.IntegrityError:
        raise AlreadyExistsError(f"Database [{name}] already exists") from None


async def _database_id(db: aiosqlite.Connection, tenant: str, database: str) -> str | None:
    row = await _one(
        db, "SELECT id FROM databases WHERE tenant = ? AND name = ?", (tenant, database)
    )
    return str(row[0]) if row is not None else None


async def get_database(db: aiosqlite.Connection, name: str, tenant: str) -> Database:
    database_id = await _database_id(db, tenant, name)
    if database_id is None:
        raise NotFoundError(f"Database [{name}] not found. Are you sure it exists?")
    return Database(id=UUID(database_id), name=name, tenant=tenant)


async def list_databases(
    db: aiosqlite.Connection, tenant: str, limit: int | None, offset: int | None
) -> list[Database]:
    page, params = _page(limit, offset)
    rows = await _all(
        db,
        "SELECT id, name FROM databases WHERE tenant = ? ORDER BY name" + page,
        (tenant, *params),
    )
    return [Database(id=UUID(r[0]), name=r[1], tenant=tenant) for r in rows]


async def delete_database(db: aiosqlite.Connection, name: str, tenant: str) -> list[UUID]:
    """Delete a database and its collections; return the ids of the collections removed."""
    database_id = await _database_id(db, tenant, name)
    if database_id is None:
        raise NotFoundError(f"Database [{name}] not found")
    rows = await _all(db, "SELECT id FROM collections WHERE database_id = ?", (database_id,))
    await db.execute("DELETE FROM databases WHERE id = ?", (database_id,))
    return [UUID(r[0]) for r in rows]


# --- collections ---


async def create_collection(
    db: aiosqlite.Connection,
    name: str,
    tenant: str,
    database: str,
    metadata: dict[str, Any] | None,
    configuration: dict[str, Any],
    schema: dict[str, Any],
) -> CollectionModel:
    """A new collection with this (reconciled) configuration and schema."""
    database_id = await _database_id(db, tenant, database)
    if database_id is None:
        raise InvalidArgumentError(f"Database [{database}] does not exist")
    cid = uuid.uuid4()
    try:
        await db.execute(
            "INSERT INTO collections"
            " (id, name, database_id, metadata, configuration, schema, fts)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                str(cid),
                name,
                database_id,
                json.dumps(metadata) if metadata is not None else None,
                json.dumps(configuration),
                json.dumps(schema),
                int(schema_rules.fts_enabled(schema)),
            ),
        )
    except sqlite3.IntegrityError:
        raise AlreadyExistsError(f"Collection [{name}] already exists") from None
    return CollectionModel(
        id=cid,
        name=name,
        metadata=metadata,
        configuration=configuration,
        tenant=tenant,
        database=database,
        schema=schema,
    )


async def collection_schema(db: aiosqlite.Connection, cid: str) -> dict[str, Any]:
    """The collection's stored schema (`NotFoundError` if it was deleted)."""
    row = await _one(db, "SELECT schema, configuration FROM collections WHERE id = ?", (cid,))
    if row is None:
        raise NotFoundError(f"Collection [{cid}] does not exist")
    return _stored_schema(row[0], json.loads(row[1]))


async def set_schema(db: aiosqlite.Connection, cid: str, schema: dict[str, Any]) -> None:
    await db.execute("UPDATE collections SET schema = ? WHERE id = ?", (json.dumps(schema), cid))


async def find_collection(
    db: aiosqlite.Connection, name: str, tenant: str, database: str
) -> CollectionModel | None:
    database_id = await _database_id(db, tenant, database)
    if database_id is None:
        return None
    row = await _one(
        db,
        f"SELECT {_COLLECTION_COLUMNS} FROM collections c JOIN databases d"
        " ON d.id = c.database_id WHERE c.database_id = ? AND c.name = ?",
        (database_id, name),
    )
    return _collection(row) if row is not None else None


async def get_collection(
    db: aiosqlite.Connection, name: str, tenant: str, database: str
) -> CollectionModel:
    found = await find_collection(db, name, tenant, database)
    if found is None:
        raise NotFoundError(f"Collection [{name}] does not exist")
    return found


async def collection_by_id(db: aiosqlite.Connection, cid: UUID) -> CollectionModel:
    row = await _one(
        db,
        f"SELECT {_COLLECTION_COLUMNS} FROM collections c JOIN databases d"
        " ON d.id = c.database_id WHERE c.id = ?",
        (str(cid),),
    )
    if row is None:
        raise NotFoundError(f"Collection [{cid}] does not exist")
    return _collection(row)


async def list_collections(
    db: aiosqlite.Connection, tenant: str, database: str, limit: int | None, offset: int | None
) -> list[CollectionModel]:
    database_id = await _database_id(db, tenant, database)
    if database_id is None:
        return []
    page, params = _page(limit, offset)
    rows = await _all(
        db,
        f"SELECT {_COLLECTION_COLUMNS} FROM collections c JOIN databases d"
        " ON d.id = c.database_id WHERE c.database_id = ? ORDER BY c.rowid" + page,
        (database_id, *params),
    )
    return [_collection(r) for r in rows]


async def count_collections(db: aiosqlite.Connection, tenant: str, database: str) -> int:
    database_id = await _database_id(db, tenant, database)
    if database_id is None:
        return 0
    row = await _one(db, "SELECT count(*) FROM collections WHERE database_id = ?", (database_id,))
    return int(row[0])


def _changed_configuration(
    stored: dict[str, Any], base: dict[str, Any], new: dict[str, Any]
) -> dict[str, Any]:
    """`stored` with what `new` changes relative to `base`, the (possibly stale) copy it was
    made from, so that a stale handle does not undo another handle's changes."""
    result = copy.deepcopy(stored)
    base_hnsw, hnsw = base.get("hnsw") or {}, result.setdefault("hnsw", {})
    for key, value in (new.get("hnsw") or {}).items():
        if base_hnsw.get(key) != value:
            hnsw[key] = value
    if new.get("embedding_function") != base.get("embedding_function"):
        result["embedding_function"] = new.get("embedding_function")
    return result


async def modify_collection(
    db: aiosqlite.Connection,
    cid: UUID,
    new_name: str | None,
    new_metadata: dict[str, Any] | None,
    new_configuration: dict[str, Any] | None,
    base_configuration: dict[str, Any],
) -> dict[str, Any]:
    """Rename, replace the metadata (its None values dropped; none left: no metadata) and
    apply a configuration made from `base_configuration`; return the stored configuration."""
    current = await collection_by_id(db, cid)
    metadata = current.metadata
    if new_metadata is not None:
        metadata = {k: v for k, v in new_metadata.items() if v is not None} or None
    configuration = current.configuration
    if new_configuration is not None:
        configuration = _changed_configuration(
            current.configuration, base_configuration, new_configuration
        )
    try:
        await db.execute(
            "UPDATE collections SET name = ?, metadata = ?, configuration = ?,"
            " version = version + 1 WHERE id = ?",
            (
                new_name if new_name is not None else current.name,
                json.dumps(metadata) if metadata is not None else None,
                json.dumps(configuration),
                str(cid),
            ),
        )
    except sqlite3.IntegrityError:
        raise InternalError(RENAME_CONFLICT) from None
    if new_configuration is not None:
        schema = await collection_schema(db, str(cid))
        update = {**new_configuration}
        if "embedding_function" in new_configuration:
            update["embedding_function"] = configuration.get("embedding_function")
        await set_schema(db, str(cid), schema_rules.apply_configuration_update(schema, update))
    return configuration


async def delete_collection(
    db: aiosqlite.Connection, name: str, tenant: str, database: str
) -> UUID:
    found = await get_collection(db, name, tenant, database)
    await db.execute("DELETE FROM collections WHERE id = ?", (str(found.id),))
    return found.id


async def join_lineage(db: aiosqlite.Connection, fork_id: str, source_id: str) -> None:
    """Make `fork_id` a fork in the line of `source_id`."""
    await db.execute(
        "UPDATE collections SET lineage = "
        "(SELECT coalesce(lineage, id) FROM collections WHERE id = ?) WHERE id = ?",
        (source_id, fork_id),
    )


async def fork_count(db: aiosqlite.Connection, cid: str) -> int:
    """How many other live collections share `cid`'s fork line (its first collection and
    every fork made from any of them)."""
    row = await _one(
        db,
        "SELECT count(*) FROM collections WHERE id != ?1 AND coalesce(lineage, id) = "
        "(SELECT coalesce(lineage, id) FROM collections WHERE id = ?1)",
        (cid,),
    )
    return int(row[0])
