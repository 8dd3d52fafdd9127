"""`VectorIndex`: the vector index of one collection, an HNSW graph that never hides a record.

The index is derived data: SQLite holds every vector, and the index remembers the write
sequence number (`seq`) it has caught up to. Three things keep its answers trustworthy:

- Collections of up to `EXACT_LIMIT` records are ranked exactly (USearch's exact scan over
  every vector, ties in key order), as chromadb ranks its unindexed records: at that size
  the scan costs about what a graph search does, and it has no misses.
- Records with identical vectors share one graph node (`VectorGroups`): HNSW construction
  degrades badly on exact ties, and a search expands a node into all of its records.
- Removed and replaced vectors (the graph's `churn`) widen every search by their share, and
  past `COMPACT_SHARE` of the records the owner (`Indexes`) rebuilds the graph beside the
  live one and swaps it in (`snapshot`, `build`, `adopt`).

Every USearch call runs in a worker thread so the event loop never waits on index work
(searches in the read's own thread, see `executor`).
Files are handled by `IndexFiles`.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any

import anyio
import numpy as np
import numpy.typing as npt
from usearch.index import Index

from achroma.engine.graph_file import VectorSource
from achroma.engine.index_files import IndexFiles
from achroma.engine.rwlock import RWLock
from achroma.engine.vector_groups import (
    ABSENT,
    VectorGroups,
    canonical,
    vector_hashes,
)

Keys = npt.NDArray[np.uint64]
Vectors = npt.NDArray[np.float32]
Distances = npt.NDArray[np.float32]

# Marks an unused result slot (fewer than k records found).
NO_KEY = ABSENT

# Up to this many records, searches rank exactly (see docs/reliability.md for the figures).
EXACT_LIMIT = 2048

# Save the index once this many vectors changed (see `save_due`).
SAVE_AFTER = 20_000

# Graphs at least this big take batches on all cores.
PARALLEL_ADD = 2048

# Rebuild the graph once removed or replaced vectors reach this share of the records...
COMPACT_SHARE = 0.25
# ...and at least this many.
COMPACT_MIN = 1024
# Searches widen by the churned share, up to this factor.
MAX_WIDENING = 4.0
# A rebuild adds its vectors in slices this big (it can be abandoned between slices).
BUILD_SLICE = 4096

# Loading a graph file reads vectors from SQLite in slices of about this many bytes: small
# enough for a slice and its copies to stay in the CPU's cache (measured: twice as fast as
# 20k rows of 384 dimensions a slice).
LOAD_SLICE_BYTES = 3 << 20

# The buffer each graph viewed from memory (`_restored`) reads, kept as long as the graph.
_BACKING: weakref.WeakKeyDictionary[Index, npt.NDArray[np.uint8]] = weakref.WeakKeyDictionary()

# Chroma's space names and the USearch metrics that report the same distances.
METRICS = {"l2": "l2sq", "cosine": "cos", "ip": "ip"}


@dataclass
class Snapshot:
    """The graph's nodes and groups at one seq, to build a fresh graph from."""

    seq: int
    keys: Keys
    vectors: Vectors
    groups: dict[str, npt.NDArray[np.uint64]]


