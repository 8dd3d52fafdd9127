"""Carrying out `Collection.search`: each Search of a batch, on its own, in Chroma's order.

    filter -> each $knn over the filtered records -> rank -> group-by -> page -> select

Dense `$knn` lists come from `executor.nearest`, the same candidate strategies as `query`
(exact over few records, the index otherwise, with its recall); sparse ones from the
posting lists in SQLite (`records.sparse_dots`), scaled by BM25's IDF where the schema
asks for it. Without a rank, the filtered records come in insertion order.
"""

from __future__ import annotations

import math

import numpy as np

from achroma.core.models import CollectionModel
from achroma.core.search_plan import (
    DOCUMENT,
    EMBEDDING,
    SCORE,
    KnnRank,
    SearchPlan,
    SearchRequest,
)
from achroma.core.sparse import SparseVector
from achroma.engine import planner, records
from achroma.engine.engine import Engine
from achroma.engine.executor import check_dimension, nearest
from achroma.engine.search_rank import evaluate
from achroma.engine.search_results import SearchOutcome


async def search(
    engine: Engine, collection: CollectionModel, request: SearchRequest, bm25_keys: set[str]
) -> list[SearchOutcome]:
    """Each Search's page of (key, score) and the rows it selects. `bm25_keys`: the sparse
    keys whose queries are scaled by IDF."""
    return [await _one(engine, collection, plan, bm25_keys) for plan in request.searches]


async def _one(
    engine: Engine, collection: CollectionModel, plan: SearchPlan, bm25_keys: set[str]
) -> SearchOutcome:
    db = engine.store.db
    cid = str(collection.id)
    seq, dimension = await records.collection_state(db, cid)
    columns = _columns(plan)
    if plan.rank is None:
        rows = await records.select_rows(db, cid, plan.filter, plan.limit, plan.offset, columns)
        # Chroma scores an unranked page by position.
        return SearchOutcome(plan, [(r.key, float(i)) for i, r in enumerate(rows)], rows)
    lists: dict[int, dict[int, float]] = {}
    knns = plan.knns()
    dense = [knn for knn in knns if not knn.sparse]
    if dense:
        lists.update(await _dense(engine, collection, plan, dense, seq, dimension))
    for knn in knns:
        if knn.sparse:
            lists[id(knn)] = await _sparse(engine, cid, plan, knn, knn.key in bm25_keys)
    ranked = evaluate(plan.rank, lists)
    if plan.group_by is not None:
        ranked = await _grouped(engine, plan, ranked)
    end = None if plan.limit is None else plan.offset + plan.limit
    page = ranked[plan.offset : end]
    by_key = await records.rows_by_key(db, [k for k, _ in page], columns)
    # A record deleted by a concurrent write since it was ranked is dropped.
    page = [(k, s) for k, s in page if k in by_key]
    return SearchOutcome(plan, page, [by_key[k] for k, _ in page])


async def _dense(
    engine: Engine,
    collection: CollectionModel,
    plan: SearchPlan,
    knns: list[KnnRank],
    seq: int,
    dimension: int | None,
) -> dict[int, dict[int, float]]:
    """Each dense `$knn`'s nearest list: one index pass for all of them, at the widest limit."""
    if dimension is None:
        return {id(knn): {} for knn in knns}
    queries = np.stack([np.asarray(knn.query, dtype=np.float32) for knn in knns])
    check_dimension(dimension, queries.shape[1])
    widest = max(knn.limit for knn in knns)
    read = planner.plan_knn(plan.filter, queries, widest)
    hits = await nearest(engine, collection, read, seq, dimension)
    lists = {}
    for knn, hit in zip(knns, hits, strict=True):
        keys, distances = hit.keys[: knn.limit], hit.distances[: knn.limit]
        lists[id(knn)] = _scored(knn, [int(k) for k in keys], [float(d) for d in distances])
    return lists


async def _sparse(
    engine: Engine, cid: str, plan: SearchPlan, knn: KnnRank, bm25: bool
) -> dict[int, float]:
    """A sparse `$knn`'s list, scored `1 - q.d` (with BM25, q scaled by each term's IDF)."""
    assert isinstance(knn.query, SparseVector)
    db = engine.store.db
    weights = dict(zip(knn.query.indices, (float(v) for v in knn.query.values), strict=True))
    if bm25 and weights:
        total = await records.count(db, cid)
        having = await records.term_counts(db, cid, knn.key, list(weights))
        for term in weights:
            n = having.get(term, 0)
            weights[term] *= math.log(1 + (total - n + 0.5) / (n + 0.5))
    found = await records.sparse_dots(db, cid, plan.filter, knn.key, weights, knn.limit)
    return _scored(knn, [k for k, _ in found], [1.0 - dot for _, dot in found])


def _scored(knn: KnnRank, keys: list[int], measures: list[float]) -> dict[int, float]:
    if knn.return_rank:
        return {k: float(i) for i, k in enumerate(keys)}
    return dict(zip(keys, measures, strict=True))


async def _grouped(
    engine: Engine, plan: SearchPlan, ranked: list[tuple[int, float]]
) -> list[tuple[int, float]]:
    """The best `k` per group of equal metadata values, by the aggregate's keys, then all
    of them in score order again."""
    group_by = plan.group_by
    assert group_by is not None
    only_metadata = {"embeddings": False, "documents": False, "uris": False, "metadatas": True}
    rows = await records.rows_by_key(engine.store.db, [k for k, _ in ranked], only_metadata)
    groups: dict[tuple[object, ...], list[tuple[int, float, dict[str, object]]]] = {}
    for key, score in ranked:
        row = rows.get(key)
        if row is None:
            continue
        metadata = records.decode_metadata(row.metadata) if row.metadata else {}
        group = tuple(_orderable(metadata.get(k)) for k in group_by.keys)
        groups.setdefault(group, []).append((key, score, metadata))
    kept: list[tuple[int, float]] = []
    for members in groups.values():

        def order(member: tuple[int, float, dict[str, object]]) -> tuple[object, ...]:
            key, score, metadata = member
            return tuple(
                (1, score) if k == SCORE else _orderable(metadata.get(k))
                for k in group_by.order_keys
            )

        members.sort(key=order, reverse=group_by.descending)
        kept += [(key, score) for key, score, _ in members[: group_by.k]]
    kept.sort(key=lambda item: (math.isnan(item[1]), item[1], item[0]))
    return kept


def _orderable(value: object) -> tuple[object, ...]:
    """A sort key over metadata values of any type: None first, then numbers, then strings."""
    if value is None:
        return (0,)
    if isinstance(value, bool | int | float):
        return (1, float(value))
    return (2, str(value))


def _columns(plan: SearchPlan) -> dict[str, bool]:
    select = set(plan.select)
    return {
        "embeddings": EMBEDDING in select,
        "documents": DOCUMENT in select,
        "uris": False,
        # `#metadata`, or any metadata field (`#id` too: Chroma reads it as one).
        "metadatas": bool(select - {DOCUMENT, EMBEDDING, SCORE}),
    }
