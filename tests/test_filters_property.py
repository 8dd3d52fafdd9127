"""Property tests: `get` with filters and `query` against a brute-force reference model."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import achroma
from ranking import assert_exact_top_k

KEYS = ["a", "b", "c"]
WORDS = ["apple", "Apple", "pie", "a.c", "tart", "", 'say "hi"']
NUMBERS = st.one_of(st.integers(-3, 3), st.sampled_from([-1.5, 0.0, 1.0, 2.0, 2.5]))
SCALARS = st.one_of(st.sampled_from(["x", "y", "X", "1"]), NUMBERS, st.booleans())
LISTS = st.one_of(
    st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=3),
    st.lists(st.integers(-2, 2), min_size=1, max_size=3),
    st.lists(st.sampled_from([0.5, 1.0, 2.0]), min_size=1, max_size=3),
    st.lists(st.booleans(), min_size=1, max_size=2),
)
METADATA = st.one_of(
    st.none(), st.dictionaries(st.sampled_from(KEYS), st.one_of(SCALARS, LISTS), min_size=1)
)
DOCUMENT = st.one_of(st.none(), st.lists(st.sampled_from(WORDS), max_size=3).map(" ".join))

_counter = itertools.count()


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    c = achroma.EphemeralClient()
    yield c
    c.close()


def _embeddings(count: int, palette: int = 0, dim: int = 4) -> np.ndarray:
    """`count` random vectors; with a palette, each is one of its first `palette` (exact ties)."""
    rng = np.random.default_rng(count)
    vectors = rng.standard_normal((count, dim))
    if palette:
        vectors = vectors[rng.integers(min(palette, count), size=count)]
    return vectors


def _collection(client: Any, records: list[tuple[Any, Any]], palette: int = 0) -> Any:
    col = client.create_collection(f"prop-{next(_counter)}", embedding_function=None)
    if records:
        col.add(
            ids=[str(i) for i in range(len(records))],
            embeddings=_embeddings(len(records), palette),
            metadatas=[m for m, _ in records],
            documents=[d for _, d in records],
        )
    return col


# --- reference model of Chroma's filter semantics ---


def _same(stored: Any, operand: Any) -> bool:
    if isinstance(stored, list):
        return False
    if isinstance(stored, bool) or isinstance(operand, bool):
        return isinstance(stored, bool) and isinstance(operand, bool) and stored == operand
    if isinstance(stored, str) or isinstance(operand, str):
        return isinstance(stored, str) and isinstance(operand, str) and stored == operand
    return bool(stored == operand)


def matches(metadata: dict[str, Any] | None, where: dict[str, Any]) -> bool:
    ((key, value),) = where.items()
    if key == "$and":
        return all(matches(metadata, w) for w in value)
    if key == "$or":
        return any(matches(metadata, w) for w in value)
    op, operand = next(iter(value.items())) if isinstance(value, dict) else ("$eq", value)
    present = metadata is not None and key in metadata
    stored = metadata[key] if present and metadata is not None else None
    if op in ("$ne", "$nin", "$not_contains"):
        positive = {"$ne": "$eq", "$nin": "$in", "$not_contains": "$contains"}[op]
        return not matches(metadata, {key: {positive: operand}})
    if not present:
        return False
    if op == "$eq":
        return _same(stored, operand)
    if op == "$in":
        return any(_same(stored, o) for o in operand)
    if op == "$contains":
        return isinstance(stored, list) and any(
            type(x) is type(operand) and x == operand for x in stored
        )
    numeric = isinstance(stored, (int, float)) and not isinstance(stored, bool)
    if not numeric:
        return False
    return {
        "$gt": stored > operand,
        "$gte": stored >= operand,
        "$lt": stored < operand,
        "$lte": stored <= operand,
    }[op]


def document_matches(document: str | None, where: dict[str, Any]) -> bool:
    ((op, operand),) = where.items()
    if op == "$and":
        return all(document_matches(document, w) for w in operand)
    if op == "$or":
        return any(document_matches(document, w) for w in operand)
    if op.startswith("$not_"):
        return not document_matches(document, {"$" + op[5:]: operand})
    if document is None:
        return False
    if op == "$contains":
        return operand in document
    return re.search(operand, document) is not None


# --- filter strategies (only valid filters) ---

_COMPARISON = st.one_of(
    st.tuples(st.sampled_from(["$eq", "$ne"]), SCALARS),
    st.tuples(st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), NUMBERS),
    st.tuples(
        st.sampled_from(["$in", "$nin"]),
        st.one_of(
            st.lists(st.sampled_from(["x", "y", "1"]), min_size=1, max_size=3),
            st.lists(st.integers(-3, 3), min_size=1, max_size=3),
            st.lists(st.booleans(), min_size=1, max_size=2),
        ),
    ),
    st.tuples(st.sampled_from(["$contains", "$not_contains"]), SCALARS),
)
LEAF = st.builds(
    lambda key, comparison, bare: (
        {key: comparison[1]} if bare and comparison[0] == "$eq" else {key: dict([comparison])}
    ),
    st.sampled_from(KEYS),
    _COMPARISON,
    st.booleans(),
)
WHERE = st.recursive(
    LEAF,
    lambda inner: st.builds(
        lambda op, clauses: {op: clauses},
        st.sampled_from(["$and", "$or"]),
        st.lists(inner, min_size=2, max_size=3),
    ),
    max_leaves=5,
)
DOC_LEAF = st.builds(
    lambda op, word: {op: word},
    st.sampled_from(["$contains", "$not_contains", "$regex", "$not_regex"]),
    st.sampled_from(["apple", "Apple", "pie", ".", "a.c", "^t", "e$", "(?i)apple", '"hi"']),
)
WHERE_DOCUMENT = st.recursive(
    DOC_LEAF,
    lambda inner: st.builds(
        lambda op, clauses: {op: clauses},
        st.sampled_from(["$and", "$or"]),
        st.lists(inner, min_size=2, max_size=3),
    ),
    max_leaves=4,
)
RECORDS = st.lists(st.tuples(METADATA, DOCUMENT), max_size=25)
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(records=RECORDS, where=WHERE)
def test_get_where_matches_reference_model(client: Any, records: Any, where: Any) -> None:
    col = _collection(client, records)
    expected = [str(i) for i, (m, _) in enumerate(records) if matches(m, where)]
    assert col.get(where=where)["ids"] == expected
    client.delete_collection(col.name)


@SETTINGS
@given(records=RECORDS, where_document=WHERE_DOCUMENT)
def test_get_where_document_matches_reference_model(
    client: Any, records: Any, where_document: Any
) -> None:
    col = _collection(client, records)
    expected = [str(i) for i, (_, d) in enumerate(records) if document_matches(d, where_document)]
    assert col.get(where_document=where_document)["ids"] == expected
    client.delete_collection(col.name)


def _tied(x: float, y: float) -> bool:
    return math.isclose(x, y, rel_tol=1e-4, abs_tol=1e-6)


@SETTINGS
@given(
    records=RECORDS,
    where=WHERE,
    n_results=st.integers(1, 8),
    seed=st.integers(0, 100),
    palette=st.sampled_from([0, 0, 1, 2, 3]),
)
def test_filtered_query_equals_exact_search_on_the_filtered_subset(
    client: Any, records: Any, where: Any, n_results: int, seed: int, palette: int
) -> None:
    """Exact order where distances differ; tied runs (palette: many exact copies) as sets."""
    col = _collection(client, records, palette)
    query = np.random.default_rng(seed).standard_normal(4)
    result = col.query(
        query_embeddings=[query], where=where, n_results=n_results, include=["distances"]
    )
    stored = _embeddings(len(records), palette).astype(np.float32).astype(np.float64)
    distance = {
        str(i): float(((stored[i] - query) ** 2).sum())
        for i, (m, _) in enumerate(records)
        if matches(m, where)
    }
    assert_exact_top_k(result["ids"][0], distance, n_results, _tied)
    exact = sorted(distance.values())[:n_results]
    assert result["distances"][0] == pytest.approx(exact, rel=1e-4, abs=1e-6)
    client.delete_collection(col.name)


@pytest.mark.parametrize("space", ["l2", "cosine", "ip"])
def test_unfiltered_query_matches_exact_search_on_small_collections(
    client: Any, space: str
) -> None:
    rng = np.random.default_rng(7)
    data = rng.standard_normal((300, 16)).astype(np.float32)
    col = client.create_collection(
        f"exact-{space}", configuration={"hnsw": {"space": space}}, embedding_function=None
    )
    col.add(ids=[str(i) for i in range(len(data))], embeddings=data)
    queries = rng.standard_normal((20, 16)).astype(np.float32)
    result = col.query(query_embeddings=queries, n_results=10, include=["distances"])
    from achroma.engine.index import exact_distances

    exact = exact_distances(space, queries, data)
    for row, ids in enumerate(result["ids"]):
        expected = [str(i) for i in np.argsort(exact[row], kind="stable")[:10]]
        assert ids == expected
        assert result["distances"][row] == pytest.approx(
            np.sort(exact[row])[:10].tolist(), rel=1e-3, abs=1e-5
        )