class VectorIndex:
    """One collection's HNSW graph and vector groups, with the seq of the last write."""

    def __init__(self, dimension: int, hnsw: dict[str, Any], files: IndexFiles | None) -> None:
        self.dimension = dimension
        self.space = str(hnsw.get("space", "l2"))
        self.ef_search = int(hnsw.get("ef_search", 100))
        self._hnsw = hnsw
        self.files = files
        self.seq = 0
        self.lock = RWLock()
        # Vectors changed since the last save (0: the file is current).
        self.unsaved = 0
        # Saved files that did not validate are replaced by the next save, whatever their seq.
        self.replace_saved = False
        # Vectors removed or replaced in the graph since it was built.
        self.churn = 0
        self._viewed = False
        self._graph = self._new()
        self._groups = VectorGroups()
        # Nodes loaded without their vectors, for the catch-up to remove (see `load`).
        self.stale: Keys = np.empty(0, dtype=np.uint64)

    def _new(self) -> Index:
        return Index(
            ndim=self.dimension,
            metric=METRICS[self.space],
            dtype="f32",
            connectivity=int(self._hnsw.get("max_neighbors", 16)),
            expansion_add=int(self._hnsw.get("ef_construction", 100)),
            expansion_search=self.ef_search,
        )

    def _configure(self, graph: Index) -> Index:
        # USearch files keep the connectivity, not the expansion settings.
        graph.expansion_add = int(self._hnsw.get("ef_construction", 100))  # type: ignore[misc]
        graph.expansion_search = self.ef_search  # type: ignore[misc]
        return graph

    def __len__(self) -> int:
        """Live records (graph nodes plus the records sharing their vectors)."""
        return len(self._graph) + len(self._groups)

    @property
    def nodes(self) -> int:
        return len(self._graph)

    def group_size(self, key: int) -> int:
        """How many records share `key`'s vector (itself included)."""
        group = self._groups.group_of(key)
        return 1 if group is None else len(group.keys)

    # --- persistence ---

    async def load(self, source: VectorSource) -> bool:
        """Load the saved index; False (and an empty index) if none is usable.

        A graph file (format 3) gets its live nodes' vectors from `source` (SQLite's
        records, unchanged since the save) and is viewed in memory; an older format 2 file
        is mapped read-only; either is copied on the first write. A node whose record was
        deleted or rewritten since the save is left in `stale` for the catch-up to remove:
        `stale_left` says whether it did.
        """
        files = self.files
        if files is None:
            return False
        saved = await anyio.to_thread.run_sync(files.load, self.dimension, self.space)
        if saved is None:
            self.replace_saved = True
            return False
        try:
            groups = VectorGroups.from_arrays(saved.groups)
            graph = saved.graph
            if saved.stripped is not None:
                slice_rows = max(1, LOAD_SLICE_BYTES // (4 * self.dimension))
                data = await saved.stripped.assemble(source, slice_rows)
                graph = await anyio.to_thread.run_sync(_restored, data)
                stale = saved.stripped.missing
                # A group lives on under another record when its node's goes: that node
                # must hold the group's vector, which SQLite no longer gives.
                if any(groups.group_of(k) is not None for k in stale.tolist()):
                    graph = None
        except (ValueError, KeyError, RuntimeError):
            graph = None
        if graph is None or graph.ndim != self.dimension or len(graph) != saved.nodes:
            self.replace_saved = True
            return False
        self._graph, self._groups = self._configure(graph), groups
        self._viewed, self.seq, self.churn = True, saved.seq, saved.churn
        self.stale = saved.stripped.missing if saved.stripped is not None else self.stale
        return True

    def stale_left(self) -> bool:
        """Whether a node loaded without its vector (see `load`) was neither removed nor
        replaced since: the graph cannot then be trusted (ask once caught up)."""
        return len(self.stale) > 0

    def _unstale(self, keys: Keys) -> None:
        if len(self.stale):
            self.stale = self.stale[np.isin(self.stale, keys, invert=True)]

    async def _ensure_mutable(self) -> None:
        # A view (of a file or of a buffer) cannot take writes: copy it first.
        if self._viewed:
            graph = self._graph
            self._graph = self._configure(await anyio.to_thread.run_sync(graph.copy))
            self._viewed = False

    async def save(self) -> None:
        """Write the index as a new generation of its files (callers hold `lock.read()`).

        Skipped when another process already saved one at least as new."""
        files = self.files
        if files is None or not (self.unsaved or self.replace_saved):
            return
        meta = {"seq": self.seq, "dimension": self.dimension, "space": self.space}
        meta["churn"] = self.churn
        graph, groups, replace = self._graph, self._groups.to_arrays(), self.replace_saved
        unsaved = self.unsaved
        await anyio.to_thread.run_sync(files.save, graph, groups, meta, replace)
        self.unsaved -= unsaved
        self.replace_saved = False

    @property
    def save_due(self) -> bool:
        """Whether enough changed that replaying them after a crash would cost more than a
        save: at least SAVE_AFTER vectors and at least as many as the save before held (so
        a growing index is saved each time it doubles, amortised O(1) per added vector)."""
        saved = max(0, len(self) - self.unsaved)
        return self.files is not None and self.unsaved >= max(SAVE_AFTER, saved)

    # --- changes (callers hold `lock.write()`) ---

    async def reset(self) -> None:
        self._graph, self._groups, self._viewed, self.seq = self._new(), VectorGroups(), False, 0
        self.churn, self.stale = 0, self.stale[:0]
        self.unsaved += 1
        self.replace_saved = True  # rebuilt from SQLite: truer than whatever is saved

    async def upsert(self, keys: Keys, vectors: Vectors) -> None:
        """Add records' vectors, replacing any the keys already have."""
        if len(keys) == 0:
            return
        await self._ensure_mutable()
        await anyio.to_thread.run_sync(self._upsert, keys, vectors)
        self._unstale(keys)
        self.unsaved += len(keys)

    async def remove(self, keys: Keys) -> None:
        if len(keys) == 0:
            return
        await self._ensure_mutable()
        await anyio.to_thread.run_sync(self._remove, keys)
        self._unstale(keys)
        self.unsaved += len(keys)

    def _remove(self, keys: Keys) -> None:
        groups, graph = self._groups, self._graph
        grouped = [k for k in keys.tolist() if groups.group_of(k) is not None]
        emptied, renames = groups.leave(grouped)
        for old, new in renames:  # the group lives on under another of its records
            graph.rename(old, new)
            groups.renamed(old, new)
        plain = keys[np.isin(keys, np.asarray(grouped, dtype=np.uint64), invert=True)]
        if len(plain):
            plain = plain[np.asarray(graph.contains(plain), dtype=bool).reshape(-1)]
        gone = np.concatenate([plain, np.asarray(emptied, dtype=np.uint64)])
        if len(gone):
            groups.discard(gone)
            graph.remove(gone)
            self.churn += len(gone)

    def _upsert(self, keys: Keys, vectors: Vectors) -> None:
        self._remove(keys)
        vectors = canonical(vectors)
        hashes = vector_hashes(vectors)
        unique, first, inverse, counts = np.unique(
            hashes, return_index=True, return_inverse=True, return_counts=True
        )
        inverse = inverse.reshape(-1)
        found = self._groups.lookup(unique)
        simple = (counts == 1) & (found == NO_KEY)
        new_rows = [first[simple]]  # rows that become graph nodes
        hashed_rows = [first[simple]]  # ... and enter the hash table
        joins: list[tuple[int, list[int]]] = []
        if not simple.all():
            by_hash = np.split(np.argsort(inverse, kind="stable"), np.cumsum(counts)[:-1])
            copies = np.flatnonzero(~simple)
            known = found[copies]
            stored = self._stored_vectors(known[known != NO_KEY])
            for u, node in zip(copies.tolist(), known.tolist(), strict=True):
                rows = by_hash[u]
                same = _equal_rows(vectors[rows], vectors[rows[0]])
                new_rows.append(rows[~same])  # a hash collision: a node of its own
                rows = rows[same]
                if node != NO_KEY and _equal_rows(stored[node][None], vectors[rows[0]])[0]:
                    joins.append((node, keys[rows].tolist()))
                    continue
                new_rows.append(rows[:1])
                if node == NO_KEY:
                    hashed_rows.append(rows[:1])
                if len(rows) > 1:
                    joins.append((int(keys[rows[0]]), keys[rows[1:]].tolist()))
        added = np.sort(np.concatenate(new_rows))
        if len(added):
            # Parallel insertion into a small graph occasionally leaves a node poorly linked
            # (seen as top-1 misses on 300 vectors), so small graphs are built on one thread.
            parallel = len(added) >= 64 and len(self._graph) + len(added) >= PARALLEL_ADD
            # (`added` is sorted and unique: as long as `keys`, it is every row, in order)
            whole = len(added) == len(keys)
            node_keys = keys if whole else keys[added]
            node_vectors = vectors if whole else vectors[added]
            self._graph.add(node_keys, node_vectors, threads=0 if parallel else 1)
        hashed = np.concatenate(hashed_rows)
        self._groups.insert(hashes[hashed], keys[hashed])
        for node, members in joins:
            self._groups.join(node, members)

    def _stored_vectors(self, nodes: Keys) -> dict[int, Vectors]:
        if len(nodes) == 0:
            return {}
        stored = np.asarray(self._graph.get(nodes), dtype=np.float32).reshape(len(nodes), -1)
        return {int(k): canonical(v[None])[0] for k, v in zip(nodes, stored, strict=True)}

    def set_ef_search(self, ef_search: int) -> None:
        self.ef_search = ef_search
        self._graph.expansion_search = ef_search  # type: ignore[misc]

    # --- rebuilding beside the live graph ---

    @property
    def compact_due(self) -> bool:
        return self.churn >= max(COMPACT_MIN, COMPACT_SHARE * len(self))

    async def snapshot(self) -> Snapshot:
        """The nodes' vectors and the groups now (callers hold `lock.read()`)."""
        graph = self._graph

        def copy() -> tuple[Keys, Vectors]:
            keys = np.sort(np.asarray(graph.keys, dtype=np.uint64))
            if len(keys) == 0:
                return keys, np.empty((0, self.dimension), dtype=np.float32)
            vectors = np.asarray(graph.get(keys), dtype=np.float32).reshape(len(keys), -1)
            return keys, vectors

        keys, vectors = await anyio.to_thread.run_sync(copy)
        return Snapshot(self.seq, keys, vectors, self._groups.to_arrays())

    async def build(
        self, snapshot: Snapshot, stop: threading.Event
    ) -> tuple[Index, VectorGroups] | None:
        """A fresh graph of the snapshot's nodes, or None if `stop` was set meanwhile.

        It touches no live state, so it needs no lock. The whole build is one worker-thread
        call that checks `stop` between slices: a worker left inside USearch when the
        interpreter exits aborts the process, so the owner sets `stop` and waits for it.
        """

        def run() -> Index | None:
            graph = self._new()
            for start in range(0, len(snapshot.keys), BUILD_SLICE):
                if stop.is_set():
                    return None
                keys = snapshot.keys[start : start + BUILD_SLICE]
                threads = 0 if len(graph) + len(keys) >= PARALLEL_ADD else 1
                graph.add(keys, snapshot.vectors[start : start + BUILD_SLICE], threads=threads)
            return graph

        with anyio.CancelScope(shield=True):
            graph = await anyio.to_thread.run_sync(run)
        return None if graph is None else (graph, VectorGroups.from_arrays(snapshot.groups))

    def adopt(self, graph: Index, groups: VectorGroups, seq: int) -> None:
        """Swap in a graph built from a snapshot at `seq` (callers hold `lock.write()` and
        then catch the index up from SQLite)."""
        self._graph, self._groups, self.seq = graph, groups, seq
        self._viewed, self.churn = False, 0
        self.unsaved += max(1, len(self))

    # --- search (callers hold `lock.read()`) ---

    async def search(self, queries: Vectors, k: int) -> tuple[Keys, Distances]:
        """`search_now` in a worker thread."""
        return await anyio.to_thread.run_sync(self.search_now, queries, k)

    def search_now(self, queries: Vectors, k: int) -> tuple[Keys, Distances]:
        """The k nearest records of each query, as (n, k) arrays, nearest first and ties in
        key order; unused slots hold `NO_KEY` and distance inf. It blocks: call it from a
        worker thread (the executor's read runs it on its read connection's thread)."""
        k = max(1, k)
        if len(self) == 0:
            return _padded([], len(queries), k)
        return self._search(queries, k)

    def _search(self, queries: Vectors, k: int) -> tuple[Keys, Distances]:
        graph = self._graph
        exact = len(self) <= EXACT_LIMIT
        # Exact ranking asks for a few more nodes, so that ties at the k-th place come out
        # in key order too.
        count = min(2 * k + 8 if exact else k, len(graph))
        if not exact:
            widening = min(MAX_WIDENING, 1.0 + self.churn / max(1, len(self)))
            # USearch reads the search width from the index object, not from the call. A
            # concurrent search may change it in between; that only shifts its width.
            width = int(max(self.ef_search, count) * widening)
            graph.expansion_search = width  # type: ignore[misc]
        threads = 1 if len(queries) == 1 else 0
        keys, distances, counts = _matrix(
            graph.search(queries, count, exact=exact, threads=threads), len(queries), count
        )
        short = np.flatnonzero(counts < count) if counts.min() < count else ()
        if not exact and len(short):
            # The walk did not reach `count` live nodes (seen in ip space, whose graph is not
            # a metric one: 939 of 6,000 reachable): scan those queries exactly instead.
            rescan = graph.search(queries[short], count, exact=True, threads=threads)
            keys[short], distances[short], counts[short] = _matrix(rescan, len(short), count)
        if not exact and not self._groups.has_groups():
            if count == k:
                return keys, distances
            out_keys, out_distances = _padded([], len(queries), k)
            out_keys[:, :count], out_distances[:, :count] = keys, distances
            return out_keys, out_distances
        rows: list[list[tuple[float, int]]] = []
        for row, used in enumerate(counts.tolist()):
            hits = [
                (float(d), key)
                for node, d in zip(keys[row, :used].tolist(), distances[row, :used], strict=True)
                for key in self._groups.expand(node, k)
            ]
            hits.sort()
            rows.append(hits[:k])
        return _padded(rows, len(queries), k)


def _restored(data: npt.NDArray[np.uint8]) -> Index | None:
    """The index serialized in `data`, viewed in place: restoring would copy every node
    (a second or so at a million), and the first write copies it anyway (`_ensure_mutable`)."""
    graph = Index.restore(data.data, view=True)
    if graph is not None:
        _BACKING[graph] = data
    return graph


def exact_distances(space: str, queries: Vectors, vectors: Vectors) -> Distances:
    """Chroma's distances between every query and every vector, computed exactly."""
    q = queries.astype(np.float64)
    x = vectors.astype(np.float64)
    dots = q @ x.T
    if space == "l2":
        sq = (q * q).sum(axis=1)[:, None] + (x * x).sum(axis=1)[None, :] - 2.0 * dots
        out: Distances = np.maximum(sq, 0.0).astype(np.float32)
        return out
    if space == "cosine":
        norms = np.linalg.norm(q, axis=1)[:, None] * np.linalg.norm(x, axis=1)[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            cos: Distances = (1.0 - dots / np.where(norms == 0, 1.0, norms)).astype(np.float32)
        return cos
    ip: Distances = (1.0 - dots).astype(np.float32)
    return ip


def _equal_rows(rows: Vectors, row: Vectors) -> npt.NDArray[np.bool_]:
    same: npt.NDArray[np.bool_] = (rows.view(np.uint32) == row.view(np.uint32)).all(axis=-1)
    return same


def _matrix(matches: Any, n: int, k: int) -> tuple[Keys, Distances, npt.NDArray[np.int64]]:
    """USearch's matches as (n, k) keys and distances (unused slots: NO_KEY, inf) and the
    number found per query."""
    found = np.asarray(matches.keys, dtype=np.uint64).reshape(n, -1)
    found_distances = np.asarray(matches.distances, dtype=np.float32).reshape(n, -1)
    batch_counts = getattr(matches, "counts", None)
    if batch_counts is None:  # one query gives `Matches`: only what it found, no counts
        counts = np.array([found.shape[1]], dtype=np.int64)
        if found.shape[1] >= k:
            return found[:, :k], found_distances[:, :k], counts
    else:
        counts = np.asarray(batch_counts, dtype=np.int64).reshape(-1)
        if found.shape[1] >= k and counts.min(initial=k) >= k:  # every query found k
            return found[:, :k], found_distances[:, :k], counts
    keys = np.full((n, k), NO_KEY, dtype=np.uint64)
    distances = np.full((n, k), np.inf, dtype=np.float32)
    width = min(k, found.shape[1])
    keys[:, :width], distances[:, :width] = found[:, :width], found_distances[:, :width]
    unused = np.arange(k)[None, :] >= counts[:, None]
    keys[unused], distances[unused] = NO_KEY, np.inf
    return keys, distances, counts


def _padded(rows: list[list[tuple[float, int]]], n: int, k: int) -> tuple[Keys, Distances]:
    keys = np.full((n, k), NO_KEY, dtype=np.uint64)
    distances = np.full((n, k), np.inf, dtype=np.float32)
    for i, hits in enumerate(rows):
        if hits:
            distances[i, : len(hits)] = [d for d, _ in hits]
            keys[i, : len(hits)] = [key for _, key in hits]
    return keys, distances
