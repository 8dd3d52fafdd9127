"""Shaping stored rows into Chroma's `GetResult` and `QueryResult` dictionaries.

Key order, types and empty shapes follow chromadb 1.5.9: plain dicts keyed `ids, embeddings,
documents, uris, included, data, metadatas` (+ `distances`), embeddings as float64 numpy
arrays, and None for every field that was not included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from achroma.core.models import GetResult, Include, Metadata, QueryResult
from achroma.engine.ranking import Ranked
from achroma.engine.records import Row, decode_metadata


def _metadata(row: Row) -> Metadata | None:
    """chromadb keeps a record's URI among its metadata, so a record with a URI and no
    metadata reads as {} there; achroma gives the same."""
    if row.metadata is not None:
        decoded: Metadata = decode_metadata(row.metadata)
        return decoded
    return {} if row.uri is not None else None


def _embeddings(rows: Sequence[Row], dimension: int | None) -> npt.NDArray[np.float64]:
    if not rows or dimension is None:
        return np.empty((0,), dtype=np.float64)
    flat = np.frombuffer(b"".join(r.embedding or b"" for r in rows), dtype=np.float32)
    return flat.reshape(len(rows), dimension).astype(np.float64)


def _fields(rows: Sequence[Row], include: Sequence[str], dimension: int | None) -> dict[str, Any]:
    return {
        "ids": [r.id for r in rows],
        "embeddings": _embeddings(rows, dimension) if "embeddings" in include else None,
        "documents": [r.document for r in rows] if "documents" in include else None,
        "uris": [r.uri for r in rows] if "uris" in include else None,
        "included": list(include),
        "data": None,
        "metadatas": [_metadata(r) for r in rows] if "metadatas" in include else None,
    }


def get_result(rows: Sequence[Row], include: list[Include], dimension: int | None) -> GetResult:
    result: GetResult = GetResult(**_fields(rows, include, dimension))  # type: ignore[typeddict-item]
    return result


def query_result(
    hits: Sequence[Ranked],
    rows: dict[int, Row],
    include: list[Include],
    dimension: int | None,
) -> QueryResult:
    """One result list per query, nearest first. Keys whose rows are gone (deleted by a
    concurrent write) are dropped."""
    found = [_kept(hit, rows) for hit in hits]
    # (no query: every field but ids is None, as in chromadb)
    wanted = set(include) if found else set()
    result = {
        "ids": [[r.id for r in kept] for kept, _ in found],
        "embeddings": [_embeddings(kept, dimension) for kept, _ in found]
        if "embeddings" in wanted
        else None,
        "documents": [[r.document for r in kept] for kept, _ in found]
        if "documents" in wanted
        else None,
        "uris": [[r.uri for r in kept] for kept, _ in found] if "uris" in wanted else None,
        "included": list(include),
        "data": None,
        "metadatas": [[_metadata(r) for r in kept] for kept, _ in found]
        if "metadatas" in wanted
        else None,
        "distances": [distances for _, distances in found] if "distances" in include else None,
    }
    shaped: QueryResult = QueryResult(**result)  # type: ignore[typeddict-item]
    return shaped


def _kept(hit: Ranked, rows: dict[int, Row]) -> tuple[list[Row], list[float]]:
    """A query's rows and distances, nearest first, without the keys whose rows are gone."""
    keys, distances = hit.keys.tolist(), hit.distances.tolist()
    if all(k in rows for k in keys):
        return [rows[k] for k in keys], distances
    kept = [(rows[k], d) for k, d in zip(keys, distances, strict=True) if k in rows]
    return [r for r, _ in kept], [d for _, d in kept]
