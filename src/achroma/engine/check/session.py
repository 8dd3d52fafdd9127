"""The store as a check sees it: SQLite opened read-only and read in snapshots, the check's
settings (sample size, progress), and the collections."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from achroma.core.defaults import DEFAULT_DATABASE, DEFAULT_TENANT
from achroma.engine.check.findings import NotAStore
from achroma.engine.indexes import INDEX_DIR
from achroma.engine.store import BUSY_TIMEOUT_MS, DB_FILE
from achroma.progress import Progress


@dataclass
class Collection:
    id: str
    label: str  # its name (tenant/database/name outside the defaults)
    dimension: int | None
    hnsw: dict[str, Any]


class Session:
    """One check (or repair) of the store at `path`."""

    def __init__(
        self, path: Path, db: aiosqlite.Connection, sample: int, progress: Progress
    ) -> None:
        self.path = path
        self.db = db
        self.sample = sample  # records self-queried per collection
        self.progress = progress
        self.index_dir = path / INDEX_DIR

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(await self.db.execute_fetchall(sql, params))

    @contextlib.asynccontextmanager
    async def snapshot(self) -> AsyncIterator[None]:
        """One read transaction: every read inside sees the same committed state."""
        await self.db.execute("BEGIN")
        try:
            yield
        finally:
            with contextlib.suppress(sqlite3.Error, ValueError):
                await self.db.execute("COMMIT")

    async def collections(self) -> list[Collection]:
        rows = await self.all(
            "SELECT c.id, c.name, d.tenant, d.name, c.dimension, c.configuration "
            "FROM collections c LEFT JOIN databases d ON d.id = c.database_id "
            "ORDER BY d.tenant, d.name, c.name"
        )
        out = []
        for cid, name, tenant, database, dimension, configuration in rows:
            label = name
            if (tenant, database) != (DEFAULT_TENANT, DEFAULT_DATABASE):
                label = f"{tenant}/{database}/{name}"
            try:
                hnsw = dict(json.loads(configuration).get("hnsw") or {})
            except (TypeError, ValueError, AttributeError):
                hnsw = {}
            out.append(Collection(cid, label, dimension, hnsw))
        return out

    async def sample_keys(self, collection_id: str, count: int) -> list[int]:
        """Keys of up to `sample` records picked at random (all of them, in key order, when
        there are no more)."""
        if self.sample <= 0 or count == 0:
            return []
        if count <= self.sample:
            rows = await self.all(
                "SELECT key FROM records WHERE collection_id = ? ORDER BY key", (collection_id,)
            )
        else:
            rows = await self.all(
                "SELECT key FROM records WHERE collection_id = ? ORDER BY random() LIMIT ?",
                (collection_id, self.sample),
            )
        return sorted(int(r[0]) for r in rows)


@contextlib.asynccontextmanager
async def opened(path: Path, sample: int, progress: Progress) -> AsyncIterator[Session]:
    """The store at `path`, its SQLite opened read-only. Raises `NotAStore`."""
    if not path.exists():
        raise NotAStore(f"{path} does not exist")
    if not path.is_dir():
        raise NotAStore(f"{path} is not a directory")
    db_file = path / DB_FILE
    if not db_file.is_file():
        raise NotAStore(f"{path} is not an achroma store (there is no {DB_FILE} in it)")
    # Read-only: a check never writes to SQLite, and never takes its write lock.
    uri = f"{db_file.resolve().as_uri()}?mode=ro"
    try:
        db = await aiosqlite.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise NotAStore(f"cannot open {db_file}: {exc}") from exc
    try:
        await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        yield Session(path, db, sample, progress)
    finally:
        progress.done()
        with contextlib.suppress(Exception):
            await db.close()
