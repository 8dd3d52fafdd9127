"""The graph file: USearch's serialization of an index with the vectors of its live nodes left out.

SQLite holds every record's vector already (`records.embedding`, the source of truth), so the
saved index keeps only what SQLite cannot give back: the HNSW graph, and the vectors of the
removed nodes the graph still routes through (their records are gone or hold a newer vector).
Opening puts the live nodes' vectors back from SQLite (`assemble`) and restores the index
from the whole serialization in memory.

USearch (2.x) serializes a dense index as

    u32 rows, u32 row_bytes                  the vector matrix: one row per graph slot
    rows * row_bytes                         ... in slot order
    64 bytes                                 the dense index's head ("usearch", version, ...)
    graph                                    u64 size, connectivity, connectivity_base,
                                             max_level, entry_slot; i16 level of each node;
                                             then each node: u64 key, i16 level,
                                             (u32 count + connectivity_base u32 slots), and
                                             level * (u32 count + connectivity u32 slots)

and a graph file is

    8 bytes magic, u64 rows, u64 row_bytes, u64 kept
    rows * u32                               each slot's vector hash (`_row_hashes`, of
                                             the canonical float32 row; 0: removed slot)
    kept * u64                               the removed slots whose vector rows are kept
    kept * row_bytes                         ... their rows
    the serialization from the dense head on, unchanged

A slot's key is read from its node in the graph; a removed slot's key is `FREE_KEY`. The
hashes let opening notice a vector that SQLite holds differently from the one the graph was
built with (a change no seq recorded): that node is as stale as a deleted record's.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import numpy as np
import numpy.typing as npt

from achroma.engine.vector_groups import canonical

Keys = npt.NDArray[np.uint64]
Vectors = npt.NDArray[np.float32]

MAGIC = b"ACHGRPH1"
_HEADER = struct.Struct("<8sQQQ")
_MATRIX = struct.Struct("<II")
_DENSE_HEAD = 64
_GRAPH_HEAD = struct.Struct("<5Q")
# Rows hashed at a time (bounds the temporary).
_HASH_ROWS = 4096
# Rows placed at a time by `_Assembly.place`.
_PLACE_ROWS = 256
# Per-dimension odd multipliers of the row hash (fixed: saved files must stay valid).
_WEIGHTS = (
    np.random.default_rng(0x6EA9).integers(0, 2**32, size=65_536, dtype=np.uint64) | 1
).astype(np.uint32)
# USearch's key of a removed (free) slot.
FREE_KEY = np.uint64(2**64 - 1)

# (after_key, limit) -> up to `limit` (keys, vectors) of the collection's records above
# `after_key`, in key order.
VectorSource = Callable[[int, int], Awaitable[tuple[Keys, Vectors]]]


class GraphFileError(ValueError):
    """The bytes are not a graph file this version can read."""


def strip(serialized: Path) -> bytes:
    """A graph file from a file holding USearch's serialization of an index."""
    with open(serialized, "rb") as f:
        rows, row_bytes = _MATRIX.unpack(f.read(_MATRIX.size))
        f.seek(_MATRIX.size + rows * row_bytes)
        rest = f.read()
        keys = slot_keys(rest, 0, rows)
        f.seek(_MATRIX.size)
        hashes = np.zeros(rows, dtype=np.uint32)
        kept = np.flatnonzero(keys == FREE_KEY).astype(np.uint64)
        kept_rows = []
        for start in range(0, rows, _HASH_ROWS):
            chunk = f.read(min(_HASH_ROWS, rows - start) * row_bytes)
            hashes[start : start + _HASH_ROWS] = _row_hashes(chunk, row_bytes)
        for slot in kept.tolist():
            f.seek(_MATRIX.size + slot * row_bytes)
            kept_rows.append(f.read(row_bytes))
    hashes[kept.astype(np.int64)] = 0
    header = _HEADER.pack(MAGIC, rows, row_bytes, len(kept))
    return b"".join((header, hashes.tobytes(), kept.tobytes(), *kept_rows, rest))


