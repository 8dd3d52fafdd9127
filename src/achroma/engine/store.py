"""An open SQLite store, and the registry that shares one store between clients.

Clients opened on the same path (or the ephemeral store) from the same event loop share one
`Store`, as Chroma shares one system per path. The store closes when its last client closes,
or at interpreter exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import anyio

from achroma.engine.filters import regexp
from achroma.engine.schema import migrate

DB_FILE = "achroma.sqlite3"


class Store:
    """One aiosqlite connection with a write lock; all SQL of one engine goes through it."""

    def __init__(self, db: aiosqlite.Connection, path: Path | None) -> None:
        self.db = db
        self.path = path
        self.write_lock = anyio.Lock()
        self.refcount = 0
        self.closed = False
        self.close_hooks: list[Any] = []
        # The engine's vector indexes (`achroma.engine.indexes.Indexes`), set by the backend.
        self.indexes: Any = None

    @classmethod
    async def open(cls, path: Path | None) -> Store:
        if path is None:
            db = await aiosqlite.connect(":memory:", isolation_level=None)
        else:
            path.mkdir(parents=True, exist_ok=True)
            db = await aiosqlite.connect(path / DB_FILE, isolation_level=None)
            await db.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode: a committed transaction survives a process crash (kill -9);
            # only an OS crash or power loss can drop the last commits.
            await db.execute("PRAGMA synchronous = NORMAL")
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute("PRAGMA busy_timeout = 10000")
        await db.create_function("regexp", 2, regexp, deterministic=True)
        await migrate(db)
        return cls(db, path)

    @contextlib.asynccontextmanager
    async def transaction(self, locked: bool = False) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: serialised in this process, committed or rolled back whole.

        `locked=True` when the caller already holds `write_lock` (to keep it past the commit).
        """
        async with contextlib.AsyncExitStack() as stack:
            if not locked:
                await stack.enter_async_context(self.write_lock)
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                with anyio.CancelScope(shield=True):
                    await self.db.execute("ROLLBACK")
                raise
            else:
                with anyio.CancelScope(shield=True):
                    await self.db.execute("COMMIT")

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for hook in self.close_hooks:
            await hook()
        await self.db.close()


_lock = threading.Lock()
_stores: dict[tuple[str, int], Store] = {}
_opening: dict[tuple[str, int], asyncio.Future[Store]] = {}


def _key(path: Path | None) -> tuple[str, int]:
    where = str(path.resolve()) if path is not None else ":memory:"
    return where, id(asyncio.get_running_loop())


async def acquire(path: str | os.PathLike[str] | None) -> Store:
    """Open (or share) the store for `path`; None is the process's ephemeral store."""
    resolved = Path(path) if path is not None else None
    key = _key(resolved)
    while True:
        with _lock:
            store = _stores.get(key)
            if store is not None and not store.closed:
                store.refcount += 1
                return store
            pending = _opening.get(key)
            if pending is None:
                future: asyncio.Future[Store] = asyncio.get_running_loop().create_future()
                _opening[key] = future
                break
        await asyncio.shield(pending)
    try:
        store = await Store.open(resolved)
    except BaseException as exc:
        with _lock:
            del _opening[key]
        future.set_exception(exc)
        future.exception()  # mark retrieved; the waiters retry and see their own error
        raise
    with _lock:
        del _opening[key]
        store.refcount = 1
        _stores[key] = store
    future.set_result(store)
    return store


async def release(store: Store) -> None:
    """Drop one reference; close the store when nobody holds it."""
    with _lock:
        store.refcount -= 1
        last = store.refcount <= 0
        if last:
            for key, value in list(_stores.items()):
                if value is store:
                    del _stores[key]
    if last:
        await store.close()


async def close_all_on_this_loop() -> None:
    """Close every store opened from the running loop (used at interpreter exit)."""
    loop_id = id(asyncio.get_running_loop())
    with _lock:
        mine = [s for k, s in _stores.items() if k[1] == loop_id]
        for key in [k for k in _stores if k[1] == loop_id]:
            del _stores[key]
    for store in mine:
        with contextlib.suppress(Exception):
            await store.close()


def stop_all_other_threads() -> None:
    """Stop the SQLite threads of stores left open on loops that are gone.

    Their event loops cannot run a clean close any more; stopping the connection thread lets
    the interpreter exit. Nothing is lost: every acknowledged write is already committed.
    """
    with _lock:
        left = list(_stores.values())
        _stores.clear()
    for store in left:
        store.closed = True
        with contextlib.suppress(Exception):
            store.db.stop()


# Runs before the interpreter joins non-daemon threads (aiosqlite's), so exit never hangs on
# a store somebody forgot to close.
threading._register_atexit(stop_all_other_threads)  # type: ignore[attr-defined]
