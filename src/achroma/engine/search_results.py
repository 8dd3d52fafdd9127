"""Shaping Searches' pages into Chroma's column-major `SearchResult` dictionary.

One entry per Search, in batch order: `ids` always; `documents`, `embeddings`, `metadatas`
and `scores` a list where that Search selected the field (a metadata field counts for
`metadatas`), else None; `select` the fields in Chroma's order. A row's metadata is all of
it with `#metadata`, else only the selected fields it has, and None when that leaves none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from achroma.core.search_plan import DOCUMENT, EMBEDDING, METADATA, SCORE, SearchPlan
from achroma.engine.records import Row, decode_metadata


@dataclass(frozen=True)
class SearchOutcome:
    """One Search's page: (key, score) best first, and the rows of those keys, in order."""

    plan: SearchPlan
    page: list[tuple[int, float]]
    rows: list[Row]


def search_result(outcomes: list[SearchOutcome]) -> dict[str, Any]:
    result: dict[str, list[Any]] = {
        "ids": [],
        "documents": [],
        "embeddings": [],
        "metadatas": [],
        "scores": [],
        "select": [],
    }
    for outcome in outcomes:
        select = outcome.plan.select
        rows = outcome.rows
        fields = set(select) - {DOCUMENT, EMBEDDING, METADATA, SCORE}
        result["ids"].append([r.id for r in rows])
        result["documents"].append([r.document for r in rows] if DOCUMENT in select else None)
        result["embeddings"].append([_vector(r) for r in rows] if EMBEDDING in select else None)
        result["metadatas"].append(
            [_metadata(r, METADATA in select, fields) for r in rows]
            if METADATA in select or fields
            else None
        )
        result["scores"].append([score for _, score in outcome.page] if SCORE in select else None)
        result["select"].append(list(select))
    return result


def _vector(row: Row) -> list[float] | None:
    if row.embedding is None:
        return None
    values: list[float] = np.frombuffer(row.embedding, dtype=np.float32).tolist()
    return values


def _metadata(row: Row, everything: bool, fields: set[str]) -> dict[str, Any] | None:
    if row.metadata is None:
        return None
    metadata = decode_metadata(row.metadata)
    if not everything:
        metadata = {k: v for k, v in metadata.items() if k in fields}
    return metadata or None
