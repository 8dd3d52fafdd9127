"""Filters a careless or hostile caller sends: NUL in values and documents, NaN and
infinities, lone surrogates. Each answers as chromadb 1.5.9 does: the same records, or the
same error before anything is read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import achroma

chromadb = pytest.importorskip("chromadb")

SURROGATE = "a\ud800b"
NAN, INF = float("nan"), float("inf")

CASES: list[tuple[str, Any, Any]] = [
    ("in-with-nul", {"k": {"$in": ["v\x00w", "zz"]}}, None),
    ("nin-with-nul", {"k": {"$nin": ["v\x00w"]}}, None),
    ("eq-with-nul", {"k": "v\x00w"}, None),
    ("or-of-eq-with-nul", {"$or": [{"k": "v\x00w"}, {"k": "q"}]}, None),
    ("and-of-ne-with-nul", {"$and": [{"k": {"$ne": "v\x00w"}}, {"k": {"$ne": "q"}}]}, None),
    ("ne-with-nul", {"k": {"$ne": "v\x00w"}}, None),
    ("list-contains-nul", {"tags": {"$contains": "a\x00b"}}, None),
    ("gt-nan", {"n": {"$gt": NAN}}, None),
    ("eq-nan", {"n": NAN}, None),
    ("ne-nan", {"n": {"$ne": NAN}}, None),
    ("in-nan", {"n": {"$in": [NAN, 1.5]}}, None),
    ("gt-minus-inf", {"n": {"$gt": -INF}}, None),
    ("eq-inf", {"n": INF}, None),
    ("nan-deep-in-or", {"$or": [{"n": 1.5}, {"n": {"$lt": NAN}}]}, None),
    ("surrogate-value", {"k": SURROGATE}, None),
    ("surrogate-key", {SURROGATE: 1}, None),
    ("surrogate-in-list", {"k": {"$in": [SURROGATE]}}, None),
    ("document-contains-nul", None, {"$contains": "c\x00u"}),
    ("document-not-contains-nul", None, {"$not_contains": "c\x00u"}),
    ("document-contains-leading-nul", None, {"$contains": "\x00u"}),
    ("document-contains-surrogate", None, {"$contains": SURROGATE}),
    ("document-regex-nul", None, {"$regex": "c\x00u"}),
    ("document-regex-surrogate", None, {"$regex": SURROGATE}),
]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    found = {}
    chroma_client = chromadb.PersistentClient(str(tmp_path_factory.mktemp("chromadb")))
    achroma_client = achroma.EphemeralClient()
    for name, client in (("chromadb", chroma_client), ("achroma", achroma_client)):
        col = client.create_collection("hostile-filters", embedding_function=None)
        col.add(
            ids=["a\x00b", "plain", "n1", "l"],
            embeddings=[[1.0, 2.0], [2.0, 1.0], [0.0, 1.0], [1.0, 1.0]],
            metadatas=[{"k": "v\x00w"}, {"k": "x"}, {"n": 1.5}, {"tags": ["a\x00b", "c"]}],
            documents=["doc\x00ument", "plain doc", "nn", "ll"],
        )
        found[name] = col
    yield found
    achroma_client.delete_collection("hostile-filters")
    achroma_client.close()


def _outcome(call: Any) -> Any:
    try:
        return sorted(call()["ids"])
    except Exception as exc:
        return type(exc).__name__, str(exc)


@pytest.mark.parametrize(
    ("where", "where_document"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
@pytest.mark.parametrize("operation", ["get", "delete-of-nothing"])
def test_filter_answers_as_in_chromadb(
    pair: dict[str, Any], where: Any, where_document: Any, operation: str
) -> None:
    def run(col: Any) -> Any:
        if operation == "get":
            return _outcome(lambda: col.get(where=where, where_document=where_document))
        # Joined with a clause no record passes: the outcome is the error, or nothing.
        nothing = {"n": {"$lt": -1}}
        guarded = {"$and": [where, nothing]} if where is not None else nothing
        found = _outcome(
            lambda: {"ids": [col.delete(where=guarded, where_document=where_document)]}
        )
        return found, col.count()

    assert run(pair["achroma"]) == run(pair["chromadb"])


def test_filters_too_large_together_are_refused_before_sqlite_sees_them() -> None:
    # Each filter alone is within its limit; together they pass SQLite's default limit of
    # bound variables (32,766): achroma's own error, and nothing is deleted.
    client = achroma.EphemeralClient()
    col = client.get_or_create_collection("params-together", embedding_function=None)
    col.add(ids=["a", "b"], embeddings=[[1.0, 2.0], [2.0, 1.0]], metadatas=[{"n": 1}, {"n": 2}])
    where = {"$and": [{f"n{i}": {"$gt": -1}} for i in range(9_000)]}  # ranges on one key merge
    document = {"$and": [{"$not_contains": f"zz{i}"} for i in range(9_000)]}
    try:
        for call in (
            lambda: col.get(where=where, where_document=document),
            lambda: col.delete(where=where, where_document=document),
            lambda: col.query(query_embeddings=[[1.0, 2.0]], where=where, where_document=document),
        ):
            with pytest.raises(achroma.InvalidArgumentError, match="together"):
                call()
        assert col.count() == 2
    finally:
        client.delete_collection("params-together")
        client.close()
