"""The SQLite schema, versioned through `PRAGMA user_version` with forward-only migrations."""

from __future__ import annotations

import aiosqlite

# MIGRATIONS[i] takes a database from user_version i to i + 1. Never edit a released step:
# append a new one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE tenants (
        name TEXT PRIMARY KEY
    );
    CREATE TABLE databases (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        tenant TEXT NOT NULL REFERENCES tenants(name) ON DELETE CASCADE,
        UNIQUE (tenant, name)
    );
    CREATE TABLE collections (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        database_id TEXT NOT NULL REFERENCES databases(id) ON DELETE CASCADE,
        metadata TEXT,
        configuration TEXT NOT NULL,
        dimension INTEGER,
        version INTEGER NOT NULL DEFAULT 0,
        UNIQUE (database_id, name)
    );
    INSERT INTO tenants (name) VALUES ('default_tenant');
    INSERT INTO databases (id, name, tenant)
        VALUES ('00000000-0000-0000-0000-000000000000', 'default_database', 'default_tenant');
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


async def migrate(db: aiosqlite.Connection) -> None:
    """Bring the database to SCHEMA_VERSION, one transaction per step."""
    async with db.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    version = int(row[0]) if row else 0
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"this store has schema version {version}, newer than this achroma "
            f"({SCHEMA_VERSION}); upgrade achroma to open it"
        )
    for step in range(version, SCHEMA_VERSION):
        # executescript commits first; BEGIN makes the step and the version bump atomic.
        await db.executescript(
            f"BEGIN IMMEDIATE;\n{MIGRATIONS[step]}\nPRAGMA user_version = {step + 1};\nCOMMIT;"
        )
