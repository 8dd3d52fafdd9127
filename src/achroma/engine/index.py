"""`VectorIndex`: the USearch HNSW index of one collection.

The index is derived data. SQLite holds every vector; the index remembers the write sequence
number (`seq`) it has caught up to, and is saved next to the database as `<id>.usearch` plus a
small `<id>.json` with that seq. On open it is memory-mapped (read-only) when its file is
current, loaded and caught up from SQLite when behind, and rebuilt when missing or corrupt.
Every USearch call runs in a worker thread so the event loop never waits on index work.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import numpy.typing as npt
from usearch.index import Index

from achroma.engine.rwlock import RWLock

Keys = npt.NDArray[np.uint64]
Vectors = npt.NDArray[np.float32]

# Marks an unused result slot (USearch found fewer than k neighbours).
NO_KEY = np.uint64(2**64 - 1)

# Save the index once this many vectors changed (see `save_due`).
SAVE_AFTER = 20_000

# Graphs at least this big take batches on all cores.
PARALLEL_ADD = 2048

# Chroma's space names and the USearch metrics that report the same distances.
METRICS = {"l2": "l2sq", "cosine": "cos", "ip": "ip"}


class VectorIndex:
    """One collection's HNSW graph, with the seq of the last write it reflects."""

    def __init__(self, dimension: int, hnsw: dict[str, Any], file: Path | None) -> None:
        self.dimension = dimension
        self.space = str(hnsw.get("space", "l2"))
        self.ef_search = int(hnsw.get("ef_search", 100))
        self._hnsw = hnsw
        self.file = file
        self.seq = 0
        self.lock = RWLock()
        # Vectors changed since the last save (0: the file is current).
        self.unsaved = 0
        self._viewed = False
        self._index = self._new()

    def _new(self) -> Index:
        return Index(
            ndim=self.dimension,
            metric=METRICS[self.space],
            dtype="f32",
            connectivity=int(self._hnsw.get("max_neighbors", 16)),
            expansion_add=int(self._hnsw.get("ef_construction", 100)),
            expansion_search=self.ef_search,
        )

    def __len__(self) -> int:
        return len(self._index)

    # --- persistence ---

    @property
    def _meta_file(self) -> Path | None:
        return meta_file_of(self.file) if self.file is not None else None

    def _read_meta(self) -> dict[str, Any] | None:
        meta_file = self._meta_file
        try:
            assert meta_file is not None
            meta: dict[str, Any] = json.loads(meta_file.read_text())
        except (OSError, ValueError, AssertionError):
            return None
        if meta.get("dimension") != self.dimension or meta.get("space") != self.space:
            return None
        return meta

    async def load(self) -> bool:
        """Map the saved index read-only; False (and an empty index) if none is usable."""
        meta = self._read_meta()
        if meta is None or self.file is None or not self.file.exists():
            return False
        file = self.file
        try:
            index = await anyio.to_thread.run_sync(lambda: Index.restore(file, view=True))
        except Exception:  # a corrupt file is rebuilt from SQLite
            return False
        if index is None or index.ndim != self.dimension:
            return False
        index.expansion_search = self.ef_search  # type: ignore[misc]
        self._index, self._viewed, self.seq = index, True, int(meta["seq"])
        return True

    async def _ensure_mutable(self) -> None:
        # A memory-mapped view cannot take writes: load a private copy first.
        if self._viewed and self.file is not None:
            file = self.file
            index = await anyio.to_thread.run_sync(lambda: Index.restore(file, view=False))
            if index is None:
                raise RuntimeError(f"vector index file {file} vanished")
            index.expansion_search = self.ef_search  # type: ignore[misc]
            self._index, self._viewed = index, False

    async def save(self) -> None:
        """Write the index and its seq atomically (index first: a newer index with an older
        seq only replays idempotent changes)."""
        if self.file is None or not self.unsaved:
            return
        file, meta_file, index = self.file, self._meta_file, self._index
        assert meta_file is not None
        meta = {"seq": self.seq, "dimension": self.dimension, "space": self.space}

        def write() -> None:
            file.parent.mkdir(parents=True, exist_ok=True)
            tmp = file.with_suffix(".usearch.tmp")
            index.save(str(tmp))
            os.replace(tmp, file)
            tmp_meta = meta_file.with_suffix(".json.tmp")
            tmp_meta.write_text(json.dumps(meta))
            os.replace(tmp_meta, meta_file)

        unsaved = self.unsaved
        await anyio.to_thread.run_sync(write)
        self.unsaved -= unsaved

    @property
    def save_due(self) -> bool:
        """Whether enough changed that replaying them after a crash would cost more than a
        save: at least SAVE_AFTER vectors and at least the index's size (so saves stay
        amortised O(1) per added vector)."""
        return self.file is not None and self.unsaved >= max(SAVE_AFTER, len(self._index))

    # --- changes (callers hold `lock.write()`) ---

    async def reset(self) -> None:
        self._index, self._viewed, self.seq = self._new(), False, 0
        self.unsaved += 1

    async def upsert(self, keys: Keys, vectors: Vectors) -> None:
        """Add vectors, replacing any the keys already have."""
        if len(keys) == 0:
            return
        await self._ensure_mutable()
        index = self._index

        def run() -> None:
            present = np.asarray(index.contains(keys), dtype=bool).reshape(-1)
            if present.any():
                index.remove(keys[present])
            # Parallel insertion into a small graph occasionally leaves a node poorly linked
            # (seen as top-1 misses on 300 vectors), so small graphs are built on one thread.
            parallel = len(keys) >= 64 and len(index) + len(keys) >= PARALLEL_ADD
            index.add(keys, vectors, threads=0 if parallel else 1)

        await anyio.to_thread.run_sync(run)
        self.unsaved += len(keys)

    async def remove(self, keys: Keys) -> None:
        if len(keys) == 0:
            return
        await self._ensure_mutable()
        index = self._index
        await anyio.to_thread.run_sync(lambda: index.remove(keys))
        self.unsaved += len(keys)

    def set_ef_search(self, ef_search: int) -> None:
        self.ef_search = ef_search
        self._index.expansion_search = ef_search  # type: ignore[misc]

    # --- search (callers hold `lock.read()`) ---

    async def search(self, queries: Vectors, k: int) -> tuple[Keys, npt.NDArray[np.float32]]:
        """The k nearest keys of each query, as (n, k) arrays; unused slots hold
        `NO_KEY` and distance inf."""
        index = self._index
        k = max(1, min(k, len(index)))
        ef = max(self.ef_search, k)

        def run() -> tuple[Keys, npt.NDArray[np.float32]]:
            # USearch reads the search width from the index object, not from the call. A
            # concurrent search may change it in between; that only shifts its width.
            index.expansion_search = ef  # type: ignore[misc]
            matches = index.search(queries, k)
            keys = np.asarray(matches.keys, dtype=np.uint64).reshape(len(queries), -1)
            distances = np.asarray(matches.distances, dtype=np.float32).reshape(len(queries), -1)
            # One query gives `Matches` (no counts), several give `BatchMatches`.
            counts = np.asarray(getattr(matches, "counts", [len(matches.keys)])).reshape(-1)
            for row, count in enumerate(counts):
                keys[row, count:] = NO_KEY
                distances[row, count:] = np.inf
            return keys, distances

        return await anyio.to_thread.run_sync(run)


