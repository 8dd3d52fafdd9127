"""Deep and wide filters run without hitting SQLite's parser limits, with chromadb's results.

chromadb 1.5.9 answers a `where` nested up to 62 levels (serde_json refuses deeper JSON:
"Invalid where clause") and an `$or` of up to about 900 clauses (then SQLite's "Expression
tree is too large"); within those, the two are compared side by side. Beyond them achroma
goes on (up to `MAX_DEPTH` levels, and as many clauses as fit in `MAX_PARAMETERS`), checked
against the reference model of tests/test_filters_property.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import achroma
from achroma.core.filters import MAX_DEPTH
from achroma.engine import reads as engine_reads
from achroma.errors import InvalidArgumentError
from test_filters_property import document_matches, matches

chromadb = pytest.importorskip("chromadb")

N = 300
METADATAS = [{"a": i, "b": i % 7, "s": f"s{i % 5}", "tags": [i % 3, i % 4]} for i in range(N)]
DOCUMENTS = [f"doc {i} {'even' if i % 2 == 0 else 'odd'}" for i in range(N)]
IDS = [f"id{i:03d}" for i in range(N)]
_names = itertools.count()


def deep_where(depth: int) -> dict[str, Any]:
    """`$or` and `$and` alternating, each nesting the next as its last clause."""
    where: dict[str, Any] = {"a": {"$gte": 150}}
    for level in range(depth):
        if level % 2:
            where = {"$and": [{"b": {"$ne": level % 7}}, where]}
        else:
            where = {"$or": [{"a": {"$lt": 2 * level}}, where]}
    return where


def deep_where_document(depth: int) -> dict[str, Any]:
    where: dict[str, Any] = {"$contains": "even"}
    for level in range(depth):
        if level % 2:
            where = {"$and": [{"$not_contains": f"doc {level} "}, where]}
        else:
            where = {"$or": [{"$contains": f"doc {level} "}, where]}
    return where


def wide_or(width: int) -> dict[str, Any]:
    """Alternatives on distinct keys, a few of them matching."""
    return {"$or": [{f"k{i}": i} for i in range(width)] + [{"b": 3}, {"a": {"$lt": 5}}]}


def wide_mixed_or(width: int) -> dict[str, Any]:
    """Ranges, list tests and compound clauses, none on the same key as another."""
    clauses: list[Any] = []
    for i in range(width):
        clauses.append(
            [
                {f"k{i}": {"$gt": i}},
                {"tags": {"$contains": i + 2}},
                {"$and": [{"a": i + 7}, {"b": {"$ne": 0}}]},
            ][i % 3]
        )
    return {"$or": clauses}


def unmergeable_or(width: int) -> dict[str, Any]:
    """Compound alternatives: none merges with another into one lookup."""
    return {"$or": [{"$and": [{f"k{i}": i}, {"b": {"$ne": i % 7}}]} for i in range(width)]}


def expected_ids(where: Any = None, where_document: Any = None) -> list[str]:
    return [
        IDS[i]
        for i in range(N)
        if (where is None or matches(METADATAS[i], where))
        and (where_document is None or document_matches(DOCUMENTS[i], where_document))
    ]


@pytest.fixture(scope="module")
def clients() -> Iterator[tuple[Any, Any]]:
    ours = achroma.EphemeralClient()
    yield chromadb.EphemeralClient(), ours
    ours.close()


def _filled(client: Any) -> Any:
    col = client.create_collection(f"limits-{next(_names)}", embedding_function=None)
    embeddings = np.random.default_rng(3).standard_normal((N, 4)).astype(np.float32)
    col.add(ids=IDS, embeddings=embeddings, metadatas=METADATAS, documents=DOCUMENTS)
    return col


@pytest.fixture(scope="module")
def pair(clients: tuple[Any, Any]) -> tuple[Any, Any]:
    return _filled(clients[0]), _filled(clients[1])


@pytest.fixture(scope="module")
def ours(clients: tuple[Any, Any]) -> Any:
    return _filled(clients[1])


def _query_ids(col: Any, **filters: Any) -> list[str]:
    result = col.query(query_embeddings=[[0.1, 0.2, 0.3, 0.4]], n_results=N, **filters)
    return sorted(result["ids"][0])


SIDE_BY_SIDE = [
    pytest.param({"where": deep_where(26)}, id="where-26-deep"),
    pytest.param({"where": deep_where(50)}, id="where-50-deep"),
    pytest.param({"where": deep_where(62)}, id="where-62-deep"),
    pytest.param({"where_document": deep_where_document(50)}, id="document-50-deep"),
    pytest.param({"where": {"$or": [{"a": i} for i in range(900)]}}, id="or-900-same-key"),
    pytest.param({"where": wide_or(500)}, id="or-500-keys"),
    pytest.param({"where": wide_mixed_or(600)}, id="or-600-mixed"),
    pytest.param({"where": {"$and": [{"a": {"$ne": i}} for i in range(900)]}}, id="and-900-ne"),
    pytest.param({"where": {"a": {"$in": list(range(0, 20_000, 2))}}}, id="in-10000"),
    pytest.param({"where": {"a": {"$nin": list(range(0, 20_000, 2))}}}, id="nin-10000"),
    pytest.param(
        {"where": deep_where(30), "where_document": deep_where_document(30)}, id="both-30-deep"
    ),
]


@pytest.mark.parametrize("filters", SIDE_BY_SIDE)
def test_get_with_deep_or_wide_filter_matches_chromadb(pair: Any, filters: Any) -> None:
    chroma, ours = pair
    assert ours.get(**filters)["ids"] == chroma.get(**filters)["ids"]


@pytest.mark.parametrize("filters", SIDE_BY_SIDE)
def test_query_with_deep_or_wide_filter_matches_chromadb(pair: Any, filters: Any) -> None:
    chroma, ours = pair
    assert _query_ids(ours, **filters) == _query_ids(chroma, **filters)


@pytest.mark.parametrize("filters", SIDE_BY_SIDE)
def test_delete_with_deep_or_wide_filter_matches_chromadb(
    clients: tuple[Any, Any], filters: Any
) -> None:
    chroma, ours = _filled(clients[0]), _filled(clients[1])
    chroma.delete(**filters)
    ours.delete(**filters)
    assert ours.get()["ids"] == chroma.get()["ids"]


BEYOND_CHROMADB = [
    pytest.param({"where": deep_where(100)}, id="where-100-deep"),
    pytest.param({"where": deep_where(MAX_DEPTH)}, id="where-max-deep"),
    pytest.param({"where_document": deep_where_document(MAX_DEPTH)}, id="document-max-deep"),
    pytest.param({"where": {"$or": [{"a": i} for i in range(2_000)]}}, id="or-2000-same-key"),
    pytest.param({"where": {"$or": [{"a": i} for i in range(10_000)]}}, id="or-10000-same-key"),
    pytest.param({"where": wide_or(2_000)}, id="or-2000-keys"),
    pytest.param({"where": wide_or(10_000)}, id="or-10000-keys"),
    pytest.param({"where": wide_mixed_or(2_000)}, id="or-2000-mixed"),
    pytest.param({"where": unmergeable_or(1_000)}, id="or-1000-compound"),
    pytest.param({"where": {"$and": [{f"k{i}": {"$ne": i}} for i in range(2_000)]}}, id="and"),
    pytest.param({"where": {"a": {"$in": list(range(100_000))}}}, id="in-100000"),
    # Range bounds on one key reduce to the deciding ones (9,000 would be 9,000 subqueries).
    pytest.param(
        {"where": {"$and": [{"a": {"$gt" if i % 2 else "$gte": i / 60}} for i in range(9_000)]}},
        id="and-9000-lower-bounds",
    ),
    pytest.param(
        {"where": {"$or": [{"a": {"$lt" if i % 2 else "$lte": i % 200}} for i in range(9_000)]}},
        id="or-9000-upper-bounds",
    ),
    pytest.param(
        {
            "where": {
                "$and": [
                    {"$or": [{"a": {"$lt": 40}}, {"a": {"$lte": 40}}, {"b": {"$gt": 5}}]},
                    {"a": {"$gte": 10}},
                    {"a": {"$gt": 10}},
                    {"b": {"$lte": 6}},
                ]
            }
        },
        id="bounds-mixed",
    ),
    pytest.param(
        {"where_document": {"$or": [{"$contains": f"doc {i} "} for i in range(0, 4_000, 3)]}},
        id="document-or-1334",
    ),
]


@pytest.mark.parametrize("filters", BEYOND_CHROMADB)
def test_get_with_filter_beyond_chromadb_limits_matches_reference_model(
    ours: Any, filters: Any
) -> None:
    assert ours.get(**filters)["ids"] == expected_ids(**filters)


@pytest.mark.parametrize("filters", BEYOND_CHROMADB)
def test_query_with_filter_beyond_chromadb_limits_matches_reference_model(
    ours: Any, filters: Any
) -> None:
    assert _query_ids(ours, **filters) == expected_ids(**filters)


def test_delete_with_filter_beyond_chromadb_limits_matches_reference_model(
    clients: tuple[Any, Any],
) -> None:
    col = _filled(clients[1])
    where = deep_where(100)
    col.delete(where=where)
    assert col.get()["ids"] == [i for i in IDS if i not in set(expected_ids(where))]


def test_post_filtered_query_tests_a_deep_filter_row_by_row(
    clients: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Enough records, most of them passing, for the query to filter the index's neighbours.
    n = 6_000
    rng = np.random.default_rng(5)
    col = clients[1].create_collection(f"limits-{next(_names)}", embedding_function=None)
    metadatas = [{"a": i % N, "b": i % 7} for i in range(n)]
    embeddings = rng.standard_normal((n, 4)).astype(np.float32)
    for start in range(0, n, 3_000):
        batch = slice(start, start + 3_000)
        ids = [str(i) for i in range(n)][batch]
        col.add(ids=ids, embeddings=embeddings[batch], metadatas=metadatas[batch])
    where = {"$or": [{"a": {"$gte": 10}}, deep_where(100)]}
    calls = []
    filter_keys = engine_reads.filter_keys

    def spy(*args: Any) -> set[int]:
        calls.append(args)
        return filter_keys(*args)

    monkeypatch.setattr(engine_reads, "filter_keys", spy)
    query = rng.standard_normal(4).astype(np.float32)
    result = col.query(query_embeddings=[query], n_results=5, where=where, include=["distances"])
    assert calls
    passing = [i for i in range(n) if matches(metadatas[i], where)]
    distances = ((embeddings[passing] - query) ** 2).sum(axis=1)
    assert result["ids"][0] == [str(passing[i]) for i in np.argsort(distances)[:5]]


def test_where_nested_deeper_than_the_limit_is_an_invalid_argument(ours: Any) -> None:
    with pytest.raises(InvalidArgumentError, match=f"where to nest .* at most {MAX_DEPTH}"):
        ours.get(where=deep_where(MAX_DEPTH + 1))


def test_where_document_nested_deeper_than_the_limit_is_an_invalid_argument(ours: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="where_document to nest"):
        ours.get(where_document=deep_where_document(MAX_DEPTH + 1))


@pytest.mark.parametrize("method", ["get", "query", "delete"])
def test_where_needing_too_many_sql_parameters_is_an_invalid_argument(
    ours: Any, method: str
) -> None:
    kwargs: dict[str, Any] = {"where": unmergeable_or(6_000)}
    if method == "query":
        kwargs["query_embeddings"] = [[0.0, 0.0, 0.0, 1.0]]
    with pytest.raises(InvalidArgumentError, match="Expected where to need at most"):
        getattr(ours, method)(**kwargs)
    assert ours.count() == N
