"""`Indexes`: the open vector indexes of one store, kept caught up with SQLite.

SQLite is the source of truth. An index is opened on first use (mapped from its file, caught
up by seq, checked against the record count, rebuilt when anything is off), updated after
each write commits, and saved when the store closes. A crash at any point loses no
acknowledged write: the next open replays every change newer than the saved index.

Index updates are pipelined: a write returns once it has committed and the previous write's
index update has finished; its own update runs in the background while the next write
commits. Queries wait for (`settle`) the pending update before they search, and search only
an index caught up to the seq they read from SQLite, so they always see every acknowledged
write.

When removed and replaced vectors pile up in a graph (`VectorIndex.compact_due`), a fresh
graph is built in the background from a snapshot, then swapped in and caught up from SQLite:
readers and writers go on meanwhile, and nothing written in between is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass
from typing import Any

import anyio
import numpy as np

from achroma.engine import records
from achroma.engine.graph_file import VectorSource
from achroma.engine.index import Keys, VectorIndex, Vectors
from achroma.engine.index_files import IndexFiles
from achroma.engine.store import Store

logger = logging.getLogger("achroma")

INDEX_DIR = "indexes"
# Rebuilds read vectors from SQLite in slices of this many rows.
REBUILD_SLICE = 20_000


@dataclass(frozen=True)
class IndexChange:
    """One committed write (numbered `seq`) as the index sees it: keys whose vectors go,
    then keys whose vectors are set (new records and changed vectors)."""

    seq: int
    removed: Keys
    keys: Keys
    vectors: Vectors

    @classmethod
    def removal(cls, seq: int, keys: Keys, dimension: int) -> IndexChange:
        return cls(seq, keys, keys_array([]), np.empty((0, dimension), dtype=np.float32))


class Indexes:
    """Vector indexes by collection id, for one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._open: dict[str, VectorIndex] = {}
        self._opening = anyio.Lock()
        self._pending: dict[str, asyncio.Task[None]] = {}
        self._compacting: dict[str, asyncio.Task[None]] = {}
        self._closing = False
        self._stop = threading.Event()  # tells compactions' worker threads to give up
        self.dir = store.path / INDEX_DIR if store.path is not None else None

    def _files(self, collection_id: str) -> IndexFiles | None:
        return IndexFiles(self.dir, collection_id) if self.dir is not None else None

    def _source(self, collection_id: str, dimension: int) -> VectorSource:
        """Where a saved graph's vectors come from: the collection's records in SQLite."""

        async def read(after_key: int, limit: int) -> tuple[Keys, Vectors]:
            db = self.store.db
            return await records.vector_slice(db, collection_id, after_key, limit, dimension)

        return read

    async def current(self, collection_id: str) -> VectorIndex | None:
        """The collection's open index once its pending update has landed (None when it is
        not open): every write acknowledged so far by this process is in it, another
        process's may not be (the reader compares `seq`s and catches up with `get`)."""
        await self.settle(collection_id)
        return self._open.get(collection_id)

    async def get(
        self, collection_id: str, hnsw: dict[str, Any], dimension: int, seq: int
    ) -> VectorIndex:
        """The collection's index, caught up at least to `seq`."""
        index = self._open.get(collection_id)
        if index is None:
            async with self._opening:
                index = self._open.get(collection_id)
                if index is None:
                    index = VectorIndex(dimension, hnsw, self._files(collection_id))
                    async with index.lock.write():
                        if await index.load(self._source(collection_id, dimension)):
                            await self._catch_up(index, collection_id, verify=True)
                            if index.stale_left():
                                seq, _ = await records.collection_state(
                                    self.store.db, collection_id
                                )
                                await self._rebuild(index, collection_id, seq)
                        else:
                            seq, _ = await records.collection_state(self.store.db, collection_id)
                            await self._rebuild(index, collection_id, seq)
                    self._open[collection_id] = index
        if index.seq < seq:
            async with index.lock.write():
                if index.seq < seq:
                    await self._catch_up(index, collection_id, verify=False)
        return index

    async def apply(
        self, collection_id: str, hnsw: dict[str, Any], dimension: int, change: IndexChange
    ) -> None:
        """Start bringing one committed write into the index.

        Call it in commit order (under the store's write lock): it first waits for the
        previous write's update, so updates apply in order and at most one is pending.
        """
        await self.settle(collection_id)
        task = asyncio.get_running_loop().create_task(
            self._apply(collection_id, hnsw, dimension, change)
        )
        self._pending[collection_id] = task
        task.add_done_callback(lambda t: self._finished(collection_id, t))

    def indexed_seq(self, collection_id: str) -> int:
        """The last write batch the collection's index holds: the open index's, else the
        saved one's (0 for none)."""
        index = self._open.get(collection_id)
        if index is not None:
            return index.seq
        files = self._files(collection_id)
        return files.saved_seq() if files is not None else 0

    async def settle(self, collection_id: str) -> None:
        """Wait for the collection's pending index update, if any."""
        task = self._pending.get(collection_id)
        if task is not None:
            await asyncio.wait({task})  # not cancelled when the waiter is

    def _finished(self, collection_id: str, task: asyncio.Task[None]) -> None:
        if self._pending.get(collection_id) is task:
            del self._pending[collection_id]
        if not task.cancelled() and task.exception() is not None:
            # The index is derived data: forget it, and the next use re-opens and catches up.
            logger.error("index update failed", exc_info=task.exception())
            self._open.pop(collection_id, None)

    async def _apply(
        self, collection_id: str, hnsw: dict[str, Any], dimension: int, change: IndexChange
    ) -> None:
        seq = change.seq
        index = self._open.get(collection_id)
        if index is None:
            await self.get(collection_id, hnsw, dimension, seq)  # opening catches up
            return
        async with index.lock.write():
            if index.seq == seq - 1:
                await index.remove(change.removed)
                await index.upsert(change.keys, change.vectors)
                index.seq = seq
            elif index.seq < seq:  # another process wrote in between: replay from SQLite
                await self._catch_up(index, collection_id, verify=False)
        if self._open.get(collection_id) is not index:
            return
        self._compact_if_due(collection_id, index)
        if index.save_due:
            # Searches may go on while the file is written (saving only reads the index).
            async with index.lock.read():
                await self._save(index)

    def _compact_if_due(self, collection_id: str, index: VectorIndex) -> None:
        if (
            index.compact_due
            and not self._closing
            and collection_id not in self._compacting
            and self._open.get(collection_id) is index
        ):
            task = asyncio.get_running_loop().create_task(self._compact(collection_id, index))
            self._compacting[collection_id] = task
            task.add_done_callback(lambda t: self._compacted(collection_id, index, t))

    async def _compact(self, collection_id: str, index: VectorIndex) -> None:
        async with index.lock.read():
            snapshot = await index.snapshot()
        built = await index.build(snapshot, self._stop)
        if built is None:
            return
        async with index.lock.write():
            if self._open.get(collection_id) is index and not self._closing:
                index.adopt(*built, snapshot.seq)
                await self._catch_up(index, collection_id, verify=False)

    def _compacted(self, collection_id: str, index: VectorIndex, task: asyncio.Task[None]) -> None:
        if self._compacting.get(collection_id) is task:
            del self._compacting[collection_id]
        if not task.cancelled() and task.exception() is not None:
            # The live graph is untouched until the swap; the next write tries again.
            logger.error("index compaction failed", exc_info=task.exception())
        elif not task.cancelled():
            # Writes replayed after the swap may have made it due again (a delete of
            # everything, say); with no further write nothing else would start it.
            self._compact_if_due(collection_id, index)

    async def _save(self, index: VectorIndex) -> None:
        """Save one index (callers hold its lock), unless the store's directory is gone."""
        if self.store.vanished():  # it logs that once
            return
        try:
            await index.save()
        except FileNotFoundError:
            self.store.vanished()

    async def _catch_up(self, index: VectorIndex, collection_id: str, verify: bool) -> None:
        db = self.store.db
        seq, _ = await records.collection_state(db, collection_id)
        if index.seq > seq:  # an index newer than its database cannot be trusted
            await self._rebuild(index, collection_id, seq)
            return
        if index.seq < seq:
            removed, keys, vectors = await records.changes_since(
                db, collection_id, index.seq, index.dimension
            )
            await index.remove(removed)
            await index.upsert(keys, vectors)
            index.seq = seq
        if verify:
            count = await records.count(db, collection_id)
            # Compare only if no write landed in between (a pipelined one of this process, or
            # another process's): else the count is not the index's; the next open checks.
            now, _ = await records.collection_state(db, collection_id)
            if now == seq and len(index) != count:
                await self._rebuild(index, collection_id, seq)

    async def _rebuild(self, index: VectorIndex, collection_id: str, seq: int) -> None:
        await index.reset()
        last = 0
        while True:
            keys, vectors = await records.vector_slice(
                self.store.db, collection_id, last, REBUILD_SLICE, index.dimension, seq
            )
            if len(keys) == 0:
                break
            await index.upsert(keys, vectors)
            last = int(keys[-1])
        index.seq = seq

    def set_ef_search(self, collection_id: str, ef_search: int) -> None:
        index = self._open.get(collection_id)
        if index is not None:
            index.set_ef_search(ef_search)

    def drop(self, collection_ids: list[str]) -> None:
        """Forget and delete the indexes of deleted collections."""
        for cid in collection_ids:
            self._open.pop(cid, None)
            files = self._files(cid)
            if files is not None and not self.store.vanished():
                files.remove()

    async def remove_orphans(self) -> None:
        """Delete index files whose collection is gone (e.g. deleted by an older version)."""
        if self.dir is None or not self.dir.exists():
            return
        async with self.store.db.execute("SELECT id FROM collections") as cur:
            live = {r[0] for r in await cur.fetchall()}
        for f in self.dir.iterdir():
            if f.name.split(".")[0] not in live:
                with contextlib.suppress(OSError):
                    f.unlink()

    async def close(self) -> None:
        """Finish pending updates, stop compactions and save every open index."""
        self._closing = True  # no compaction starts from here on
        for collection_id in list(self._pending):
            await self.settle(collection_id)
        self._stop.set()  # redone after the next open and write if still due
        compacting = list(self._compacting.values())
        if compacting:  # their worker threads finish the slice they are on
            await asyncio.wait(compacting)
        for index in list(self._open.values()):
            async with index.lock.write():
                await self._save(index)


def keys_array(keys: list[int]) -> Keys:
    return np.asarray(keys, dtype=np.uint64)