def meta_file_of(file: Path) -> Path:
    """The JSON sidecar (seq, dimension, space) of an index file."""
    return file.with_suffix(".json")


def remove_index_files(file: Path) -> None:
    """Delete an index file and its sidecar, if they exist."""
    for f in (file, meta_file_of(file)):
        with contextlib.suppress(FileNotFoundError):
            f.unlink()


def exact_distances(space: str, queries: Vectors, vectors: Vectors) -> npt.NDArray[np.float32]:
    """Chroma's distances between every query and every vector, computed exactly."""
    q = queries.astype(np.float64)
    x = vectors.astype(np.float64)
    dots = q @ x.T
    if space == "l2":
        sq = (q * q).sum(axis=1)[:, None] + (x * x).sum(axis=1)[None, :] - 2.0 * dots
        out: npt.NDArray[np.float32] = np.maximum(sq, 0.0).astype(np.float32)
        return out
    if space == "cosine":
        norms = np.linalg.norm(q, axis=1)[:, None] * np.linalg.norm(x, axis=1)[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            cos: npt.NDArray[np.float32] = (1.0 - dots / np.where(norms == 0, 1.0, norms)).astype(
                np.float32
            )
        return cos
    ip: npt.NDArray[np.float32] = (1.0 - dots).astype(np.float32)
    return ip
