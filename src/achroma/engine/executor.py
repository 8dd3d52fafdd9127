"""The executor: carries out a `ReadPlan` against the store and the vector index.

    state check -> candidates (index, post-filter or SQLite) -> rank -> rows from SQLite

A read is one hand-off: the whole plan runs as one call on a read connection's thread
(`Store.run`), which checks the collection's state, searches the index and fetches the rows
with that connection. A plan cheaper than the hand-off (`is_quick`) runs on the loop's own
thread when no other read is in flight (`Store.run_inline`). On the event loop, a ranked
read first waits for the collection's pending index update (`Indexes.current`) and takes
the index's read lock, held until the call has finished (also when the read is cancelled,
see `store.call`).

No read misses an acknowledged write: the call searches only when the index has caught up
to the collection's `seq` it has just read from SQLite. Otherwise (another process wrote,
or a write of this process committed after the update was awaited) it returns `Behind`,
and the loop catches the index up to that seq (`Indexes.get`) and runs the call again,
asking no more than that seq of it, so a stream of writes cannot hold a read back.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

import numpy as np

from achroma.core.models import CollectionModel
from achroma.engine import ranking, reads, records
from achroma.engine.engine import Engine
from achroma.engine.index import Keys, VectorIndex, Vectors
from achroma.engine.planner import Candidates, ReadPlan
from achroma.engine.ranking import Ranked
from achroma.engine.reads import Row
from achroma.errors import InternalError, InvalidArgumentError


@dataclass(frozen=True)
class Outcome:
    """What a read found: a get's page, or each query's hits and the rows they name."""

    dimension: int | None
    rows: list[Row] = field(default_factory=list)
    hits: list[Ranked] | None = None
    rows_by_key: dict[int, Row] = field(default_factory=dict)


@dataclass(frozen=True)
class Behind:
    """The index had not caught up to the collection's `seq` (of `dimension`)."""

    seq: int
    dimension: int


def check_dimension(stored: int | None, given: int) -> int:
    """`given`, when the collection has no dimension yet or the same one."""
    if stored is not None and stored != given:
        raise InvalidArgumentError(
            f"Collection expecting embedding with dimension of {stored}, got {given}"
        )
    return given


# A read this small costs less than a hand-off to a thread, and may run on the event loop's
# own thread (`Store.run_inline`): an unfiltered search of this many queries and results, or
# a get of this many ids (or first records) with no other filter.
QUICK_QUERIES = 4
QUICK_RESULTS = 100


def is_quick(plan: ReadPlan) -> bool:
    """Whether `plan` is cheap whatever the collection's size (see QUICK_QUERIES)."""
    selection = plan.filter
    if plan.knn is not None:
        return (
            plan.candidates is Candidates.ALL
            and len(plan.knn.queries) <= QUICK_QUERIES
            and plan.knn.k <= QUICK_RESULTS
        )
    if selection.has_predicate or plan.offset:
        return False
    if selection.ids is not None:
        return len(selection.ids) <= QUICK_RESULTS
    return plan.limit is not None and plan.limit <= QUICK_RESULTS


async def execute(engine: Engine, collection: CollectionModel, plan: ReadPlan) -> Outcome:
    """Run `plan` on `collection`."""
    if plan.knn is None:
        run = engine.store.run_inline if is_quick(plan) else engine.store.run
        return await run(_page, str(collection.id), plan)
    return await _ranked(engine, collection, plan, None, fetch_rows=True)


async def nearest(
    engine: Engine, collection: CollectionModel, plan: ReadPlan, seq: int, dimension: int
) -> list[Ranked]:
    """The `plan.knn.k` nearest records passing `plan.filter` to each query, by the plan's
    candidate strategy, from an index caught up at least to `seq` (the collection's state,
    `seq` and `dimension`, read by the caller)."""
    outcome = await _ranked(engine, collection, plan, seq, fetch_rows=False)
    assert outcome.hits is not None
    return outcome.hits


async def _ranked(
    engine: Engine,
    collection: CollectionModel,
    plan: ReadPlan,
    needed: int | None,
    fetch_rows: bool,
) -> Outcome:
    """A ranked read, searching an index caught up to `needed` (None: to the seq the read
    finds in SQLite)."""
    assert plan.knn is not None
    store, indexes = engine.store, engine.indexes
    cid = str(collection.id)
    while True:
        index = await indexes.current(cid)
        if index is None:  # not open yet: open it (caught up) on the loop, as a write would
            seq, dimension = await records.collection_state(store.db, cid)
            if dimension is None:
                return Outcome(None, hits=[Ranked.empty() for _ in plan.knn.queries])
            check_dimension(dimension, plan.knn.queries.shape[1])
            index = await indexes.get(cid, collection.hnsw, dimension, seq)
        run = store.run_inline if is_quick(plan) else store.run
        async with index.lock.read():
            found = await run(_ranked_now, cid, plan, index, needed, fetch_rows)
        if isinstance(found, Outcome):
            return found
        needed = found.seq if needed is None else needed
        await indexes.get(cid, collection.hnsw, found.dimension, found.seq)


