"""`Engine`: one store and its vector indexes, shared by every local client of one path.

Clients of the same path on the same event loop share one engine (one SQLite connection,
one set of open indexes); it closes when its last client closes. Other processes, and other
event loops of this process, open engines of their own: the store's locking keeps them safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from pathlib import Path

from achroma.engine.indexes import Indexes
from achroma.engine.store import Store


class Engine:
    """The store (records, catalog, write log) and the vector indexes kept from it."""

    def __init__(self, store: Store, indexes: Indexes) -> None:
        self.store = store
        self.indexes = indexes
        self.refcount = 0

    @property
    def closed(self) -> bool:
        return self.store.closed

    @classmethod
    async def open(cls, path: Path | None) -> Engine:
        """Open the store at `path` (None: in memory) and forget index files of deleted
        collections."""
        store = await Store.open(path)
        try:
            indexes = Indexes(store)
            await indexes.remove_orphans()
        except BaseException:
            await store.close()
            raise
        return cls(store, indexes)

    async def close(self) -> None:
        """Finish index updates and save the indexes, then close the store."""
        if self.store.closed:
            return
        try:
            await self.indexes.close()
        finally:
            await self.store.close()


_lock = threading.Lock()
_engines: dict[tuple[str, int], Engine] = {}
_opening: dict[tuple[str, int], asyncio.Future[Engine]] = {}


def _key(path: Path | None) -> tuple[str, int]:
    where = str(path.resolve()) if path is not None else ":memory:"
    return where, id(asyncio.get_running_loop())


async def acquire(path: str | os.PathLike[str] | None) -> Engine:
    """Open (or share) the engine for `path`; None is the process's ephemeral store."""
    resolved = Path(path) if path is not None else None
    key = _key(resolved)
    while True:
        with _lock:
            engine = _engines.get(key)
            if engine is not None and not engine.closed:
                engine.refcount += 1
                return engine
            pending = _opening.get(key)
            if pending is None:
                future: asyncio.Future[Engine] = asyncio.get_running_loop().create_future()
                _opening[key] = future
                break
        await asyncio.shield(pending)
    try:
        engine = await Engine.open(resolved)
    except BaseException as exc:
        with _lock:
            del _opening[key]
        future.set_exception(exc)
        future.exception()  # mark retrieved; the waiters retry and see their own error
        raise
    with _lock:
        del _opening[key]
        engine.refcount = 1
        _engines[key] = engine
    future.set_result(engine)
    return engine


async def release(engine: Engine) -> None:
    """Drop one reference; close the engine when nobody holds it."""
    with _lock:
        engine.refcount -= 1
        last = engine.refcount <= 0
        if last:
            for key, value in list(_engines.items()):
                if value is engine:
                    del _engines[key]
    if last:
        await engine.close()


def open_engines() -> list[Engine]:
    """The engines open in this process (for tests and diagnostics)."""
    with _lock:
        return list(_engines.values())


async def close_all_on_this_loop() -> None:
    """Close every engine opened from the running loop (used at interpreter exit)."""
    loop_id = id(asyncio.get_running_loop())
    with _lock:
        mine = [e for k, e in _engines.items() if k[1] == loop_id]
        for key in [k for k in _engines if k[1] == loop_id]:
            del _engines[key]
    for engine in mine:
        with contextlib.suppress(Exception):
            await engine.close()


def stop_all_other_threads() -> None:
    """Stop the SQLite threads of engines left open on loops that are gone.

    Their event loops cannot run a clean close any more; stopping the connection thread lets
    the interpreter exit. Nothing is lost: every acknowledged write is already committed.
    """
    with _lock:
        left = list(_engines.values())
        _engines.clear()
    for engine in left:
        engine.store.stop()


# Runs before the interpreter joins non-daemon threads (aiosqlite's), so exit never hangs on
# a store somebody forgot to close.
threading._register_atexit(stop_all_other_threads)  # type: ignore[attr-defined]
