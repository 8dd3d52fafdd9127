"""SQL for tenants, databases and collections (the catalog), over one aiosqlite connection."""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any
from uuid import UUID

import aiosqlite

from achroma.api.models import CollectionModel, Database, Tenant
from achroma.errors import InternalError, NotFoundError, UniqueConstraintError

DEFAULT_DATABASE_ID = "00000000-0000-0000-0000-000000000000"
_COLLECTION_COLUMNS = (
    "c.id, c.name, c.metadata, c.configuration, c.dimension, c.version, d.tenant, d.name"
)


def _collection(row: sqlite3.Row | tuple[Any, ...]) -> CollectionModel:
    cid, name, metadata, configuration, dimension, version, tenant, database = row
    return CollectionModel(
        id=UUID(cid),
        name=name,
        metadata=json.loads(metadata) if metadata is not None else None,
        configuration=json.loads(configuration),
        dimension=dimension,
        version=version,
        tenant=tenant,
        database=database,
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
        raise UniqueConstraintError(f"Tenant {name} already exists") from None


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
        raise UniqueConstraintError(f"Database {name} already exists for tenant {tenant}") from None


async def get_database(db: aiosqlite.Connection, name: str, tenant: str) -> Database:
    row = await _one(db, "SELECT id FROM databases WHERE tenant = ? AND name = ?", (tenant, name))
    if row is None:
        raise NotFoundError(f"Database [{name}] not found")
    return Database(id=UUID(row[0]), name=name, tenant=tenant)


async def list_databases(
    db: aiosqlite.Connection, tenant: str, limit: int | None, offset: int | None
) -> list[Database]:
    await get_tenant(db, tenant)
    page, params = _page(limit, offset)
    rows = await _all(
        db,
        "SELECT id, name FROM databases WHERE tenant = ? ORDER BY rowid" + page,
        (tenant, *params),
    )
    return [Database(id=UUID(r[0]), name=r[1], tenant=tenant) for r in rows]


async def delete_database(db: aiosqlite.Connection, name: str, tenant: str) -> list[UUID]:
    """Delete a database and its collections; return the ids of the collections removed."""
    database = await get_database(db, name, tenant)
    rows = await _all(
        db, "SELECT id FROM collections WHERE database_id = ?", (str(database["id"]),)
    )
    await db.execute("DELETE FROM databases WHERE id = ?", (str(database["id"]),))
    return [UUID(r[0]) for r in rows]


async def _database_id(db: aiosqlite.Connection, tenant: str, database: str) -> str:
    row = await _one(
        db, "SELECT id FROM databases WHERE tenant = ? AND name = ?", (tenant, database)
    )
    if row is None:
        if await _one(db, "SELECT 1 FROM tenants WHERE name = ?", (tenant,)) is None:
            raise NotFoundError(f"Tenant [{tenant}] not found")
        raise NotFoundError(f"Database [{database}] not found")
    return str(row[0])


# --- collections ---


async def create_collection(
    db: aiosqlite.Connection,
    name: str,
    tenant: str,
    database: str,
    metadata: dict[str, Any] | None,
    configuration: dict[str, Any],
) -> CollectionModel:
    database_id = await _database_id(db, tenant, database)
    cid = uuid.uuid4()
    try:
        await db.execute(
            "INSERT INTO collections (id, name, database_id, metadata, configuration)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                str(cid),
                name,
                database_id,
                json.dumps(metadata) if metadata is not None else None,
                json.dumps(configuration),
            ),
        )
    except sqlite3.IntegrityError:
        raise InternalError(f"Collection [{name}] already exists") from None
    return CollectionModel(
        id=cid,
        name=name,
        metadata=metadata,
        configuration=configuration,
        tenant=tenant,
        database=database,
    )


async def find_collection(
    db: aiosqlite.Connection, name: str, tenant: str, database: str
) -> CollectionModel | None:
    database_id = await _database_id(db, tenant, database)
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
    row = await _one(db, "SELECT count(*) FROM collections WHERE database_id = ?", (database_id,))
    return int(row[0])


async def modify_collection(
    db: aiosqlite.Connection,
    cid: UUID,
    new_name: str | None,
    new_metadata: dict[str, Any] | None,
    new_configuration: dict[str, Any] | None,
) -> None:
    current = await collection_by_id(db, cid)
    try:
        await db.execute(
            "UPDATE collections SET name = ?, metadata = ?, configuration = ?,"
            " version = version + 1 WHERE id = ?",
            (
                new_name if new_name is not None else current.name,
                json.dumps(new_metadata if new_metadata is not None else current.metadata)
                if (new_metadata is not None or current.metadata is not None)
                else None,
                json.dumps(
                    new_configuration if new_configuration is not None else current.configuration
                ),
                str(cid),
            ),
        )
    except sqlite3.IntegrityError:
        raise UniqueConstraintError(f"Collection [{new_name}] already exists") from None


async def delete_collection(
    db: aiosqlite.Connection, name: str, tenant: str, database: str
) -> UUID:
    found = await get_collection(db, name, tenant, database)
    await db.execute("DELETE FROM collections WHERE id = ?", (str(found.id),))
    return found.id
