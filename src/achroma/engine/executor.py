"""The executor: carries out a `ReadPlan` against the store and the vector index.

    state check -> candidates (index, post-filter or SQLite) -> rank -> rows from SQLite

SQLite is read through one of the store's read connections for the whole plan; index
searches run in worker threads under the index's read lock, after the collection's pending
index update has landed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from achroma.core.models import CollectionModel
from achroma.engine import ranking, records
from achroma.engine.engine import Engine
from achroma.engine.index import Keys, Vectors
from achroma.engine.planner import Candidates, ReadPlan
from achroma.engine.ranking import Ranked
from achroma.engine.records import Row
from achroma.errors import InternalError, InvalidArgumentError


@dataclass(frozen=True)
class Outcome:
    """What a read found: a get's page, or each query's hits and the rows they name."""

    dimension: int | None
    rows: list[Row] = field(default_factory=list)
    hits: list[Ranked] | None = None
    rows_by_key: dict[int, Row] = field(default_factory=dict)


def check_dimension(stored: int | None, given: int) -> int:
    """`given`, when the collection has no dimension yet or the same one."""
    if stored is not None and stored != given:
        raise InvalidArgumentError(
            f"Collection expecting embedding with dimension of {stored}, got {given}"
        )
    return given


async def execute(engine: Engine, collection: CollectionModel, plan: ReadPlan) -> Outcome:
    """Run `plan` on `collection`."""
    db = engine.store.db
    cid = str(collection.id)
    selection = plan.filter
    columns = dataclasses.asdict(plan.columns)
    seq, dimension = await records.collection_state(db, cid)
    if plan.knn is None:
        rows = await records.select_rows(db, cid, selection, plan.limit, plan.offset, columns)
        return Outcome(dimension, rows=rows)
    knn = plan.knn
    if dimension is None:
        return Outcome(None, hits=[Ranked.empty() for _ in knn.queries])
    check_dimension(dimension, knn.queries.shape[1])
    if plan.ids_must_exist and selection.ids is not None:
        found = await records.existing(db, cid, selection.ids)
        if len(found) != len(set(selection.ids)):
            raise InternalError("Error executing plan: Internal error: Error finding id")
    hits = await nearest(engine, collection, plan, seq, dimension)
    wanted = {int(k) for hit in hits for k in hit.keys}
    rows_by_key = await records.rows_by_key(db, wanted, columns)
    return Outcome(dimension, hits=hits, rows_by_key=rows_by_key)


async def nearest(
    engine: Engine, collection: CollectionModel, plan: ReadPlan, seq: int, dimension: int
) -> list[Ranked]:
    """The `plan.knn.k` nearest records passing `plan.filter` to each query, by the plan's
    candidate strategy (the collection's state, `seq` and `dimension`, read by the caller)."""
    assert plan.knn is not None
    db = engine.store.db
    cid = str(collection.id)
    knn, selection = plan.knn, plan.filter
    await engine.indexes.settle(cid)
    index = await engine.indexes.get(cid, collection.hnsw, dimension, seq)

    async def load(keys: list[int]) -> tuple[Keys, Vectors]:
        return await records.vectors(db, keys, dimension)

    async def passing(keys: list[int]) -> set[int]:
        return await records.filter_keys(db, keys, selection)

    async with index.lock.read():
        if plan.candidates is Candidates.POST_FILTERED:
            hits = await ranking.post_filtered(index, knn.queries, knn.k, passing)
            if hits is not None:
                return hits
        candidates = None
        if plan.candidates is not Candidates.ALL:
            keys = await records.select_keys(db, cid, selection)
            candidates = np.asarray(keys, dtype=np.uint64)
        return await ranking.nearest(index, knn.queries, knn.k, candidates, load)
