"""The checks of one collection: its rows (`sqlite_checks`), then its saved vector index
against them: its files, its seq, its size once caught up, and self-queries (sampled records
searched with their own stored vectors must come back)."""

from __future__ import annotations

import sqlite3

import anyio
import numpy as np

from achroma.engine import records
from achroma.engine.check.findings import REBUILD, Finding, Severity, listed, plural
from achroma.engine.check.session import Collection, Session
from achroma.engine.check.sqlite_checks import check_documents, check_rows
from achroma.engine.graph_file import VectorSource
from achroma.engine.index import (
    EXACT_LIMIT,
    NO_KEY,
    Keys,
    VectorIndex,
    Vectors,
    exact_distances,
)
from achroma.engine.index_files import IndexFiles
from achroma.errors import NotFoundError

# Self-query recall below these (on a graph; exactly ranked collections must find every
# record) is a warning, then an error.
RECALL_WARNING = 0.98
RECALL_ERROR = 0.9
# Self-queries widen k (for ties at the record's own distance) up to this.
MAX_K = 1024
# Why a saved index whose files pass `IndexFiles.problem` still did not load.
REFUSED = "USearch could not load it (or its node count differs from its pointer's)"


class _Outcome:
    HIT, MISS, DIFFERS, UNMEASURED = "hit", "miss", "differs", "unmeasured"


async def check_collection(session: Session, col: Collection) -> list[Finding]:
    try:
        return await _check_collection(session, col)
    except NotFoundError:
        return [Finding(col.label, "info", "deleted while it was being checked")]
    except sqlite3.Error as exc:
        return [Finding(col.label, "error", f"reading it failed: {exc}")]
    except Exception as exc:  # reported, so the other collections are still checked
        return [
            Finding(
                col.label,
                "error",
                f"checking its index failed: {type(exc).__name__}: {exc}",
                REBUILD,
                col.id,
            )
        ]


async def _check_collection(session: Session, col: Collection) -> list[Finding]:
    out: list[Finding] = []
    files = IndexFiles(session.index_dir, col.id)
    # The saved index is loaded before the snapshot is taken: a save by another process
    # in between is then older than the snapshot, never newer.
    saved_files = files.pointer.exists()
    index: VectorIndex | None = None
    unusable = None
    if col.dimension is not None and saved_files:
        index = VectorIndex(col.dimension, col.hnsw, files)
        if not await index.load(_source(session, col.id, col.dimension)):
            problem = await anyio.to_thread.run_sync(files.problem, col.dimension, index.space)
            unusable = problem or REFUSED
            index = None
    async with session.snapshot():
        seq, dimension = await records.collection_state(session.db, col.id)
        count = await records.count_rows(session.db, col.id)
        sound, found = await check_rows(session, col, seq, dimension, count)
        out += found
        if dimension is None:
            return out
        if dimension != col.dimension:  # its first write landed just now
            return [*out, Finding(col.label, "info", "first written while being checked")]
        if not sound:
            out.append(
                Finding(
                    col.label,
                    "error",
                    "its index cannot be checked or rebuilt until its records are sound",
                )
            )
            return out
        sampled = await session.sample_keys(col.id, count)
        out += await check_documents(session, col, sampled)
        if not saved_files:
            if count:
                out.append(
                    Finding(
                        col.label,
                        "info",
                        f"no saved index: it is built from SQLite ({count} records) when "
                        "next opened (--repair saves one now)",
                        REBUILD,
                        col.id,
                    )
                )
            return out
        if index is None:
            out.append(
                Finding(
                    col.label,
                    "error",
                    f"saved index unusable: {unusable} (it is rebuilt from SQLite when "
                    "next opened; --repair does it now)",
                    REBUILD,
                    col.id,
                )
            )
            return out
        out += await _check_index(session, col, index, seq, count, sampled)
    return out


def _source(session: Session, collection_id: str, dimension: int) -> VectorSource:
    async def read(after_key: int, limit: int) -> tuple[Keys, Vectors]:
        return await records.vector_slice(session.db, collection_id, after_key, limit, dimension)

    return read


async def _check_index(
    session: Session, col: Collection, index: VectorIndex, seq: int, count: int, sampled: list[int]
) -> list[Finding]:
    """The loaded index against the snapshot (held by the caller)."""
    out: list[Finding] = []
    saved = index.seq
    if saved > seq:
        out.append(
            Finding(
                col.label,
                "error",
                f"saved index is at seq {saved}, ahead of the collection's seq {seq}: it "
                "was not saved from this database (it is rebuilt when next opened; "
                "--repair does it now)",
                REBUILD,
                col.id,
            )
        )
        return out
    if saved < seq:
        out.append(
            Finding(
                col.label,
                "info",
                f"saved index behind by {plural(seq - saved, 'write')} (saved at seq {saved}, "
                f"collection at seq {seq}): caught up on next open",
            )
        )
        session.progress.start(f"{col.label}: catching up {seq - saved} writes")
        try:
            removed, keys, vectors = await records.changes_since(
                session.db, col.id, saved, index.dimension
            )
            async with index.lock.write():
                await index.remove(removed)
                await index.upsert(keys, vectors)
                index.seq = seq
        finally:
            session.progress.done()
    size = len(index)
    if index.stale_left():
        out.append(
            Finding(
                col.label,
                "error",
                f"saved index has {plural(len(index.stale), 'node')} whose vectors SQLite "
                "no longer holds as they were (deleted or changed with no seq saying so; "
                "it is rebuilt when next opened; --repair does it now)",
                REBUILD,
                col.id,
            )
        )
        return out
    if size != count:
        out.append(
            Finding(
                col.label,
                "error",
                f"saved index holds {size} records (caught up to seq {seq}), SQLite "
                f"{count} (it is rebuilt when next opened; --repair does it now)",
                REBUILD,
                col.id,
            )
        )
        return out
    at = f"at seq {saved}" if saved == seq else f"at seq {saved}, caught up to {seq},"
    state = f"saved index {at} holds all {size} records"
    if not sampled:
        out.append(Finding(col.label, "ok", f"{state}; no self-queries (--sample 0)"))
        return out
    return out + await _self_queries(session, col, index, sampled, state)


