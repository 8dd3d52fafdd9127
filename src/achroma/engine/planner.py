"""The query planner: a read request becomes a `ReadPlan` saying which records are
candidates, how they are ranked, how many are kept and which columns are fetched.

`executor.execute` carries a plan out. `get` and `query` are two front ends of the same plan
(a `get` has no rank); a Search's dense `$knn` lists are a third (`plan_knn`, see
`engine.search`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
import numpy.typing as npt

from achroma.core.models import Include
from achroma.core.requests import GetRequest, QueryRequest, RecordFilter


class Candidates(Enum):
    """Where a ranked read finds its candidates."""

    # Every record: the vector index alone answers.
    ALL = "all"
    # A metadata/document filter alone: the index's nearest neighbours are tested against it
    # in SQLite; when too few pass, the matching keys are resolved instead (RESOLVED).
    POST_FILTERED = "post_filtered"
    # The matching keys are resolved in SQLite first, then ranked among themselves (exactly
    # when they are few, by an oversampled index search otherwise).
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Knn:
    """Rank by distance to each query vector, keeping the `k` nearest."""

    queries: npt.NDArray[np.float32]
    k: int


@dataclass(frozen=True)
class Columns:
    """Which stored columns a read fetches besides the key and id."""

    embeddings: bool = False
    documents: bool = False
    uris: bool = False
    metadatas: bool = False

    @classmethod
    def for_include(cls, include: tuple[Include, ...]) -> Columns:
        return cls(
            embeddings="embeddings" in include,
            documents="documents" in include,
            # A record's URI also decides whether its missing metadata reads as {} or None.
            uris="uris" in include or "data" in include or "metadatas" in include,
            metadatas="metadatas" in include,
        )


@dataclass(frozen=True)
class ReadPlan:
    """What one read does: filter, candidate strategy, rank, page, selected fields."""

    filter: RecordFilter
    include: tuple[Include, ...]
    columns: Columns
    knn: Knn | None = None
    candidates: Candidates = Candidates.ALL
    # Chroma fails a query whose ids alone define the search when one of them is missing.
    ids_must_exist: bool = False
    limit: int | None = None
    offset: int | None = None


def plan_get(request: GetRequest) -> ReadPlan:
    """Records in insertion order, paged: no rank."""
    return ReadPlan(
        filter=request.filter,
        include=request.include,
        columns=Columns.for_include(request.include),
        limit=request.limit,
        offset=request.offset,
    )


def plan_query(request: QueryRequest) -> ReadPlan:
    """The `n_results` nearest of the records the filter lets through, per query."""
    selection = request.filter
    return ReadPlan(
        filter=selection,
        include=request.include,
        columns=Columns.for_include(request.include),
        knn=Knn(request.embeddings, request.n_results),
        candidates=_candidates(selection),
        ids_must_exist=selection.ids is not None and not selection.has_predicate,
    )


def plan_knn(selection: RecordFilter, queries: npt.NDArray[np.float32], k: int) -> ReadPlan:
    """A Search's dense `$knn` lists: the `k` nearest of the filtered records per query
    (the rows are fetched by the Search, after ranking)."""
    return ReadPlan(
        filter=selection,
        include=(),
        columns=Columns(),
        knn=Knn(queries, k),
        candidates=_candidates(selection),
    )


def _candidates(selection: RecordFilter) -> Candidates:
    if selection.is_all:
        return Candidates.ALL
    if selection.ids is None:
        return Candidates.POST_FILTERED
    return Candidates.RESOLVED