def _row_hashes(rows: bytes | npt.NDArray[np.uint8], row_bytes: int) -> npt.NDArray[np.uint32]:
    """Each row's 32-bit words weighted by fixed odd multipliers and summed mod 2**32: any
    change to one word changes it (an odd multiplier is invertible mod 2**32)."""
    words = np.frombuffer(rows, dtype=np.uint32).reshape(-1, row_bytes // 4)
    if words.shape[1] > len(_WEIGHTS):
        raise GraphFileError(f"vectors of dimension {words.shape[1]} are not supported")
    weights = _WEIGHTS[: words.shape[1]]
    out = np.empty(len(words), dtype=np.uint32)
    for start in range(0, len(words), _HASH_ROWS):
        chunk = words[start : start + _HASH_ROWS]
        out[start : start + _HASH_ROWS] = (chunk * weights).sum(axis=1, dtype=np.uint32)
    return out


def slot_keys(data: bytes, dense_head_at: int, rows: int) -> Keys:
    """The key of each graph slot (FREE_KEY: removed), read from the nodes of the graph that
    follows the dense head at `dense_head_at`."""
    at = dense_head_at + _DENSE_HEAD
    if len(data) < at + _GRAPH_HEAD.size:
        raise GraphFileError("the graph is truncated")
    size, connectivity, base, _, _ = _GRAPH_HEAD.unpack_from(data, at)
    if size != rows:
        raise GraphFileError(f"the graph has {size} nodes, its vector matrix {rows} rows")
    at += _GRAPH_HEAD.size
    levels = np.frombuffer(data, dtype=np.int16, count=size, offset=at).astype(np.int64)
    at += 2 * size
    node_bytes = 8 + 2 + 4 + 4 * base + levels * (4 + 4 * connectivity)
    starts = at + np.concatenate(([0], np.cumsum(node_bytes)[:-1])) if size else levels
    if size and int(starts[-1] + node_bytes[-1]) != len(data):
        raise GraphFileError("the graph's nodes do not fill the file")
    raw = np.frombuffer(data, dtype=np.uint8)
    if not size:
        return np.empty(0, dtype=np.uint64)
    key_bytes = raw[starts[:, None] + np.arange(8)[None, :]]
    return np.ascontiguousarray(key_bytes).view("<u8").reshape(-1).astype(np.uint64)


class GraphFile:
    """A graph file's parts, checked for consistency (raises `GraphFileError`)."""

    def __init__(self, data: bytes) -> None:
        if len(data) < _HEADER.size:
            raise GraphFileError("the graph file is truncated")
        magic, rows, row_bytes, kept = _HEADER.unpack_from(data, 0)
        if magic != MAGIC:
            raise GraphFileError("not an achroma graph file")
        at = _HEADER.size
        self.rows, self.row_bytes = int(rows), int(row_bytes)
        if row_bytes % 4:
            raise GraphFileError("the graph's rows are not float32 vectors")
        self.hashes = np.frombuffer(data, dtype=np.uint32, count=rows, offset=at)
        at += 4 * rows
        self.kept = np.frombuffer(data, dtype=np.uint64, count=kept, offset=at)
        at += 8 * kept
        self.kept_rows = np.frombuffer(data, dtype=np.uint8, count=kept * row_bytes, offset=at)
        at += kept * row_bytes
        self.rest = memoryview(data)[at:]
        self.keys = slot_keys(data, at, self.rows)
        if len(self.kept) and int(self.kept.max()) >= self.rows:
            raise GraphFileError("a kept row names no slot")
        self.missing: Keys = np.empty(0, dtype=np.uint64)

    async def assemble(self, source: VectorSource, slice_rows: int) -> npt.NDArray[np.uint8]:
        """USearch's serialization with every slot's vector back in place: the live slots'
        from `source` (the records' vectors, where they hash as the graph's did), the
        removed ones' from the file.

        A live slot whose record was deleted after the save, or whose vector was changed,
        has no such vector: its row is left zero and its key listed in `missing`. Catching
        the index up from SQLite removes (or replaces) every one deleted or rewritten since
        the save; the caller must make sure none is left (`VectorIndex.stale_left`).

        The array work runs on worker threads, a slice at a time: at a million vectors it
        takes seconds, which the event loop must not wait through. Each slice is read while
        the one before is placed."""
        assembly = await anyio.to_thread.run_sync(_Assembly, self)
        reading = asyncio.ensure_future(source(0, slice_rows))
        try:
            while True:
                keys, vectors = await reading
                if len(keys) == 0:
                    break
                reading = asyncio.ensure_future(source(int(keys[-1]), slice_rows))
                await anyio.to_thread.run_sync(assembly.place, keys, vectors)
        finally:
            with anyio.CancelScope(shield=True):
                await _abandon(reading)
        self.missing = self.keys[np.flatnonzero(~assembly.found)]
        return assembly.buffer


async def _abandon(reading: asyncio.Future[tuple[Keys, Vectors]]) -> None:
    """Cancel a read nobody will use and wait for it (its error, if any, is dropped)."""
    if not reading.done():
        reading.cancel()
        await asyncio.wait({reading})
    if not reading.cancelled():
        reading.exception()


class _Assembly:
    """The serialization being filled in by `GraphFile.assemble`."""

    def __init__(self, graph: GraphFile) -> None:
        self.graph = graph
        # One buffer, filled in place, that USearch then copies the index from.
        start = _MATRIX.size
        end = start + graph.rows * graph.row_bytes
        self.buffer = np.zeros(end + len(graph.rest), dtype=np.uint8)
        self.buffer[:start] = np.frombuffer(
            _MATRIX.pack(graph.rows, graph.row_bytes), dtype=np.uint8
        )
        self.buffer[end:] = np.frombuffer(graph.rest, dtype=np.uint8)
        self.matrix = self.buffer[start:end].reshape(graph.rows, graph.row_bytes)
        if len(graph.kept):
            self.matrix[graph.kept.astype(np.int64)] = graph.kept_rows.reshape(-1, graph.row_bytes)
        live = np.flatnonzero(graph.keys != FREE_KEY)
        self.order = live[np.argsort(graph.keys[live], kind="stable")]
        self.sorted_keys = graph.keys[self.order]
        self.found = np.zeros(graph.rows, dtype=bool)
        self.found[graph.keys == FREE_KEY] = True

    def place(self, keys: Keys, vectors: Vectors) -> None:
        """Put the vectors of `keys` (records in SQLite) into their slots, where they hash as
        the graph's did."""
        graph, sorted_keys = self.graph, self.sorted_keys
        if vectors.dtype != np.float32 or vectors.shape[1] * 4 != graph.row_bytes:
            raise GraphFileError("the vectors do not fit the graph's rows")
        at = np.searchsorted(sorted_keys, keys)
        hit = at < len(sorted_keys)
        hit[hit] = sorted_keys[at[hit]] == keys[hit]
        if not hit.all():  # records added after the save
            vectors, at = vectors[hit], at[hit]
        slots = self.order[at]
        # A few hundred rows at a time: the temporaries stay in the CPU's cache.
        for start in range(0, len(slots), _PLACE_ROWS):
            end = start + _PLACE_ROWS
            self._place_rows(slots[start:end], vectors[start:end])

    def _place_rows(self, slots: npt.NDArray[np.intp], vectors: Vectors) -> None:
        rows = canonical(vectors)
        same = _row_hashes(rows.view(np.uint8), self.graph.row_bytes) == self.graph.hashes[slots]
        if not same.all():  # not the vector the graph was built on
            slots, rows = slots[same], rows[same]
        self.matrix[slots] = rows.view(np.uint8).reshape(len(slots), self.graph.row_bytes)
        self.found[slots] = True