async def _self_queries(
    session: Session, col: Collection, index: VectorIndex, sampled: list[int], state: str
) -> list[Finding]:
    """Each sampled record, searched with its own stored vector, is among the results."""
    keys, vectors = await records.vectors(session.db, sampled, index.dimension)
    rows = await records.rows_by_key(
        session.db,
        keys.tolist(),
        {"embeddings": False, "documents": False, "uris": False, "metadatas": False},
    )
    outcomes: dict[str, list[str]] = {}
    session.progress.start(f"{col.label}: self-queries", len(keys))
    try:
        async with index.lock.read():
            for key, vector in zip(keys.tolist(), vectors, strict=True):
                outcome = await _find_self(index, key, vector)
                outcomes.setdefault(outcome, []).append(rows[key].id if key in rows else "?")
                session.progress.advance()
    finally:
        session.progress.done()
    hits = len(outcomes.get(_Outcome.HIT, []))
    misses = outcomes.get(_Outcome.MISS, [])
    differs = outcomes.get(_Outcome.DIFFERS, [])
    unmeasured = len(outcomes.get(_Outcome.UNMEASURED, []))
    out: list[Finding] = []
    if differs:
        out.append(
            Finding(
                col.label,
                "error",
                f"{plural(len(differs), 'sampled record')} indexed with another vector "
                f"than SQLite's (e.g. ids {listed(differs)}): --repair rebuilds the index",
                REBUILD,
                col.id,
            )
        )
    exact = len(index) <= EXACT_LIMIT  # ranked exactly: every record must be found
    if index.space == "ip" and not exact:
        # Inner product is no distance: a record's own vector may rank it anywhere, and
        # a graph search need not reach it. Only what is found says something.
        if not out:
            out.append(
                Finding(
                    col.label,
                    "ok",
                    f"{state}; self-queries found {hits} of {len(keys)} sampled records "
                    "with their stored vectors (in ip space a graph search with a "
                    "record's own vector need not find it: misses are not counted)",
                )
            )
        return out
    measured = hits + len(misses) + len(differs)
    skipped = ""
    if unmeasured:
        skipped = f", {unmeasured} not measurable (over {MAX_K} ties at their own distance)"
    if not measured:
        return [*out, Finding(col.label, "info", f"{state}; no self-query measurable{skipped}")]
    recall = hits / measured
    summary = f"self-query recall {recall:.3f} ({hits}/{measured} sampled records found{skipped})"
    if misses and (exact or recall < RECALL_WARNING):
        severity: Severity = "error" if exact or recall < RECALL_ERROR else "warning"
        out.append(
            Finding(
                col.label,
                severity,
                f"{summary}: not found: ids {listed(misses)} (--repair rebuilds the index)",
                REBUILD,
                col.id,
            )
        )
    if not out:
        out.append(Finding(col.label, "ok", f"{state}; {summary}"))
    return out


async def _find_self(index: VectorIndex, key: int, vector: Vectors) -> str:
    """Search the index with a record's own vector: is the record among the results?

    k starts at 1 + the size of the record's group (records with identical vectors share a
    node) and widens while the results end in ties at the record's own distance (other
    records at that distance may rank first; in "ip" space even closer ones exist)."""
    query = vector[None, :].astype(np.float32)
    if index.space == "cosine" and not np.any(query):
        own = 0.0  # USearch puts a zero vector at distance 0 from itself
    else:
        own = float(exact_distances(index.space, query, query)[0, 0])
    tolerance = 1e-4 * max(1.0, abs(own)) + 1e-5
    size = len(index)
    k = min(1 + index.group_size(key), size)
    limit = max(MAX_K, k)
    while True:
        found, distances = await index.search(query, k)
        row, dist = found[0], distances[0]
        at = np.flatnonzero(row == np.uint64(key))
        if at.size:
            return _Outcome.HIT if abs(float(dist[at[0]]) - own) <= tolerance else _Outcome.DIFFERS
        used = int(np.count_nonzero(row != NO_KEY))
        if used < k or used >= size or float(dist[used - 1]) > own + tolerance:
            return _Outcome.MISS  # farther records came back, or every record but this one
        if k >= limit:
            return _Outcome.UNMEASURED
        k = min(4 * k, limit, size)