# --- on the read connection's thread ---


def _columns(plan: ReadPlan) -> dict[str, bool]:
    return dict(vars(plan.columns))  # dataclasses.asdict deep-copies: 20 us a read


def _page(conn: sqlite3.Connection, cid: str, plan: ReadPlan) -> Outcome:
    _, dimension = reads.collection_state(conn, cid)
    columns = _columns(plan)
    rows = reads.select_rows(conn, cid, plan.filter, plan.limit, plan.offset, columns)
    return Outcome(dimension, rows=rows)


def _ranked_now(
    conn: sqlite3.Connection,
    cid: str,
    plan: ReadPlan,
    index: VectorIndex,
    needed: int | None,
    fetch_rows: bool,
) -> Outcome | Behind:
    """The ranked read, with `index` under its read lock."""
    knn, selection = plan.knn, plan.filter
    assert knn is not None
    if plan.candidates is Candidates.ALL and fetch_rows:
        return _searched_first(conn, cid, plan, index, needed)
    seq, dimension = reads.collection_state(conn, cid)
    if dimension is None:  # (a collection with an index has a dimension)
        return Outcome(None, hits=[Ranked.empty() for _ in knn.queries])
    check_dimension(dimension, knn.queries.shape[1])
    if index.seq < (seq if needed is None else needed):
        return Behind(seq, dimension)
    if plan.ids_must_exist and selection.ids is not None:
        found = reads.existing(conn, cid, selection.ids)
        if len(found) != len(set(selection.ids)):
            raise InternalError("Error executing plan: Internal error: Error finding id")
    hits = _nearest_now(conn, cid, plan, index, dimension)
    if not fetch_rows:
        return Outcome(dimension, hits=hits)
    wanted = set().union(*(hit.keys.tolist() for hit in hits))
    columns = _columns(plan)
    return Outcome(dimension, hits=hits, rows_by_key=reads.rows_by_key(conn, wanted, columns))


def _searched_first(
    conn: sqlite3.Connection, cid: str, plan: ReadPlan, index: VectorIndex, needed: int | None
) -> Outcome | Behind:
    """An unfiltered ranked read in one statement after the search: the collection's state
    and the hits' rows come from one snapshot, and the hits stand if the index had caught
    up to that state (as when the state is read first: the index cannot move meanwhile)."""
    knn = plan.knn
    assert knn is not None
    check_dimension(index.dimension, knn.queries.shape[1])
    hits = ranking.nearest(index, knn.queries, knn.k, None, _no_loads)
    wanted = set().union(*(hit.keys.tolist() for hit in hits))
    (seq, dimension), rows = reads.state_and_rows(conn, cid, wanted, _columns(plan))
    if dimension is None:  # (a collection with an index has a dimension)
        return Outcome(None, hits=[Ranked.empty() for _ in knn.queries])
    check_dimension(dimension, knn.queries.shape[1])
    if index.seq < (seq if needed is None else needed):
        return Behind(seq, dimension)
    return Outcome(dimension, hits=hits, rows_by_key=rows)


def _no_loads(keys: list[int]) -> tuple[Keys, Vectors]:
    raise AssertionError("an unfiltered search loads no vectors")


def _nearest_now(
    conn: sqlite3.Connection, cid: str, plan: ReadPlan, index: VectorIndex, dimension: int
) -> list[Ranked]:
    assert plan.knn is not None
    knn, selection = plan.knn, plan.filter

    def load(keys: list[int]) -> tuple[Keys, Vectors]:
        return reads.vectors(conn, keys, dimension)

    def passing(keys: list[int]) -> set[int]:
        return reads.filter_keys(conn, keys, selection)

    if plan.candidates is Candidates.POST_FILTERED:
        hits = ranking.post_filtered(index, knn.queries, knn.k, passing)
        if hits is not None:
            return hits
    candidates = None
    if plan.candidates is not Candidates.ALL:
        keys = reads.select_keys(conn, cid, selection)
        candidates = np.asarray(keys, dtype=np.uint64)
    return ranking.nearest(index, knn.queries, knn.k, candidates, load)
